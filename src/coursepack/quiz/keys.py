"""Answer checking, with a readable key (instructor) or salted hashes (student copy).

A student's copy of the pre-lecture bank must give immediate feedback without
containing the answers: each question carries ``sha256(salt : quiz : question :
canonical answer)`` instead. Checking an answer hashes the student's canonical answer
the same way. (A determined student can still try every option, as with any
self-marking quiz; what matters is that no file lists the answers.)
"""

from __future__ import annotations

import hashlib
import itertools
import math
import secrets

from coursepack.quiz.bank import Bank, Question


def canonical(question: Question, answer) -> str:
    """One string per distinct answer, in the bank's original option order."""
    if question.type == "single":
        return str(int(answer))
    if question.type == "multiple":
        return ",".join(str(i) for i in sorted(int(a) for a in answer))
    if question.type == "truefalse":
        return "true" if answer else "false"
    value = float(answer)
    if question.tolerance > 0:
        # Hashes cannot compare distances: numbers are compared on a grid of the tolerance.
        return f"bucket:{math.floor(value / question.tolerance + 0.5)}"
    return f"{value:.10g}"


def answer_hash(salt: str, quiz_id: int, question: Question, answer) -> str:
    text = f"{salt}:{quiz_id}:{question.id}:{canonical(question, answer)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def is_correct(bank: Bank, question: Question, answer) -> bool:
    """Whether ``answer`` (original option indices, a bool or a number) is right."""
    if answer is None:
        return False
    if question.answer is not None:
        if question.type == "numeric":
            return abs(float(answer) - float(question.answer)) <= question.tolerance + 1e-9
        if question.type == "multiple":
            return sorted(int(a) for a in answer) == sorted(question.answer)
        if question.type == "truefalse":
            return bool(answer) is question.answer
        return int(answer) == question.answer
    return answer_hash(bank.salt, bank.id, question, answer) == question.answer_hash


# -- sealed explanations ------------------------------------------------------------
# An explanation names the answer, so a student's copy keeps it encrypted with a key
# derived from the correct answer. After an answer, the terminal finds the correct one
# among the finitely many possible answers (by their hashes) and opens the explanation;
# for a numeric question it opens only when the student's own answer was right.

def _key(salt: str, quiz_id: int, question: Question, answer) -> bytes:
    return hashlib.sha256(f"explain:{salt}:{quiz_id}:{question.id}:{canonical(question, answer)}".encode()).digest()


def _xor(data: bytes, key: bytes) -> bytes:
    stream = b"".join(hashlib.sha256(key + i.to_bytes(4, "big")).digest() for i in range(len(data) // 32 + 1))
    return bytes(a ^ b for a, b in zip(data, stream))


def seal(text: str, salt: str, quiz_id: int, question: Question, answer) -> str:
    return _xor(text.encode("utf-8"), _key(salt, quiz_id, question, answer)).hex()


def candidates(question: Question):
    """Every possible answer of a question with finitely many (None for numeric)."""
    n = question.option_count
    if question.type == "single":
        return list(range(n))
    if question.type == "truefalse":
        return [True, False]
    if question.type == "multiple":
        return [list(c) for k in range(1, n) for c in itertools.combinations(range(n), k)]
    return None


def explanation(bank: Bank, question: Question, lang: str, given=None) -> str | None:
    """The explanation to show after an answer (None if it cannot be opened here)."""
    if question.explanation:
        return question.explanation[lang]
    sealed = (question.explanation_sealed or {}).get(lang)
    if not sealed or not bank.salt:
        return None
    options = candidates(question)
    tries = options if options is not None else ([given] if given is not None else [])
    for answer in tries:
        if answer_hash(bank.salt, bank.id, question, answer) == question.answer_hash:
            return _xor(bytes.fromhex(sealed), _key(bank.salt, bank.id, question, answer)).decode("utf-8")
    return None

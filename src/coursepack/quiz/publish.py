"""The student's copy of a bank: questions without a readable answer key.

A quiz with immediate feedback (pre-lecture) keeps a salted hash of each answer, so
the student's terminal can say right or wrong, and each explanation sealed with a key
derived from the answer; a quiz graded later (post-lecture) keeps no trace of the
answers or the explanations at all.
"""

from __future__ import annotations

import json

from coursepack.quiz.bank import Bank
from coursepack.quiz.keys import answer_hash, new_salt, seal


def student_copy(bank: Bank, *, feedback: bool, salt: str | None = None) -> str:
    """JSON text of the bank as students get it."""
    salt = salt or new_salt()
    quiz = {"id": bank.id, "kind": bank.kind, "title": bank.title}
    if feedback:
        quiz["salt"] = salt
    questions = []
    for q in bank.questions:
        item = {"id": q.id, "type": q.type, "section": q.section, "prompt": q.prompt}
        if q.curriculum:
            item["curriculum"] = q.curriculum
        if q.options:
            item["options"] = q.options
        if q.type == "numeric":
            item["tolerance"] = q.tolerance
        if feedback:  # explanations name the answer: sealed with a key only the answer gives
            item["answer_hash"] = answer_hash(salt, bank.id, q, q.answer)
            item["explanation_sealed"] = {lang: seal(text, salt, bank.id, q, q.answer)
                                          for lang, text in q.explanation.items()}
        questions.append(item)
    return json.dumps({"quiz": quiz, "questions": questions}, indent=2, ensure_ascii=False) + "\n"

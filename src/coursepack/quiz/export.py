"""Export the banks to Moodle GIFT, one file holding both quizzes in one language.

GIFT keeps every type: multiple choice with percentage weights, numeric with its
tolerance, and the explanation as general feedback. (The curriculum quiz app's JSON is
:mod:`coursepack.quiz.quizapp`.)
"""

from __future__ import annotations

from coursepack.quiz.bank import Bank, Question


def to_gift(banks: list[Bank], lang: str) -> str:
    out = []
    for bank in sorted(banks, key=lambda b: b.id):
        out.append(f"$CATEGORY: {bank.title[lang]}\n")
        for q in bank.questions:
            out.append(_gift_question(q, lang))
    return "\n".join(out)


def _gift(text: str) -> str:
    for ch in "\\~=#{}:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def _gift_question(q: Question, lang: str) -> str:
    head = f"::{_gift(q.id)}::{_gift(q.prompt[lang])} "
    feedback = f"####{_gift(q.explanation[lang])}"
    if q.type == "single":
        body = " ".join(("=" if i == q.answer else "~") + _gift(o) for i, o in enumerate(q.options[lang]))
    elif q.type == "multiple":
        right = set(q.answer)
        wrong = q.option_count - len(right)
        parts = []
        for i, o in enumerate(q.options[lang]):
            weight = 100 / len(right) if i in right else -100 / wrong
            parts.append(f"~%{weight:.5g}%{_gift(o)}")
        body = " ".join(parts)
    elif q.type == "truefalse":
        body = "TRUE" if q.answer else "FALSE"
    else:
        body = f"#{q.answer:g}:{q.tolerance:g}"
    return f"{head}{{{body} {feedback}}}\n"


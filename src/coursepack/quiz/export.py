"""Export the banks: the curriculum's quiz-app JSON and Moodle GIFT.

The quiz app knows only single-click questions (one button per option, the right one
moves on). Our other types are mapped onto that, deterministically:

* true/false: two buttons, "true" and "false" (in the chosen language);
* multiple choice: one button per combination, "A + C" style: the correct set of
  options and three near misses (the correct set with one option added or removed);
* numeric: four buttons, the answer and three values derived from it (double, half,
  and the answer plus one), so the right value must be known, not guessed from a range.

GIFT keeps every type: multiple choice with percentage weights, numeric with its
tolerance, and the explanation as general feedback.
"""

from __future__ import annotations

import json

from .bank import Bank, Question

APP = {
    "en": {"title": "Attention mechanisms and Transformers: quizzes",
           "complete": "Well done, you finished the quiz!", "error": "Not this one, try again",
           "true": "true", "false": "false"},
    "zh": {"title": "注意力机制与 Transformer：测验",
           "complete": "太棒了，你完成了测验！", "error": "不对，再试一次",
           "true": "正确", "false": "错误"},
}


def to_quiz_app(banks: list[Bank], lang: str) -> str:
    """The quiz app's JSON: one element holding every quiz (ids 118 and 218)."""
    text = APP[lang]
    quizzes = [{"id": bank.id, "title": bank.title[lang],
                "quiz": [_app_question(q, lang) for q in bank.questions]}
               for bank in sorted(banks, key=lambda b: b.id)]
    data = [{"title": text["title"], "complete": text["complete"], "error": text["error"], "quizzes": quizzes}]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _app_question(q: Question, lang: str) -> dict:
    if q.type == "single":
        options = [(o, i == q.answer) for i, o in enumerate(q.options[lang])]
    elif q.type == "truefalse":
        options = [(APP[lang]["true"], q.answer is True), (APP[lang]["false"], q.answer is False)]
    elif q.type == "multiple":
        options = [(" + ".join(q.options[lang][i] for i in sorted(combo)), set(combo) == set(q.answer))
                   for combo in _combinations(q)]
    else:
        choices = _rotate(list(dict.fromkeys([float(q.answer), q.answer * 2, q.answer / 2, q.answer + 1])), q.id)
        options = [(f"{v:g}", v == q.answer) for v in choices]
    return {"questionText": q.prompt[lang],
            "answerOptions": [{"answerText": text, "isCorrect": bool(ok)} for text, ok in options]}


def _combinations(q: Question) -> list[tuple[int, ...]]:
    right = tuple(sorted(q.answer))
    n = q.option_count
    near = []
    for i in range(n):  # toggle one option: the near misses
        combo = tuple(sorted(set(right) ^ {i}))
        if combo and combo != right:
            near.append(combo)
    return _rotate([right] + near[:3], q.id)


def _rotate(items: list, key: str) -> list:
    """Move the first (right) item to a position that depends on the question id."""
    shift = sum(map(ord, key)) % len(items)
    return items[shift:] + items[:shift]


# -- GIFT ---------------------------------------------------------------------------

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


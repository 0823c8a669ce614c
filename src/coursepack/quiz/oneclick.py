"""Each question as the curriculum's quiz app asks it: one right button among a few.

The app shows a question's text and one button per option; the button whose option is
correct moves on, any other says "try again". It knows no other kind of question, so
every type of ours becomes exactly that, honestly:

* single choice: as in the bank (or in the short forms of ``[questions.app] options``);
* true/false: two buttons, "true" and "false" in the chosen language;
* multiple answers: one correct statement (``app.keep``) among all the false ones,
  under a prompt that asks for one (``app.prompt``). The other correct statements are
  left out, so that every button is a whole statement, right or wrong on its own, and
  no combination of buttons hints at the answer;
* numeric: a choice of values, the answer and ``app.distractors`` in increasing order,
  under a prompt that asks "which value" (``app.prompt``). Distractors must have the
  answer's form, so that "whole number" rules none of them out.

Subscript markup becomes Unicode subscripts (:mod:`coursepack.quiz.subscripts`), and
every text must fit a phone: at most :data:`OPTION_WIDTH` columns per button and
:data:`PROMPT_WIDTH` per question, a Chinese character counting as two columns (it is
about twice as wide). A question that cannot be shown this way is an error naming the
bank, the question and the fix, never a silently worse question.
"""

from __future__ import annotations

import math
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources

from coursepack.errors import CourseError
from coursepack.quiz.bank import Bank, Question
from coursepack.quiz.subscripts import leftover_markup, to_unicode

OPTION_WIDTH = 80      # about five lines of a button on a 390 px wide phone
PROMPT_WIDTH = 240


@dataclass(frozen=True)
class OneClick:
    """A question as the app shows it: its text and its buttons, exactly one of them right."""
    prompt: str
    options: tuple[tuple[str, bool], ...]

    def as_json(self) -> dict:
        return {"questionText": self.prompt,
                "answerOptions": [{"answerText": text, "isCorrect": right} for text, right in self.options]}


def app_texts(lang: str) -> dict[str, str]:
    """The app's own texts in ``lang`` (complete, error, true, false): a data file. (The
    lesson's title in the app is course data: ``[lesson] quiz_app_title``.)"""
    data = tomllib.loads((resources.files("coursepack.quiz") / "data" / "quiz_app.toml").read_text("utf-8"))
    return data[lang]


def width(text: str) -> int:
    """Display columns of ``text``: two for a wide (CJK) character, one for any other."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def one_click(bank: Bank, q: Question, lang: str) -> OneClick:
    """``q`` as one click in ``lang``; :class:`CourseError` when the bank lacks what that needs."""
    def fail(problem: str, fix: str):
        raise CourseError(f"question {q.id!r} ({lang}): {problem}", path=bank.path, fix=fix)

    app = q.app
    prompt = app.prompt[lang] if app and app.prompt else q.prompt[lang]
    texts = app.options[lang] if app and app.options else q.options.get(lang, [])
    if q.type == "single":
        options = [(text, i == q.answer) for i, text in enumerate(texts)]
    elif q.type == "truefalse":
        words = app_texts(lang)
        options = [(words["true"], q.answer is True), (words["false"], q.answer is False)]
    elif q.type == "multiple":
        if not (app and app.prompt):
            fail("a multiple-answer question is shown with one correct statement, and its prompt still asks "
                 "for all of them", 'add [questions.app] with prompt = { en = "... Pick one.", zh = "..." }')
        keep = app.keep if app.keep is not None else min(q.answer)
        options = [(text, i == keep) for i, text in enumerate(texts) if i == keep or i not in q.answer]
    else:
        if not (app and app.prompt and app.distractors):
            fail("a numeric question is shown as a choice of values, and it has no prompt or distractors for that",
                 'add [questions.app] with prompt = { en = "Which value ...?", zh = "..." } and distractors = '
                 "[likely wrong values]")
        options = _numeric_options(q, app.distractors, fail)
    prompt = to_unicode(prompt)
    options = [(to_unicode(text), right) for text, right in options]
    for text in [prompt, *(t for t, _ in options)]:
        if leftover_markup(text):
            fail(f"{', '.join(leftover_markup(text))} would show its markup as typed",
                 "write it with Unicode subscripts or in words in [questions.app]")
    if width(prompt) > PROMPT_WIDTH:
        fail(f"the prompt is {width(prompt)} columns wide, more than {PROMPT_WIDTH}",
             "write a shorter prompt in [questions.app]")
    for text, _ in options:
        if width(text) > OPTION_WIDTH:
            fail(f"the option {text[:30]!r}... is {width(text)} columns wide, more than {OPTION_WIDTH} "
                 "(too long for a button on a phone)", "write short forms of the options in [questions.app] options")
    return OneClick(prompt, tuple(options))


def _numeric_options(q: Question, distractors, fail) -> list[tuple[str, bool]]:
    answer = float(q.answer)
    whole = answer == math.floor(answer)
    values = sorted({answer, *distractors})
    if len(values) != len(distractors) + 1:
        fail("the distractors repeat a value or the answer", "list distinct wrong values")
    for value in distractors:
        if abs(value - answer) <= q.tolerance:
            fail(f"the distractor {value:g} is within the tolerance of the answer {answer:g}", "choose a wrong value")
        if (value == math.floor(value)) != whole:
            fail(f"the distractor {value:g} is not a {'whole' if whole else 'decimal'} number like the answer "
                 f"{answer:g}, so it is ruled out without knowing the answer", "give every distractor the answer's form")
    return [(f"{value:g}", value == answer) for value in values]

"""The curriculum quiz app's lesson file, ``lesson-N.json``, from our two banks.

The app (``etc/quiz-app`` in the curriculum's repository, a Vue site) imports one
``lesson-N.json`` per language folder and uses element ``[0]`` of its array: the app's
texts and a list of quizzes, each routed by its ``id``. The lesson's number N, its
title in the app and the quizzes' ids are course data (course.toml's ``[lesson]`` and
``[quizzes.*]``; this lesson's quizzes are 118 before it and 218 after it)::

    [{"title": ..., "complete": ..., "error": ...,
      "quizzes": [{"id": 118, "title": ..., "quiz": [{"questionText": ...,
                   "answerOptions": [{"answerText": ..., "isCorrect": true}, ...]}, ...]},
                  {"id": 218, ...}]}]

Each quiz holds ``questions`` questions of its bank (:mod:`coursepack.quiz.appselect`),
each made one click (:mod:`coursepack.quiz.oneclick`). The app as shipped stops after
3 questions, hence the default; newer copies count the questions of the quiz, and take
any number, or all of them.

The app shows options in the order given, always, so the place of the right button is
part of what a student sees. The banks spread their answers over the places, but a
few questions chosen from them need not: the export turns the options of each choice
question (keeping their cyclic order) so that the right one lands on the place used
least so far in the file, ties broken by the question's id. Over any number of
questions every place is then right about equally often, in both languages alike.
True/false keeps "true" first and values stay in increasing order.
"""

from __future__ import annotations

import hashlib
import json

from coursepack.errors import CourseError
from coursepack.quiz.appselect import select
from coursepack.quiz.bank import Bank, Question
from coursepack.quiz.oneclick import OneClick, app_texts, one_click

DEFAULT_QUESTIONS = 3


def parse_questions(value: str | int | None) -> int | None:
    """``--questions``: a positive whole number, or ``all`` (returned as ``None``)."""
    if value is None:
        return DEFAULT_QUESTIONS
    if str(value).strip().lower() == "all":
        return None
    try:
        count = int(str(value))
    except ValueError:
        count = 0
    if count < 1:
        raise CourseError(f"--questions {value} is neither a number of questions nor 'all'",
                          fix=f"use e.g. --questions {DEFAULT_QUESTIONS} (what the app as shipped shows) "
                              "or --questions all (for an app that counts the questions of each quiz)")
    return count


def to_quiz_app(banks: list[Bank], lang: str, questions: int | None = DEFAULT_QUESTIONS, *, title: str) -> str:
    """The lesson file's JSON text in ``lang``, ``questions`` per quiz (``None``: all);
    ``title`` is the lesson's title in the app (course.toml's ``[lesson] quiz_app_title``)."""
    for bank in banks:
        if questions is not None and questions > len(bank.questions):
            raise CourseError(f"quiz {bank.id} has {len(bank.questions)} questions, fewer than the "
                              f"{questions} asked for", path=bank.path,
                              fix=f"ask for at most {len(bank.questions)}, or --questions all")
    texts = app_texts(lang)
    used: dict[int, int] = {}
    quizzes = [{"id": bank.id, "title": bank.title[lang],
                "quiz": [_balanced(q, one_click(bank, q, lang), used).as_json() for q in select(bank, questions)]}
               for bank in sorted(banks, key=lambda b: b.id)]
    data = [{"title": title, "complete": texts["complete"], "error": texts["error"], "quizzes": quizzes}]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _balanced(q: Question, item: OneClick, used: dict[int, int]) -> OneClick:
    """``item`` with its options turned so that the right one is on the place (index)
    right least often so far; ``used`` counts the places and is updated."""
    if q.type not in ("single", "multiple"):
        return item
    n = len(item.options)
    fewest = min(used.get(i, 0) for i in range(n))
    places = [i for i in range(n) if used.get(i, 0) == fewest]
    place = places[int(hashlib.sha256(q.id.encode("utf-8")).hexdigest(), 16) % len(places)]
    used[place] = fewest + 1
    right = next(i for i, (_, ok) in enumerate(item.options) if ok)
    shift = (right - place) % n
    return OneClick(item.prompt, item.options[shift:] + item.options[:shift])

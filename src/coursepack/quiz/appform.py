"""A question's optional ``[questions.app]`` table: its wording for the curriculum's quiz app.

The quiz app shows one question at a time with one button per option, on screens as
narrow as a phone's, and moves on at the one right click. Most questions fit as they
are; the others say in their bank how they read there::

    [[questions]]
    id = "pre-seq2seq-tasks"
    type = "multiple"
    ...
    [questions.app]
    prompt = { en = "... Pick one.", zh = "……选出一项。" }   # the question worded for one click
    options = { en = ["...", ...], zh = ["...", ...] }    # short forms of every option, same order
    keep = 2                                              # multiple: the one correct option shown
    distractors = [12, 25, 49]                            # numeric: likely wrong values

* ``prompt`` replaces the bank's prompt in the app. A multiple-answer question needs
  one that asks for a single statement, a numeric question one that asks "which value".
* ``options`` replaces the options one for one (same count, same order, same answer);
  use it when an option is too long for a phone or gives itself away by its length.
* ``keep`` (multiple only) is the correct option the app shows; the other correct
  options are left out and every false one becomes a distractor. Default: the first
  correct option.
* ``distractors`` (numeric only) are the wrong values offered next to the answer: the
  results of likely mistakes, in the answer's own form (whole numbers for a whole-number
  answer).

The table is the instructor's: students' copies of a bank leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass

KEYS = {"prompt", "options", "keep", "distractors"}


@dataclass(frozen=True)
class AppForm:
    prompt: dict[str, str] | None = None
    options: dict[str, list[str]] | None = None
    keep: int | None = None
    distractors: tuple[float, ...] | None = None


def parse_app(raw, *, qtype: str, n_options: int, answer, where: str, fail, texts) -> AppForm | None:
    """Validate a question's ``app`` table; ``fail(where, problem, fix)`` raises, ``texts``
    reads an ``{ en, zh }`` table (both from :mod:`coursepack.quiz.bank`)."""
    if raw is None:
        return None
    where = f"{where} app"
    if not isinstance(raw, dict):
        fail(where, "must be a table", "write [questions.app] below the question")
    if set(raw) - KEYS:
        fail(where, f"unknown key {sorted(set(raw) - KEYS)[0]!r}", f"use only {sorted(KEYS)}")
    prompt = texts(raw["prompt"], f"{where} prompt", fail) if "prompt" in raw else None
    options = raw.get("options")
    if options is not None:
        if qtype not in ("single", "multiple"):
            fail(where, f"a {qtype} question has no options", "remove options")
        if (not isinstance(options, dict) or set(options) != {"en", "zh"}
                or any(not isinstance(options[lang], list) or len(options[lang]) != n_options
                       or not all(isinstance(o, str) and o.strip() for o in options[lang]) for lang in options)):
            fail(where, f"options must give {n_options} non-empty texts for each of en and zh, one per option "
                        "of the question, in the same order", "align the lists with the question's options")
        options = {lang: list(options[lang]) for lang in ("en", "zh")}
    keep = raw.get("keep")
    if keep is not None:
        if qtype != "multiple":
            fail(where, "keep is only for multiple-answer questions", "remove it")
        if isinstance(keep, bool) or not isinstance(keep, int) or (answer is not None and keep not in answer):
            fail(where, f"keep = {keep!r} is not one of the correct options {answer}",
                 "use the 0-based index of a correct option")
    distractors = raw.get("distractors")
    if distractors is not None:
        if qtype != "numeric":
            fail(where, "distractors are only for numeric questions", "remove them")
        if (not isinstance(distractors, list) or len(distractors) < 2
                or any(isinstance(d, bool) or not isinstance(d, (int, float)) for d in distractors)):
            fail(where, f"distractors = {distractors!r}", "list at least two wrong numbers, e.g. [12, 25, 49]")
        distractors = tuple(float(d) for d in distractors)
    return AppForm(prompt=prompt, options=options, keep=keep, distractors=distractors)

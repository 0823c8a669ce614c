"""Quiz banks: load and validate the TOML files in ``quizzes/``.

A bank is one quiz (the pre- or post-lecture one) with a pool of questions in English
and Chinese. What it must agree with is course data, in ``course.toml``: the quiz's
``[quizzes.<kind>]`` table (its id, its curriculum ideas) and the lesson's sections
(``[lesson.sections]``)::

    [quiz]
    id = 118                             # = id of course.toml's [quizzes.pre]
    kind = "pre"                         # pre | post
    title = { en = "...", zh = "..." }

    [[questions]]
    id = "pre-attention-weighting"       # stable and unique in the bank
    type = "single"                      # single | multiple | truefalse | numeric
    section = "attention"                # the lesson section it tests ([lesson.sections])
    curriculum = "weighting"             # optional: the curriculum idea it covers ([quizzes.pre] curriculum)
    tasks = ["additive"]                 # optional: ids of the course.toml tasks it tests
    prompt = { en = "...", zh = "..." }
    options = { en = ["..."], zh = ["..."] }   # single and multiple only
    answer = 1                           # index | [indices] | true/false | number
    tolerance = 0.0                      # numeric only
    explanation = { en = "...", zh = "..." }
    [questions.app]                      # optional: its wording for the quiz app
    prompt = { en = "...", zh = "..." }  # (see coursepack.quiz.appform)

A student's copy of a bank has no ``answer``: it carries ``answer_hash`` and the bank a
``salt`` instead (see :mod:`coursepack.quiz.keys`).

A bank alone cannot know the course's task ids; :func:`course_bank` loads a quiz's bank
together with its ``course.toml`` and refuses a question naming a task the course lacks.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from coursepack.course.config import LANGS, QUIZ_KINDS as KINDS, QuizConfig
from coursepack.errors import CourseError
from coursepack.quiz.appform import AppForm, parse_app

TYPES = ("single", "multiple", "truefalse", "numeric")
_QUIZ_KEYS = {"id", "kind", "title", "salt"}
_QUESTION_KEYS = {"id", "type", "section", "curriculum", "tasks", "prompt", "options", "answer", "answer_hash",
                  "tolerance", "explanation", "explanation_sealed", "app"}


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    section: str
    prompt: dict[str, str]
    explanation: dict[str, str] | None     # None in a student's copy (sealed or absent)
    options: dict[str, list[str]] = field(default_factory=dict)
    answer: object = None            # None in a student's copy
    answer_hash: str | None = None
    tolerance: float = 0.0
    curriculum: str | None = None
    explanation_sealed: dict[str, str] | None = None
    app: AppForm | None = None       # how the quiz app shows it; None: as in the bank
    tasks: tuple[str, ...] = ()      # ids of the course.toml tasks it tests (may be none)

    @property
    def option_count(self) -> int:
        return 2 if self.type == "truefalse" else len(self.options.get("en", []))


@dataclass(frozen=True)
class Bank:
    path: Path
    id: int
    kind: str
    title: dict[str, str]
    questions: tuple[Question, ...]
    salt: str | None = None
    curriculum: tuple[str, ...] = ()   # the quiz's curriculum ideas (course.toml), each covered by a draw
    sections: tuple[str, ...] = ()     # the lesson's sections (course.toml), in the lesson's order

    @property
    def has_answers(self) -> bool:
        return all(q.answer is not None for q in self.questions)

    @property
    def can_check(self) -> bool:
        """True when answers can be checked here: a readable key or salted hashes."""
        return all(q.answer is not None or (q.answer_hash and self.salt) for q in self.questions)

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)


def course_bank(course, kind: str) -> Bank:
    """The bank of the course's ``kind`` quiz, checked against its ``[quizzes.<kind>]``
    table and its questions' ``tasks`` against the task ids of ``course.toml`` (a
    :class:`~coursepack.course.config.Course`)."""
    config = course.quiz(kind)
    return load_bank(config.bank, config, task_ids=[t.id for t in course.tasks])


def load_bank(path: Path, quiz: QuizConfig, task_ids: Iterable[str] | None = None) -> Bank:
    """Read and validate a bank (TOML, or the JSON of a student copy) against ``quiz``,
    its table in course.toml; raise :class:`CourseError` naming the file, the question
    and the fix. With ``task_ids`` (the course's), every task a question names must be
    one of them."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        raise CourseError("quiz bank not found", path=path, fix="check [quizzes] in course.toml") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise CourseError(f"is not a valid bank file ({exc})", path=path,
                          fix="correct the syntax at the line shown") from None
    return parse_bank(raw, path, quiz, task_ids)


def parse_bank(raw: dict, path: Path, quiz_config: QuizConfig, task_ids: Iterable[str] | None = None) -> Bank:
    def fail(where: str, problem: str, fix: str):
        raise CourseError(f"{where}: {problem}", path=path, fix=fix)

    unknown = set(raw) - {"quiz", "questions"}
    if unknown:
        fail("top level", f"unknown table {sorted(unknown)[0]!r}", "keep only [quiz] and [[questions]]")
    quiz = raw.get("quiz")
    if not isinstance(quiz, dict):
        fail("top level", "missing the [quiz] table", "add [quiz] with id, kind and title")
    if set(quiz) - _QUIZ_KEYS:
        fail("[quiz]", f"unknown key {sorted(set(quiz) - _QUIZ_KEYS)[0]!r}", f"use only {sorted(_QUIZ_KEYS)}")
    kind = quiz.get("kind")
    if kind not in KINDS:
        fail("[quiz]", f"kind = {kind!r}", 'use kind = "pre" or "post"')
    table = f"[quizzes.{quiz_config.kind}]"
    if kind != quiz_config.kind:
        fail("[quiz]", f"kind = {kind!r}, but course.toml names this bank in {table}",
             f'set kind = "{quiz_config.kind}", or name the bank in [quizzes.{kind}] of course.toml')
    if quiz.get("id") != quiz_config.id:
        fail("[quiz]", f"id = {quiz.get('id')!r}, but course.toml's {table} gives this quiz the id {quiz_config.id}",
             f"set id = {quiz_config.id} (or correct id in {table} of course.toml)")
    sections, curriculum_ideas = quiz_config.sections, quiz_config.curriculum
    title = _texts(quiz.get("title"), "[quiz] title", fail)

    items = raw.get("questions")
    if not isinstance(items, list) or not items:
        fail("top level", "no [[questions]]", "add questions")
    questions, seen = [], set()
    for index, item in enumerate(items, start=1):
        qid = item.get("id") if isinstance(item, dict) else None
        where = f"question {qid!r}" if qid else f"question #{index}"
        if not isinstance(qid, str) or not qid:
            fail(where, "has no id", 'give it id = "..." (unique, stable)')
        if qid in seen:
            fail(where, "duplicate id", "give every question its own id")
        seen.add(qid)
        questions.append(_parse_question(item, qid, where, fail, kind=kind, table=table, sections=sections,
                                         curriculum_ideas=curriculum_ideas, task_ids=task_ids))
    salt = quiz.get("salt")
    if any(q.answer_hash for q in questions) and not salt:
        fail("[quiz]", "answer hashes need the bank's salt", "rebuild the student copy with `course quiz publish`")
    return Bank(path=path, id=quiz["id"], kind=kind, title=title, questions=tuple(questions), salt=salt,
                curriculum=curriculum_ideas, sections=sections)



def _parse_question(item: dict, qid: str, where: str, fail, *, kind: str, table: str, sections, curriculum_ideas,
                    task_ids: Iterable[str] | None) -> Question:
    """One [[questions]] table (its id already checked), against its quiz's course data."""
    extra = set(item) - _QUESTION_KEYS
    if extra:
        fail(where, f"unknown key {sorted(extra)[0]!r}", f"use only {sorted(_QUESTION_KEYS)}")
    qtype = item.get("type")
    if qtype not in TYPES:
        fail(where, f"type = {qtype!r}", f"use one of {', '.join(TYPES)}")
    section = item.get("section")
    if section not in sections:
        fail(where, f"section = {section!r} is not a lesson section",
             f"use one of {', '.join(sections)} (or add it to [lesson.sections] in course.toml)")
    curriculum = item.get("curriculum")
    if curriculum is not None and curriculum not in curriculum_ideas:
        fail(where, f"curriculum = {curriculum!r} is not an idea of the {kind}-lecture quiz",
             f"use one of {', '.join(curriculum_ideas) or '(none listed)'} or remove it (the ideas are "
             f"curriculum in {table} of course.toml)")
    tasks = _tasks(item.get("tasks", []), task_ids, where, fail)
    prompt = _texts(item.get("prompt"), f"{where} prompt", fail)
    explanation = None
    if "explanation" in item or "answer" in item:  # the instructor's bank explains every answer
        explanation = _texts(item.get("explanation"), f"{where} explanation", fail)
    options = _options(item, qtype, where, fail)
    answer, answer_hash = item.get("answer"), item.get("answer_hash")
    if answer is not None and answer_hash is not None:
        fail(where, "has both answer and answer_hash", "keep answer in the instructor's bank only")
    if answer is not None:
        _check_answer(qtype, answer, len(options.get("en", [])), where, fail)
    tolerance = item.get("tolerance", 0.0)
    if qtype != "numeric" and "tolerance" in item:
        fail(where, "tolerance is only for numeric questions", "remove it")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        fail(where, f"tolerance = {tolerance!r}", "use a number >= 0")
    app = parse_app(item.get("app"), qtype=qtype, n_options=len(options.get("en", [])), answer=answer,
                    where=where, fail=fail, texts=_texts)
    return Question(id=qid, type=qtype, section=section, prompt=prompt, explanation=explanation,
                    options={k: list(v) for k, v in options.items()}, answer=answer,
                    answer_hash=answer_hash, tolerance=float(tolerance), curriculum=curriculum,
                    explanation_sealed=item.get("explanation_sealed"), app=app, tasks=tasks)


def _options(item: dict, qtype: str, where: str, fail) -> dict:
    """The options of a single- or multiple-answer question, the same count in every language."""
    options = {}
    if qtype in ("single", "multiple"):
        options = item.get("options")
        if not isinstance(options, dict) or set(options) != set(LANGS):
            fail(where, "options must give a list for each of en and zh", "add options = { en = [...], zh = [...] }")
        counts = {len(options[lang]) for lang in LANGS}
        if len(counts) != 1 or counts.pop() < 2:
            fail(where, "options need the same number (at least 2) in every language", "align the option lists")
        for lang in LANGS:
            if not all(isinstance(o, str) and o.strip() for o in options[lang]):
                fail(where, f"an {lang} option is empty", "write every option in both languages")
    elif "options" in item:
        fail(where, f"a {qtype} question has no options", "remove options")
    return options


def _tasks(value, task_ids: Iterable[str] | None, where: str, fail) -> tuple[str, ...]:
    if (not isinstance(value, list) or not all(isinstance(t, str) and t for t in value)
            or len(set(value)) != len(value)):
        fail(where, f"tasks = {value!r} must be a list of distinct task ids", 'write e.g. tasks = ["sdpa"], or leave it out')
    if task_ids is not None:
        known = list(task_ids)
        for task_id in value:
            if task_id not in known:
                fail(where, f"tasks names {task_id!r}, which is not a task of course.toml",
                     f"use task ids of course.toml ({', '.join(known)}) or remove it")
    return tuple(value)


def _texts(value, where: str, fail) -> dict[str, str]:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) or not value[lang].strip()
                                          for lang in LANGS):
        fail(where, "needs a non-empty text for each of en and zh", f'write {where.split()[-1]} = {{ en = "...", zh = "..." }}')
    return {lang: value[lang] for lang in LANGS}


def _check_answer(qtype: str, answer, n_options: int, where: str, fail) -> None:
    if qtype == "single":
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < n_options:
            fail(where, f"answer = {answer!r} is not an option index 0..{n_options - 1}", "use the 0-based index")
    elif qtype == "multiple":
        if (not isinstance(answer, list) or not answer or len(set(answer)) != len(answer)
                or any(isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < n_options for a in answer)):
            fail(where, f"answer = {answer!r} must list distinct option indices 0..{n_options - 1}",
                 "use e.g. answer = [0, 2]")
        if len(answer) == n_options:
            fail(where, "every option is correct", "add a wrong option or make it a true/false question")
    elif qtype == "truefalse":
        if not isinstance(answer, bool):
            fail(where, f"answer = {answer!r}", "use answer = true or answer = false")
    elif isinstance(answer, bool) or not isinstance(answer, (int, float)):
        fail(where, f"answer = {answer!r} is not a number", "use a number")


def coverage_problems(bank: Bank) -> list[str]:
    """What a bank lacks: the curriculum ideas of its kind it leaves uncovered."""
    covered = {q.curriculum for q in bank.questions}
    return [f"{bank.path}: no question covers the curriculum idea {idea!r}"
            for idea in bank.curriculum if idea not in covered]

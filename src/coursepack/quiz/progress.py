"""A student's answers to one quiz, saved after every answer so nothing is lost.

The file lives in the student's work folder (``quiz_answers/<kind>.json``), so it is
part of what they submit. Answers are stored in the bank's original option order.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from coursepack.errors import CourseError
from coursepack.fileio import write_atomic
from coursepack.quiz.bank import Bank
from coursepack.reports.render import pts
from coursepack.quiz.draw import Drawn, draw


@dataclass
class Progress:
    quiz: int
    kind: str
    student: str
    lang: str
    questions: list[str]
    orders: dict[str, list[int]]
    answers: dict[str, object] = field(default_factory=dict)
    feedback: dict[str, bool] = field(default_factory=dict)   # pre-lecture quiz: was it right?

    @property
    def finished(self) -> bool:
        return all(q in self.answers for q in self.questions)

    def drawn(self, bank: Bank) -> list[Drawn]:
        return [Drawn(bank.question(q), tuple(self.orders[q])) for q in self.questions]


MAX_BYTES = 1_000_000


def read_progress(path: Path) -> Progress:
    """A saved answers file, checked field by field; CourseError when it is not one."""
    def bad(problem: str):
        raise CourseError(f"is not a quiz answers file ({problem})", path=path,
                          fix="move it away and take the quiz again")

    if path.is_symlink() or not path.is_file():
        bad("not a regular file")
    if path.stat().st_size > MAX_BYTES:
        bad("too large")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        bad(f"not JSON: {exc}")
    if not isinstance(data, dict):
        bad("not a JSON object")
    types = {"quiz": int, "kind": str, "student": str, "lang": str, "questions": list, "orders": dict,
             "answers": dict, "feedback": dict}
    for key, kind in types.items():
        if key not in data and key in ("answers", "feedback"):
            data[key] = {}
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            bad(f"{key} should be {dict(int='an integer', str='a string', list='a list', dict='an object')[kind.__name__]}")
    extra = set(data) - set(types)
    if extra:
        bad(f"unknown field {sorted(extra)[0]!r}")
    if not all(isinstance(q, str) for q in data["questions"]) or not all(
            isinstance(v, list) and all(isinstance(i, int) for i in v) for v in data["orders"].values()):
        bad("questions or orders malformed")
    if set(data["orders"]) != set(data["questions"]):
        bad("orders do not match the questions")
    if not all(isinstance(v, bool) for v in data["feedback"].values()):
        bad("feedback malformed")
    if data["lang"] not in ("en", "zh"):
        data["lang"] = "en"
    return Progress(**data)


def saved_progress(work: Path, kind: str) -> tuple[Progress | None, str | None]:
    """A student's saved answers to one quiz: (progress, None), (None, None) when the quiz
    is not started, or (None, the problem) when the file is not a readable answers file."""
    path = answers_path(work, kind)
    if not (path.exists() or path.is_symlink()):
        return None, None
    try:
        return read_progress(path), None
    except CourseError as exc:
        return None, str(exc)


def answers_path(work: Path, kind: str) -> Path:
    return Path(work) / "quiz_answers" / f"{kind}.json"


def start_or_resume(path: Path, bank: Bank, student: str, lang: str | None, count: int, *,
                    default_lang: str = "en") -> Progress:
    """The saved progress for this quiz, or a fresh draw for ``student``.

    ``lang`` (None: keep the saved language, else ``default_lang``) switches the language."""
    if path.exists() or path.is_symlink():
        progress = read_progress(path)
        if progress.quiz != bank.id:
            raise CourseError(f"the saved answers belong to quiz {progress.quiz}, not {bank.id}", path=path,
                              fix="move the file away to start this quiz")
        unknown = [q for q in progress.questions if q not in {x.id for x in bank.questions}]
        if unknown:
            raise CourseError(f"the saved answers name questions the bank no longer has ({unknown[0]})",
                              path=path, fix="move the file away to start the quiz again")
        progress.lang = lang or progress.lang
        return progress
    drawn = draw(bank, student, count)
    return Progress(quiz=bank.id, kind=bank.kind, student=student, lang=lang or default_lang,
                    questions=[d.question.id for d in drawn],
                    orders={d.question.id: list(d.order) for d in drawn})


def save(path: Path, progress: Progress) -> None:
    write_atomic(path, json.dumps(asdict(progress), indent=2, ensure_ascii=False) + "\n")


def quiz_status(course) -> list[tuple[str, bool]]:
    """One line per quiz for ``course status`` (how far the student is), with whether the
    line reports a problem (an unreadable answers file)."""
    lines = []
    for kind, config in course.quizzes.items():
        progress, problem = saved_progress(course.assignments, kind)
        if problem:
            lines.append((f"Quiz {kind}: {problem}", True))
        elif progress is None:
            lines.append((f"Quiz {kind}: not started (`course quiz {kind}`)", False))
        else:
            answered = f"{len(progress.answers)} of {len(progress.questions)} answered"
            if progress.feedback:
                answered += f", {sum(progress.feedback.values())} right"
            if config.feedback == "deferred":
                answered += f" (graded with the hidden tests, {pts(config.points)} points)"
            lines.append((f"Quiz {kind}: {answered}", False))
    return lines

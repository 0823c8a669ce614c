"""Grade the quiz answers found in a submission, on the instructor's side.

The answers file records which questions the student was given; the grader draws
again for the same student and accepts the file only when the two agree, so editing
the file to pick easier questions gains nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from ..config import Course
from ..errors import CourseError
from ..results import TaskSummary, TestResult
from .bank import load_bank
from .draw import draw
from .keys import is_correct
from .progress import Progress, answers_path


def grade_quizzes(course: Course, submission, only: set[str] | None = None
                  ) -> tuple[list[TestResult], list[TaskSummary]]:
    """One result per quiz of course.toml (or those of ``only`` named ``quiz-<kind>``)."""
    tests, summaries = [], []
    for kind, config in course.quizzes.items():
        if only is not None and f"quiz-{kind}" not in only:
            continue
        result = grade_quiz(course, submission, kind)
        tests.append(result)
        summaries.append(TaskSummary(id=result.task, title=f"{kind}-lecture quiz", framework="quiz",
                                     score=result.score, max_score=result.max_score,
                                     passed=int(result.passed), failed=int(not result.passed)))
    return tests, summaries


def grade_quiz(course: Course, submission, kind: str) -> TestResult:
    config = course.quiz(kind)
    bank = load_bank(config.bank)
    path = answers_path(submission, kind)
    name = f"quiz {kind} ({bank.id})"
    base = dict(name=name, task=f"quiz-{kind}", framework="quiz", visibility="hidden",
                max_score=float(config.points))
    if not path.is_file():
        return TestResult(passed=False, score=0.0, message=f"no answers: take it with `course quiz {kind}`", **base)
    try:
        progress = Progress(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        return TestResult(passed=False, score=0.0, message=f"the answers file cannot be read ({exc})", **base)
    expected = draw(bank, progress.student, config.draw)
    if [d.question.id for d in expected] != progress.questions:
        return TestResult(passed=False, score=0.0, **base,
                          message=f"the answers do not belong to the quiz drawn for {progress.student!r}: "
                                  f"take it again with `course quiz {kind}`")
    right = 0
    for qid in progress.questions:
        try:
            right += is_correct(bank, bank.question(qid), progress.answers.get(qid))
        except (TypeError, ValueError):
            pass  # a malformed answer counts as wrong
    total = len(progress.questions)
    score = config.points * right / total if total else 0.0
    return TestResult(passed=right == total, score=score, seconds=0.0, **base,
                      message=f"{right} of {total} answers correct ({len(progress.answers)} answered)")


def reference_answers(course: Course, kind: str, student: str = "reference") -> dict:
    """A complete, all-correct answers file for ``student`` (the reference submission's)."""
    config = course.quiz(kind)
    bank = load_bank(config.bank)
    if not bank.has_answers:
        raise CourseError("this bank has no answers", path=config.bank, fix="use the instructor's bank")
    drawn = draw(bank, student, config.draw)
    progress = Progress(quiz=bank.id, kind=kind, student=student, lang="en",
                        questions=[d.question.id for d in drawn], orders={d.question.id: list(d.order) for d in drawn},
                        answers={d.question.id: d.question.answer for d in drawn})
    return asdict(progress)

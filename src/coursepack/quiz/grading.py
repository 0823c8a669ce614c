"""Grade the quiz answers found in a submission, on the instructor's side.

The answers file records which questions the student was given; the grader draws
again for the same student and accepts the file only when the two agree, so editing
the file to pick easier questions gains nothing.
"""

from __future__ import annotations

from dataclasses import asdict

from ..config import Course
from ..errors import CourseError
from ..results import TaskSummary, TestResult
from .bank import load_bank
from .draw import draw
from .keys import is_correct
from .progress import Progress, answers_path, read_progress


def grade_quizzes(course: Course, submission, only: set[str] | None = None, student: str | None = None
                  ) -> tuple[list[TestResult], list[TaskSummary]]:
    """One result per quiz of course.toml (or those of ``only`` named ``quiz-<kind>``).

    ``student``, when the grader knows who submitted (a manifest, an LMS), must be the
    student the answers were drawn for: a classmate's answers file gains nothing."""
    tests, summaries = [], []
    for kind, config in course.quizzes.items():
        if only is not None and f"quiz-{kind}" not in only:
            continue
        result = grade_quiz(course, submission, kind, student)
        tests.append(result)
        summaries.append(TaskSummary(id=result.task, title=f"{kind}-lecture quiz", framework="quiz",
                                     score=result.score, max_score=result.max_score,
                                     passed=int(result.passed), failed=int(not result.passed)))
    return tests, summaries


def grade_quiz(course: Course, submission, kind: str, student: str | None = None) -> TestResult:
    config = course.quiz(kind)
    bank = load_bank(config.bank)
    path = answers_path(submission, kind)
    name = f"quiz {kind} ({bank.id})"
    base = dict(name=name, task=f"quiz-{kind}", framework="quiz", visibility="hidden",
                max_score=float(config.points))
    if not (path.exists() or path.is_symlink()):
        if not config.points:
            return TestResult(passed=True, score=0.0, **base,
                              message=f"not taken (no points, for your own practice: `course quiz {kind}`)")
        return TestResult(passed=False, score=0.0, message=f"no answers: take it with `course quiz {kind}`", **base)
    try:
        progress = read_progress(path)
    except CourseError as exc:
        return TestResult(passed=False, score=0.0, message=str(exc).replace(str(path), f"quiz_answers/{kind}.json"),
                          **base)
    if student is not None and progress.student != student:
        return TestResult(passed=False, score=0.0, **base,
                          message=f"the answers were drawn for {progress.student!r}, not for {student!r}")
    expected = draw(bank, progress.student, config.draw)
    if [d.question.id for d in expected] != progress.questions:
        return TestResult(passed=False, score=0.0, **base,
                          message=f"the answers do not belong to the quiz drawn for {progress.student!r}: "
                                  f"take it again with `course quiz {kind}`")
    formative = not config.points  # no points to lose: reported, never a failure
    right = 0
    for qid in progress.questions:
        try:
            right += is_correct(bank, bank.question(qid), progress.answers.get(qid))
        except (TypeError, ValueError, AttributeError):
            pass  # a malformed answer counts as wrong
    total = len(progress.questions)
    score = config.points * right / total if total else 0.0
    message = f"{right} of {total} answers correct ({len(progress.answers)} answered)"
    return TestResult(passed=formative or right == total, score=score, seconds=0.0, **base,
                      message=message + ("; no points, for your own practice" if formative else ""))


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

"""Grade the quiz answers found in a submission, on the instructor's side.

The answers file records which questions the student was given; the grader draws
again for the same student and accepts the file only when the two agree, so editing
the file to pick easier questions gains nothing.
"""

from __future__ import annotations

from dataclasses import asdict

from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.reports.results import TaskSummary, TestResult
from coursepack.quiz.bank import course_bank
from coursepack.quiz.draw import draw
from coursepack.quiz.keys import is_correct
from coursepack.quiz.progress import Progress, answers_path, read_progress


def grade_quizzes(course: Course, submission, only: set[str] | None = None, student: str | None = None,
                  refusal: str | None = None) -> tuple[list[TestResult], list[TaskSummary]]:
    """One result per quiz of course.toml (or those of ``only`` named ``quiz-<kind>``).

    ``student``, when the grader knows who submitted (a manifest, an LMS), must be the
    student the answers were drawn for: a classmate's answers file gains nothing.
    ``refusal``, when given, scores every quiz 0 with that reason (e.g. the platform and
    the manifest name different students)."""
    tests, summaries = [], []
    for kind, config in course.quizzes.items():
        if only is not None and f"quiz-{kind}" not in only:
            continue
        result = grade_quiz(course, submission, kind, student, refusal)
        tests.append(result)
        summaries.append(quiz_summary(kind, result.max_score, result.score, int(result.passed), int(not result.passed)))
    return tests, summaries


def quiz_summary(kind: str, max_score: float, score: float = 0.0, passed: int = 0, failed: int = 0) -> TaskSummary:
    """A quiz's row among a report's tasks (``quiz-pre``, ``quiz-post``)."""
    return TaskSummary(id=f"quiz-{kind}", title=f"{kind}-lecture quiz", framework="quiz", score=score,
                       max_score=max_score, passed=passed, failed=failed)


def answers_student(course: Course, submission) -> str | None:
    """Whom the submission's first readable quiz answers file says it was drawn for."""
    for kind in course.quizzes:
        path = answers_path(submission, kind)
        try:
            return read_progress(path).student
        except CourseError:
            continue
    return None


def grade_quiz(course: Course, submission, kind: str, student: str | None = None,
               refusal: str | None = None) -> TestResult:
    config = course.quiz(kind)
    bank = course_bank(course, kind)
    path = answers_path(submission, kind)
    name = f"quiz {kind} ({bank.id})"
    formative = not config.points  # no points to lose: reported, never a failure

    def result(passed: bool, message: str, score: float = 0.0, refused: bool = False) -> TestResult:
        if formative:
            message += "; no points, for your own practice"
        return TestResult(name=name, task=f"quiz-{kind}", framework="quiz", visibility="hidden",
                          max_score=float(config.points), passed=passed or formative, score=score, message=message,
                          refused=refused)

    if refusal:
        return result(False, refusal, refused=True)

    if not (path.exists() or path.is_symlink()):
        return result(False, f"no answers: take it with `course quiz {kind}`", refused=True)
    try:
        progress = read_progress(path)
    except CourseError as exc:
        return result(False, str(exc).replace(str(path), f"quiz_answers/{kind}.json"), refused=True)
    if student is not None and progress.student != student:
        return result(False, f"the answers were drawn for {progress.student!r}, not for {student!r} (who submitted): "
                             f"take the quiz with `course quiz {kind} --student {student}`", refused=True)
    expected = draw(bank, progress.student, config.draw)
    if [d.question.id for d in expected] != progress.questions:
        return result(False, f"the answers do not belong to the quiz drawn for {progress.student!r}: "
                             f"take it again with `course quiz {kind}`", refused=True)
    right = 0
    for qid in progress.questions:
        try:
            right += is_correct(bank, bank.question(qid), progress.answers.get(qid))
        except (TypeError, ValueError, AttributeError):
            pass  # a malformed answer counts as wrong
    total = len(progress.questions)
    score = config.points * right / total if total else 0.0
    return result(right == total, f"{right} of {total} answers correct ({len(progress.answers)} answered)", score)


def reference_answers(course: Course, kind: str, student: str = "reference") -> dict:
    """A complete, all-correct answers file for ``student`` (the reference submission's)."""
    config = course.quiz(kind)
    bank = course_bank(course, kind)
    if not bank.has_answers:
        raise CourseError("this bank has no answers", path=config.bank, fix="use the instructor's bank")
    drawn = draw(bank, student, config.draw)
    progress = Progress(quiz=bank.id, kind=kind, student=student, lang="en",
                        questions=[d.question.id for d in drawn], orders={d.question.id: list(d.order) for d in drawn},
                        answers={d.question.id: d.question.answer for d in drawn})
    return asdict(progress)

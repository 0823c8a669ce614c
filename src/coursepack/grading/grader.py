"""Grade a submission: run the trusted pytest suites, talk to workers, build a report.

:func:`grade` is the whole data flow (docs/ARCHITECTURE.md, "The path of one `course
grade`"): it copies the course's own test files (never the submission's) into a private
folder, runs pytest on them in this process with :class:`GradingSession` as a plugin,
and turns every test outcome into a :class:`~coursepack.reports.results.TestResult` with
its points from ``course.toml``. Student code runs only in the
:class:`~coursepack.judge.worker.Worker` processes the session starts, one per
framework, restarted after any crash or timeout.

The same session, in ``record`` mode with the reference solutions as the submission,
records the expected values (see :mod:`coursepack.judge.expected_values`).
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import shutil
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Callable

import pytest

from coursepack.judge import expected_values, sandbox
from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.grading.protected import protected_changes, protected_changes_on_disk
from coursepack.grading.submission import read_manifest, unpack_submission
from coursepack.reports.results import Report, summarise
from coursepack.judge.lanes import lanes_wanted
from coursepack.judge.session import GradingSession
from coursepack.judge.worker import WORKER_PREFIX, Worker, owned_folder, sigterm_as_interrupt, sweep_folders
from coursepack.quiz.grading import answers_student
from coursepack.quiz.grading import grade_quizzes
from coursepack.quiz.grading import quiz_summary

GRADE_PREFIX = "course-grade-"             # the grader's private copy of the tests
SUBMISSION_PREFIX = "course-submission-"   # a zip's unpacked files (both swept when orphaned)
FRAMEWORK_LIBRARIES = {"torch": "torch", "tf": "tensorflow"}


def _check_recordings(course: Course, hidden: bool) -> None:
    """Every test file has its recorded expected values (else the course is not built)."""
    folders = [course.public_tests] + ([course.hidden_tests] if hidden else [])
    for folder in folders:
        for test_file in sorted(folder.glob("test_*.py")):
            if not (folder / expected_values.FOLDER / f"{test_file.stem}.npz").is_file():
                raise CourseError(f"the expected values of {test_file.name} are missing", path=folder / expected_values.FOLDER,
                                  fix="run `course build` in the instructor's copy of the course")
    if not (course.public_tests / expected_values.FOLDER / expected_values.COUNTS_FILE).is_file():
        raise CourseError("the count of hidden tests is missing", path=course.public_tests / expected_values.FOLDER,
                          fix="run `course build` in the instructor's copy of the course")


@sigterm_as_interrupt()  # SIGTERM stops a grading like Ctrl-C: the workers are closed, nothing stays
def grade(course: Course, submission: Path, *, frameworks: tuple[str, ...], mode: str = "grade",
          tasks: set[str] | None = None, quiet: bool = True, student: str | None = None,
          identity_source: str | None = None,
          pool: dict[str, Worker] | None = None, hide: list[Path] | None = None,
          progress: Callable[[str, dict], None] | None = None,
          lane_pool: dict[str, Worker] | None = None) -> tuple[Report, GradingSession]:
    """Run the public (and, unless ``mode == 'check'``, hidden) tests on ``submission``.

    ``student``, when known, is who submitted as the platform says (``identity_source``
    says which: Gradescope, a roster line, a class roster): quiz answers drawn for anyone
    else score 0, and so do all quizzes when the submission's manifest declares someone
    else (the note names both ids). Without it, the manifest's declared id, else the quiz
    answers file's, is used and recorded as unverified. The report records whose draw was
    graded and where that identity came from.
    ``submission`` may be a folder or the zip of ``course submit`` (changed protected
    files are flagged in the report).

    ``pool`` (framework -> :class:`Worker`) keeps workers warm across calls (batch
    grading); ``hide`` adds folders the worker must not see (the other submissions).
    ``lane_pool`` keeps the second lane's workers warm too (one submission checked again
    and again: warm checks, a notebook kernel, a report page).
    ``progress(event, info)`` hears ``"collected"`` (``total`` tests), then ``"start"``
    and ``"done"`` of each test (``task``, ``framework``, ``test``; ``passed`` and
    ``seconds`` when done), for a live view of a long run.
    """
    submission = Path(submission).resolve()
    if submission.is_file() and submission.suffix == ".zip":
        return _grade_zip(course, submission, frameworks=frameworks, mode=mode, tasks=tasks, quiet=quiet,
                          student=student, identity_source=identity_source, pool=pool, hide=hide, progress=progress,
                          lane_pool=lane_pool)
    if not submission.is_dir():
        raise CourseError("does not exist" if not submission.exists() else "is neither a folder nor a zip",
                          path=submission, fix="pass a folder laid out like assignments/, a zip made by "
                                               "`course submit`, or a class folder of those")
    code_tasks = _code_tasks(course, submission, frameworks, mode, tasks)
    manifest = read_manifest(submission)  # a submission made by `course submit`, unpacked
    declared = manifest.get("student") if manifest and isinstance(manifest.get("student"), str) else None
    student, identity_source, quiz_refusal = _whose_quiz(course, submission, student, identity_source, declared)
    began = time.monotonic()
    for prefix in (GRADE_PREFIX, SUBMISSION_PREFIX, WORKER_PREFIX):  # what a killed grader left behind
        sweep_folders(prefix)
    hide = [course.root, Path(tempfile.gettempdir()), submission.parent, *(hide or [])]
    session = GradingSession(course, submission, frameworks, mode, tasks, hide=hide, pool=pool, progress=progress,
                             lane_pool=lane_pool)
    _run_tests(course, session, mode, quiet, run_code=bool(code_tasks))
    session.errors += _submission_notes(course, submission, frameworks, mode, manifest)
    report = Report(course=course.id, submission=str(submission), frameworks=list(frameworks),
                    isolation=sandbox.isolation_level(), mode=mode, tests=session.results,
                    errors=session.errors, seconds=round(time.monotonic() - began, 2),
                    worker_peak_mb=round(session.worker_peak_mb, 1), student=student,
                    identity_source=identity_source, declared_student=declared)
    if quiz_refusal and mode == "grade":
        report.errors.append(quiz_refusal)
    selected = [t for t in course.tasks if t.id in code_tasks]
    counts = session.hidden_counts if mode == "check" else {}
    report.tasks = summarise(report.tests, selected, frameworks, counts, session._weight)
    if mode == "grade":
        quiz_tests, quiz_tasks = grade_quizzes(course, submission, tasks, student, quiz_refusal)
        report.tests += quiz_tests
        report.tasks += quiz_tasks
    return report, session


def _grade_zip(course: Course, archive: Path, *, hide, **options) -> tuple[Report, GradingSession]:
    """A ``course submit`` zip: unpacked into a private folder, graded, the folder removed."""
    folder, owner = owned_folder(SUBMISSION_PREFIX)
    unpacked = folder / "submission"
    try:
        manifest = unpack_submission(archive, unpacked)
        report, session = grade(course, unpacked, hide=[*(hide or []), archive.parent], **options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(owner)
    report.submission = str(archive)
    if not manifest:
        report.errors.append("the zip has no manifest.json: it was not made by `course submit`")
    return report, session


def _code_tasks(course: Course, submission: Path, frameworks, mode: str, tasks: set[str] | None) -> set[str]:
    """The code tasks to test (``tasks`` may also name quizzes), once the course and the
    submission are known to be gradable for them."""
    code_tasks = {t.id for t in course.tasks}
    if tasks is not None:
        unknown = set(tasks) - code_tasks - {f"quiz-{k}" for k in course.quizzes}
        if unknown:
            course.task(sorted(unknown)[0])  # raises with the list of task ids
        code_tasks &= set(tasks)
    if code_tasks:
        check_course_can_grade(course, frameworks, mode)
    for fw in frameworks if code_tasks else ():
        if not any((submission / d).is_dir() for d in course.package_dirs(fw)):
            raise CourseError(
                f"has none of the {fw} track's folders ({', '.join(sorted(course.package_dirs(fw)))})",
                path=submission, fix="pass the folder that contains them (like assignments/)")
    return code_tasks


def _run_tests(course: Course, session: GradingSession, mode: str, quiet: bool, *, run_code: bool) -> None:
    """pytest, in this process, on private copies of the course's own test files, with
    ``session`` as the plugin that gives them their judge; the session is closed after."""
    workdir, owner = owned_folder(GRADE_PREFIX)
    try:
        # Trusted copies of the test files: nothing from the submission is ever collected,
        # and no conftest.py or ini file near the submission can change the run.
        public = workdir / "public"
        shutil.copytree(course.public_tests, public, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        targets = [public]
        session._public_dir = public.resolve()
        if mode == "check":
            session.hidden_counts = expected_values.hidden_counts(course)
        else:
            hidden = workdir / "hidden"
            shutil.copytree(course.hidden_tests, hidden, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            session._hidden_dir = hidden.resolve()
            targets.append(hidden)
        ini = workdir / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        # No plugin another installed package registers takes part (one could change what
        # a run reports, and importing them all costs about a second per grading).
        args = [*map(str, targets), "-c", str(ini), "--rootdir", str(workdir), "--noconftest",
                "--disable-plugin-autoload", "-p", "no:cacheprovider", "--import-mode=importlib",
                "-q", "--tb=no", "--no-header", "-o", "addopts=", "-W", "ignore"]
        saved = {k: os.environ.pop(k) for k in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS") if k in os.environ}
        if run_code:  # the workers import their framework while pytest collects
            session.warm_up(lanes_allowed=lanes_wanted(course.memory_mb))
        sink = io.StringIO()
        try:
            if not run_code:
                code = 0  # only quizzes asked for: no code test to run
            elif quiet:
                with redirect_stdout(sink), redirect_stderr(sink):
                    code = pytest.main(args, plugins=[session])
            else:
                code = pytest.main(args, plugins=[session])
        finally:
            os.environ.update(saved)
        if code == pytest.ExitCode.INTERRUPTED:
            raise KeyboardInterrupt  # a partial run is no grade: never report it as one
        if code not in (0, 1, pytest.ExitCode.NO_TESTS_COLLECTED):
            raise RuntimeError(f"pytest could not run the tests (exit {int(code)}): " + sink.getvalue()[-1500:])
    finally:
        session.close()
        shutil.rmtree(workdir, ignore_errors=True)
        os.close(owner)


def _submission_notes(course: Course, submission: Path, frameworks, mode: str, manifest: dict | None) -> list[str]:
    """What an instructor should know about the files themselves: links that were ignored,
    and (when grading) protected files the student changed."""
    notes = []
    for fw in frameworks:
        for package in course.package_dirs(fw):
            for path in sorted((submission / package).rglob("*")) if (submission / package).is_dir() else ():
                if path.is_symlink():
                    notes.append(f"{path.relative_to(submission)} is a symbolic link and was "
                                 "ignored: submit real files")
    if mode == "grade":
        changed = protected_changes(course, manifest) if manifest is not None else []
        changed += [c for c in protected_changes_on_disk(course, submission) if c.split(" (")[0] not in changed]
        if changed:
            notes.append("protected files were changed: " + ", ".join(changed[:10]))
    return notes


def _whose_quiz(course: Course, submission: Path, student: str | None, source: str | None,
                declared: str | None) -> tuple[str | None, str, str | None]:
    """(whose draw to grade, where that id came from, why the quizzes score 0 or None)."""
    if student is not None:
        source = source or "the grader (--student)"
        refusal = None
        if declared is not None and declared != student:
            refusal = (f"this submission declares student {declared!r} in its manifest, but {source} says it "
                       f"was submitted by {student!r}: the quizzes score 0. Take the quizzes and `course submit` "
                       f"with `--student {student}`")
        return student, source, refusal
    if declared is not None:
        return declared, "declared in the submission's manifest.json (not confirmed by a platform)", None

    drawn_for = answers_student(course, submission)
    if drawn_for is not None:
        return drawn_for, "declared in the quiz answers file (not confirmed by a platform)", None
    return None, "", None


def check_course_can_grade(course: Course, frameworks, mode: str) -> None:
    """Problems of the course or of this machine, found before any test runs: a
    framework not installed, no hidden tests (a student release), stale recordings."""
    for fw in frameworks:
        library = FRAMEWORK_LIBRARIES[fw]
        if importlib.util.find_spec(library) is None:
            raise CourseError(f"the {fw} track needs {library}, which is not installed in this Python "
                              f"({sys.executable})", fix=f"run `pip install -e '.[{fw}]'` in the course folder")
    if mode != "check" and not course.hidden_tests.is_dir():
        raise CourseError("this copy of the course has no hidden tests (it is a student release)",
                          path=course.hidden_tests, fix="use `course check` here; grading needs the instructor's copy")
    if mode != "record":
        _check_recordings(course, hidden=mode != "check")


def ungraded_report(course: Course, submission, errors: list[str], frameworks=None,
                    tasks: set[str] | None = None) -> Report:
    """The report of a submission that could not be graded: every task asked for (all
    when ``tasks`` is None) at 0 of its points.

    Its maximum is what a graded submission's would be, so a gradebook or an LMS that
    divides by it gets 0 %, not 0 / 0."""
    frameworks = list(frameworks or (course.framework,))
    selected = [t for t in course.tasks if tasks is None or t.id in tasks]
    summaries = summarise([], selected, frameworks, {}, 1.0 / len(frameworks))

    summaries += [quiz_summary(kind, float(config.points))
                  for kind, config in course.quizzes.items() if tasks is None or f"quiz-{kind}" in tasks]
    return Report(course=course.id, submission=str(submission), frameworks=frameworks, isolation="",
                  mode="grade", tasks=summaries, errors=list(errors))

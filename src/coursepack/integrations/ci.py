"""Grading in CI, one job per submission (Gradescope, GitHub Actions).

Every platform runs the same thing, :func:`grade_one`: find the submission in whatever layout the
platform hands over, grade it with :func:`coursepack.grading.grader.grade`, and always write a
result file, even when the submission cannot be graded (then with 0 points and the
reason), because a platform that finds no result shows the student nothing useful.

What each platform needs around it lives beside this module:
:mod:`.gradescope` (the autograder zip) and :mod:`.github` (the class workflow).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import traceback
from pathlib import Path

from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.integrations.lms.identity import Identity
from coursepack.grading.submission import detect_framework, locate_submission
from coursepack.integrations.lms.junit import to_junit
from coursepack.fileio import write_atomic
from coursepack.reports.results import Report, to_gradescope, to_markdown
from coursepack.grading.grader import grade, ungraded_report
from coursepack.integrations.lms.loose import lay_out

def grade_one(course: Course, folder: Path, *, framework: str | None = None,
              identity: Identity | None = None) -> Report:
    """Grade what a CI platform put in ``folder``; never raises for a bad submission.

    ``identity`` is who submitted as the platform says (see :mod:`coursepack.integrations.lms.identity`)."""

    chosen = (framework,) if framework in course.frameworks else None  # for a report without grading
    student = identity.student if identity else None
    staging = None
    try:
        notes = []
        try:
            path = locate_submission(course, folder)
        except CourseError:
            staging, track, laid = _lay_out_loose_files(course, folder, framework)
            if staging is None:
                raise
            path, framework = staging, framework or track
            notes.append(f"Graded the loose file(s) {', '.join(laid)}; the other tasks are the stubs.")
        frameworks = course.resolve_frameworks(framework) if framework else (detect_framework(course, path),)
        report, _ = grade(course, path, frameworks=frameworks, mode="grade", student=student,
                          identity_source=identity.source if identity else None)
        report.errors[:0] = notes
        if staging is not None:
            report.submission = str(folder)
        return report
    except CourseError as exc:
        report = ungraded_report(course, folder, [f"This submission could not be graded: {exc}"], chosen)
    except Exception as exc:  # noqa: BLE001 - the platform must still get a result file
        report = ungraded_report(course, folder,
                                 [f"The autograder failed ({type(exc).__name__}: {exc}); please tell your instructor.",
                                  traceback.format_exc(limit=3)[-1500:]], chosen)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    if identity is not None:
        report.student, report.identity_source = identity.student, identity.source
    return report


def _lay_out_loose_files(course: Course, folder: Path, framework: str | None
                         ) -> tuple[Path | None, str | None, list[str]]:
    """Loose module files at the top of ``folder`` (or of its one inner folder), laid into a
    copy of the track's stubs in a new folder: (folder, track, places), or (None, None, [])."""

    folder = Path(folder)
    if not folder.is_dir():
        return None, None, []
    inner = [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__"))]
    for candidate in [folder] + (inner if len(inner) == 1 else []):
        staging = Path(tempfile.mkdtemp(prefix="course-loose-"))
        laid = lay_out(course, candidate, staging, framework)
        if laid is not None:
            return staging, laid[0], laid[1]
        shutil.rmtree(staging, ignore_errors=True)
    return None, None, []


def write_outputs(report: Report, *, fmt: str, out: Path, hidden: str = "name-and-points",
                  summary: Path | None = None) -> None:
    """Write the result file in ``fmt`` and, if asked, append a Markdown summary."""
    if fmt == "gradescope":
        text = to_gradescope(report, hidden=hidden)
    elif fmt == "junit":
        text = to_junit(report)
    else:
        text = json.dumps(report.to_dict(), indent=2) + "\n"
    write_atomic(out, text)
    if summary is not None:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(to_markdown(report) + "\n")


# -- the Gradescope bundle ---------------------------------------------------------------


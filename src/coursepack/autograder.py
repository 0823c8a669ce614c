"""Grading in CI, one job per submission: a Gradescope bundle and a GitHub Actions workflow.

Both run the same thing, :func:`grade_one`: find the submission in whatever layout the
platform hands over, grade it with :func:`coursepack.grading.grader.grade`, and always write a
result file, even when the submission cannot be graded (then with 0 points and the
reason), because a platform that finds no result shows the student nothing useful.

:func:`build_gradescope` writes the autograder zip Gradescope asks for: ``setup.sh``
(run once when the image is built) and ``run_autograder`` (run per submission) at its
top, and the instructor's course without ``solutions/``: stubs, public and hidden tests
with their expected values, the quiz banks with their keys, and this package.
"""

from __future__ import annotations

import json
import shutil
import stat
import tempfile
import traceback
import zipfile
from pathlib import Path

from coursepack.authoring import build
from coursepack.course import stubs
from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.lms.identity import Identity
from coursepack.grading.submission import detect_framework, locate_submission
from coursepack.authoring.release import PACKAGE_ROOT
from coursepack.lms.junit import to_junit
from coursepack.fileio import write_atomic
from coursepack.reports.results import Report, to_gradescope, to_markdown

HIDDEN_CHOICES = ("name-and-points", "after_due_date", "after_published", "hidden")

#: A GitHub Actions matrix holds at most this many jobs; bigger classes are split over jobs.
MATRIX_LIMIT = 256


def github_workflow(course: Course, max_repos: int = 1024) -> str:
    """The instructors' grading workflow, with enough grading jobs for ``max_repos`` repositories."""
    from coursepack.templating import render

    if max_repos < 1:
        raise CourseError(f"--max-repos must be at least 1, not {max_repos}", fix="pass the size of the class")
    parts = -(-max_repos // MATRIX_LIMIT)
    extras = ",".join(course.frameworks)
    outputs = "".join(f"      part{i}: ${{{{ steps.read.outputs.part{i} }}}}\n" for i in range(1, parts + 1))
    jobs = "\n".join(render("github/grade-job.yml", part=str(i), extras=extras) for i in range(1, parts + 1))
    return render("github/grade-submissions.yml", parts=str(parts), part_outputs=outputs.rstrip("\n"),
                  grade_jobs=jobs.rstrip("\n"))


def write_github_workflow(course: Course, out: Path, max_repos: int = 1024) -> list[Path]:
    """Write the instructor's grading workflow (and a roster template) under ``out``."""
    from coursepack.templating import render

    out = Path(out)
    workflow = out / ".github" / "workflows" / "grade-submissions.yml"
    write_atomic(workflow, github_workflow(course, max_repos))
    written = [workflow]
    roster = out / "roster.txt"
    if not roster.exists():  # never overwrite the instructor's list
        write_atomic(roster, render("github/roster.txt"))
        written.append(roster)
    return written


def grade_one(course: Course, folder: Path, *, framework: str | None = None,
              identity: Identity | None = None) -> Report:
    """Grade what a CI platform put in ``folder``; never raises for a bad submission.

    ``identity`` is who submitted as the platform says (see :mod:`coursepack.lms.identity`)."""
    from coursepack.grading.grader import grade, ungraded_report

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
    from coursepack.lms.loose import lay_out

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

def build_gradescope(course: Course, out: Path, *, hidden: str = "name-and-points", id_field: str = "email") -> Path:
    """Write the Gradescope autograder zip ``out``; returns its path.

    ``id_field`` is the attribute of Gradescope's users (``email``, ``sid``, ...) that
    students take the quizzes with."""
    from coursepack.lms.identity import GRADESCOPE_FIELDS
    from coursepack.templating import render

    if id_field not in GRADESCOPE_FIELDS:
        raise CourseError(f"unknown Gradescope user field {id_field!r}", fix=f"use one of {GRADESCOPE_FIELDS}")
    if hidden not in HIDDEN_CHOICES:
        raise CourseError(f"unknown visibility {hidden!r} for hidden tests", fix=f"use one of {HIDDEN_CHOICES}")
    if not course.hidden_tests.is_dir():
        raise CourseError("this copy of the course has no hidden tests", path=course.hidden_tests,
                          fix="build the bundle in the instructor's copy of the course")
    drifted = build.build(course, check=True).drifted
    if drifted:
        raise CourseError("the stubs or expected values are out of date: "
                          + ", ".join(str(p.relative_to(course.root)) for p in drifted[:5]),
                          path=course.path, fix="run `course build` first")
    out = Path(out).resolve()
    staging = Path(tempfile.mkdtemp(prefix="course-gradescope-"))
    try:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "quiz_answers", ".course")
        shutil.copytree(course.assignments, staging / "assignments", ignore=ignore)
        shutil.copytree(course.hidden_tests, staging / course.hidden_tests.relative_to(course.root), ignore=ignore)
        shutil.copytree(PACKAGE_ROOT, staging / "src" / PACKAGE_ROOT.name, ignore=ignore)
        for name in ["pyproject.toml", "scripts/setup.sh", "course.toml",
                     *[c.bank.relative_to(course.root).as_posix() for c in course.quizzes.values()]]:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(course.root / name, staging / name)
        extras = ",".join(course.frameworks)
        (staging / "setup.sh").write_text(render("gradescope/setup.sh", extras=extras), encoding="utf-8")
        (staging / "run_autograder").write_text(render("gradescope/run_autograder", hidden=hidden, id_field=id_field),
                                                encoding="utf-8")
        leaks = [p.relative_to(staging).as_posix() for p in staging.rglob("*")
                 if p.is_file() and not p.relative_to(staging).as_posix().startswith("src/")
                 and stubs.BEGIN.encode() in p.read_bytes()]
        if leaks:
            raise CourseError("the bundle would hold solution code: " + ", ".join(leaks[:5]), path=out,
                              fix="this is a bug in the course package; nothing was written")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    rel = path.relative_to(staging).as_posix()
                    info = zipfile.ZipInfo.from_file(path, rel)
                    executable = rel in ("setup.sh", "run_autograder") or rel.endswith(".sh")
                    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, path.read_bytes())
        tmp.replace(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out

"""Gradescope: the autograder zip an instructor uploads.

:func:`build_gradescope` writes what Gradescope asks for: ``setup.sh`` (run once when the
image is built) and ``run_autograder`` (run per submission) at its top, from
``templates/gradescope/``, and the instructor's course without ``solutions/``: stubs,
public and hidden tests with their expected values, the quiz banks with their keys, and
this package. Each submission is then graded by :func:`coursepack.integrations.ci.grade_one`.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from coursepack.authoring import build
from coursepack.authoring.release import PACKAGE_ROOT
from coursepack.course import stubs
from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.integrations.lms.identity import GRADESCOPE_FIELDS
from coursepack.reports.results import HIDDEN_CHOICES
from coursepack.templating import render

def build_gradescope(course: Course, out: Path, *, hidden: str = "name-and-points", id_field: str = "email") -> Path:
    """Write the Gradescope autograder zip ``out``; returns its path.

    ``id_field`` is the attribute of Gradescope's users (``email``, ``sid``, ...) that
    students take the quizzes with."""
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

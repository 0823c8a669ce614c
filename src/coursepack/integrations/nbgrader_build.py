"""``course nbgrader build``: a complete nbgrader course made from this one.

Layout written into the nbgrader course folder (default ``nbgrader/`` in the course)::

    nbgrader_config.py                 course id, timeouts, preprocessors (generated)
    gradebook.db                       the assignment and its due date
    source/<assignment>/
        <assignment>_torch.ipynb       one notebook per framework, from solutions/
        <assignment>_tf.ipynb
        toylang.py                     the toy language the training cells import
        course/                        the student release: stubs, public tests and their
                                       expected values, the course package (for check())

Everything in it is generated: edit ``solutions/``, the tests or ``course.toml`` and
build again. Building again rewrites ``nbgrader_config.py`` and ``source/`` and updates
the gradebook's assignment; ``release/``, ``submitted/``, ``autograded/`` and
``feedback/`` are never touched.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
import nbformat

from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.notebooks.cells import notebook_json, notebook_name
from coursepack.fileio import write_atomic
from coursepack.templating import render
from coursepack.authoring.release import make_release


def nbgrader_config(course: Course, course_rel: str) -> str:
    """``nbgrader_config.py`` of the nbgrader course; ``course_rel`` is course.toml relative to it."""
    return render("nbgrader/nbgrader_config.py.in", course_id=repr(course.id), course_toml=course.path.name,
                  course_rel=repr(course_rel), cell_timeout=str(course.nbgrader.cell_timeout),
                  assignment=repr(course.nbgrader.assignment))


def make_notebook(course: Course, framework: str):
    """The source notebook of one track (solutions inside, hidden tests marked), validated."""
    nb = nbformat.from_dict(notebook_json(course, framework, course.solutions, for_nbgrader=True))
    nbformat.validate(nb)
    return nb


@contextmanager
def _venv_on_path():
    """nbgrader runs `alembic` from PATH when it opens a gradebook: use this Python's."""
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old


def build_nbgrader(course: Course, out: Path, frameworks: tuple[str, ...] | None = None) -> list[Path]:
    """Write (or refresh) the nbgrader course in ``out``; return the files written."""
    try:  # imported here, so a Python without nbgrader gets this message, not a traceback
        import nbformat
        from nbgrader.api import Gradebook
        from nbgrader.utils import parse_utc
    except ImportError:
        raise CourseError("nbgrader is not installed in this Python", fix="pip install -e '.[nbgrader]'") from None

    if not course.hidden_tests.is_dir() or not course.solutions.is_dir():
        raise CourseError("the nbgrader course is built from the instructor's copy (solutions and hidden tests)",
                          path=course.root, fix="run this in the instructor's copy of the course")
    frameworks = frameworks or course.frameworks
    out = Path(out).resolve()
    assignment = course.nbgrader.assignment
    source = out / "source" / assignment
    written = []
    # The release first: it refuses to run when the stubs or expected values are stale.
    with tempfile.TemporaryDirectory(prefix="course-nbgrader-") as tmp:
        release, archive = make_release(course, Path(tmp) / "release")
        archive.unlink()
        notebooks = {fw: make_notebook(course, fw) for fw in frameworks}
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        for fw, nb in notebooks.items():
            path = source / f"{notebook_name(course, fw)}.ipynb"
            write_atomic(path, nbformat.writes(nb) + "\n")
            written.append(path)
        keep = ("course.toml", "assignments", "quizzes", "src", "pyproject.toml", "scripts", "README.md")
        for name in keep:
            if (release / name).is_dir():
                shutil.copytree(release / name, source / "course" / name)
            elif (release / name).is_file():
                (source / "course").mkdir(exist_ok=True)
                shutil.copy2(release / name, source / "course" / name)
    for name in course.shared_files:
        shutil.copy2(course.shared_source(name), source / name)
    course_rel = os.path.relpath(course.path, out)
    config = out / "nbgrader_config.py"
    write_atomic(config, nbgrader_config(course, course_rel))
    written.append(config)
    with _venv_on_path(), Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id=course.id) as gradebook:
        duedate = parse_utc(course.nbgrader.duedate) if course.nbgrader.duedate else None
        gradebook.update_or_create_assignment(assignment, duedate=duedate)
    written.append(out / "gradebook.db")
    return written

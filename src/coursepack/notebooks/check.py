"""``check()``: the tests of a task, from inside a course notebook.

The test cells of the notebooks call ``check("sdpa", framework="torch")``. It collects
your answer definitions from the cells you have run (the kernel's input history), puts
them into the task's modules exactly as ``course check`` would see them in the ``.py``
track, and runs the tests in the course's judge: your code runs in a separate sandboxed
process, never in this kernel, and the verdict is computed from values recorded from the
reference solution. A failed test raises :class:`TestsFailed`, so the cell shows an
error and ``nbgrader validate`` counts it.

nbgrader's autograding of this course never runs the notebook in a kernel: the judge
grades the submitted cells from outside (see :mod:`coursepack.integrations.nbgrader_judge`). If a
kernel runs it under ``NBGRADER_EXECUTION=autograde`` anyway (an nbgrader set up without
the course's ``nbgrader_config.py``), this function fails, so the cell scores 0 rather
than full points it was never graded for.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from coursepack.course.config import CONFIG_NAME, Course, load_course
from coursepack.errors import CourseError
from coursepack.grading.grader import grade
from coursepack.notebooks.cells import answer_symbols, answers_from_history, checks_requested, write_track

# This kernel's warm workers, by course root then framework: its checks and plots share
# them. (A hidden check may grade against the instructor's course, whose workers must not
# see its folder: each course gets its own.) The second lane's workers, which a check of
# a task with a training experiment starts, stay warm beside them.
KERNEL_WORKERS: dict[str, dict] = {}
KERNEL_LANE_WORKERS: dict[str, dict] = {}
_KERNEL_FOLDER: list[tempfile.TemporaryDirectory] = []  # one for the kernel's life


def kernel_workers(course: Course) -> dict:
    """This kernel's warm workers for ``course`` (framework -> worker)."""
    return KERNEL_WORKERS.setdefault(str(course.root), {})


def kernel_lane_workers(course: Course) -> dict:
    """This kernel's warm workers of the second lane for ``course`` (framework -> worker)."""
    return KERNEL_LANE_WORKERS.setdefault(str(course.root), {})


def kernel_submission(course: Course, framework: str, answers: dict[str, str]) -> Path:
    """The track's files with ``answers`` put in, in the kernel's one folder for them, and
    the kernel's warm workers told to copy them in again. One folder for the kernel's life
    keeps those workers warm even where a worker cannot be reused for another folder."""
    if not _KERNEL_FOLDER:
        _KERNEL_FOLDER.append(tempfile.TemporaryDirectory(prefix="course-notebook-"))
    folder = Path(_KERNEL_FOLDER[0].name) / framework
    shutil.rmtree(folder, ignore_errors=True)
    write_track(course, framework, answers, folder)
    for worker in [*kernel_workers(course).values(), *kernel_lane_workers(course).values()]:
        worker.refresh()
    return folder


class TestsFailed(AssertionError):
    """Some tests of a task failed; the report above says which and why."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


class CourseSetupError(TestsFailed):
    """The tests could not run (no course found, an out-of-date course, ...)."""


def notebook_course(hidden: bool = False) -> Course:
    """The course to test against: ``COURSE_TOML``; else, for public tests, ``course/``
    beside the notebook (what students get); else the nearest course.toml above (the
    instructor's course, when the nbgrader folder is inside it as by default)."""
    if os.environ.get("COURSE_TOML"):
        return load_course(Path(os.environ["COURSE_TOML"]))
    here = Path.cwd()
    if not hidden and (here / "course" / CONFIG_NAME).is_file():
        return load_course(here / "course" / CONFIG_NAME)
    for folder in [here, *here.parents]:
        if (folder / CONFIG_NAME).is_file():
            return load_course(folder / CONFIG_NAME)
    raise CourseError("no course.toml found beside this notebook or above it", path=here,
                      fix="keep the notebook in the folder it was released in (with course/ beside it)")


def kernel_history() -> list[str]:
    """The cells this kernel has run, in order (empty outside Jupyter)."""
    try:
        from IPython import get_ipython  # exists only where a Jupyter kernel runs
    except ImportError:
        return []
    shell = get_ipython()
    return list(shell.user_ns.get("In", [])) if shell is not None else []


def check(task: str, framework: str = "torch", hidden: bool = False) -> None:
    """Run the tests of ``task`` on the answers you have run in this notebook."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        raise CourseSetupError("this notebook must be autograded with the course's nbgrader_config.py (run "
                               "`nbgrader autograde` in the folder `course nbgrader build` wrote)")

    history = kernel_history()
    if not hidden and history and checks_requested(history[-1]) == (task, True):
        # The instructor's notebook: this cell also runs the hidden tests, with the public ones.
        print(f"The public tests of '{task}' run below, with the hidden ones.")
        return
    try:
        course = notebook_course(hidden)
        course.task(task)
        answers = answers_from_history(answer_symbols(course, framework), history)
        submission = kernel_submission(course, framework, answers)
        report, _ = grade(course, submission, frameworks=(framework,), mode="grade" if hidden else "check",
                          tasks={task}, pool=kernel_workers(course), lane_pool=kernel_lane_workers(course))
    except CourseError as exc:
        raise CourseSetupError(str(exc)) from None
    print(verdict_text(report))
    failed = [t for t in report.tests if not t.passed]
    if failed or report.errors:
        raise TestsFailed(f"{len(failed)} of {len(report.tests)} test(s) of task '{task}' failed")


def verdict_text(report) -> str:
    """A plain-text report (notebook outputs have no terminal colours)."""
    lines = []
    for t in report.tests:
        mark = "PASS" if t.passed else "FAIL"
        kind = " (hidden)" if t.visibility == "hidden" else ""
        lines.append(f"{mark} {t.name}{kind}")
        if not t.passed and t.message:
            lines += ["     " + line for line in t.message.splitlines()]
    for s in report.tasks:
        line = f"Task '{s.id}' ({s.framework}): {s.score:g} / {s.max_score:g} points"
        if s.hidden_not_run:
            line += (f"; {s.hidden_not_run} hidden test(s) worth {s.hidden_points_not_run:g} points "
                     "run when you are graded")
        lines.append(line)
    lines += [f"Note: {e}" for e in report.errors]
    lines.append(f"Isolation of your code: {report.isolation}.")
    return "\n".join(lines)

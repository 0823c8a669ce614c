"""``plot()``: a task's picture, inline in a course notebook, drawn from your own code.

The plot cell after a task's test cell calls ``plot("additive", framework="torch")``.
Like :func:`~coursepack.notebooks.check.check`, it collects your answer definitions from
the cells you have run, puts them into the track's modules, and runs them in the
course's judge: your code runs in a separate sandboxed process, never in this kernel.
Only arrays come back, and the picture is drawn here from them (see
:mod:`coursepack.plots`), then shown below the cell with a sentence on what it shows.

Which picture a task gets is :data:`coursepack.plots.TASK_PLOTS`. A part that is not
written yet gives one line naming the task to finish first, never a traceback. Nothing
here is graded: nbgrader sees plot cells as locked cells without points, and never runs
them when it grades (the judge does, see :mod:`coursepack.integrations.nbgrader_judge`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from coursepack.errors import CourseError
from coursepack.notebooks.cells import answer_symbols, answers_from_history
from coursepack.notebooks.check import kernel_history, kernel_submission, kernel_workers, notebook_course
from coursepack.plots import TASK_PLOTS
from coursepack.plots.run import make_plots


def plot(task: str, framework: str = "torch") -> None:
    """Draw the plot of ``task`` from the answers you have run in this notebook.

    Shows the picture and one sentence on it, or one line saying why there is none.
    (It returns nothing, so that the cell shows no value after the picture.)
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        print("Plots are not drawn while nbgrader grades (they are never graded).")
        return
    if task not in TASK_PLOTS:
        print(f"Task '{task}' has no plot; the tasks with one are {', '.join(TASK_PLOTS)}.")
        return
    kind, checkpoint = TASK_PLOTS[task]
    try:
        course = notebook_course()
        course.task(task)
        answers = answers_from_history(answer_symbols(course, framework), kernel_history())
        track = kernel_submission(course, framework, answers)
        with tempfile.TemporaryDirectory(prefix="course-plot-") as tmp:
            # The kernel's warm worker, which its checks use too: no framework import per plot.
            [drawn] = make_plots(course, track, framework, (kind,), Path(tmp), checkpoint,
                                 pool=kernel_workers(course))
            png = drawn.path.read_bytes() if drawn.path else b""
    except CourseError as exc:
        print(f"No {kind} plot: {exc}")
        return
    if drawn.problem:
        print(f"No {kind} plot of task '{task}' yet: {drawn.problem}")
        return
    _show_png(png)
    print(f"{kind} ({framework}, {drawn.seconds:.1f} s): {drawn.summary}")


def _show_png(png: bytes) -> None:
    try:
        from IPython.display import Image, display  # exists only where a Jupyter kernel runs
    except ImportError:
        print("(the picture shows in a Jupyter notebook; `course plot` writes it as a PNG file)")
        return
    display(Image(data=png, format="png"))

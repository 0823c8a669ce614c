"""The baseline an instructor without this package would grade with: plain nbgrader.

In a plain nbgrader course the test cells are ordinary code: ``nbgrader autograde``
starts one kernel per notebook, the student's answer cells define their functions in
that kernel (importing the framework once), and the test cells call them and assert,
in the same process. Nothing is sandboxed, nothing is forked, and nothing survives to
the next notebook.

This module makes that baseline from this course's own tests, so that it checks exactly
what the judge checks:

* :class:`InKernelWorker` stands in for :class:`coursepack.judge.worker.Worker`. It
  runs every request of a test with the same driver and framework adapter as the worker
  (``coursepack/judge/runtime``), but here, in the calling process: the student's modules are
  imported into it once and called directly.
* :func:`score_in_kernel` is what a test cell of the plain notebook calls: it gathers
  the answer cells the kernel has run (as ``check()`` does), runs the task's public and
  hidden tests through an :class:`InKernelWorker`, prints the verdict and returns the
  points, which nbgrader records as the cell's partial credit.
* :func:`make_plain_course` turns the nbgrader course that ``course nbgrader build``
  wrote into that plain course: its test cells call :func:`score_in_kernel`, and its
  ``nbgrader_config.py`` keeps nbgrader's own ``Execute`` step (the kernel).
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from coursepack.judge.worker import CallResult

PLAIN_CONFIG = Path(__file__).with_name("templates") / "plain_nbgrader_config.py"


class InKernelWorker:
    """Runs the judge's requests in this process, the way a plain test cell would."""

    # What the grading session reads of a pooled worker: this one is always ready (the
    # framework was imported when it was made), never retired, never restarted.
    peak_mb = 0.0
    starts = 1
    reusable = True
    retired = False
    running = True

    def __init__(self, framework: str):
        runtime = Path(importlib.import_module("coursepack.judge").__file__).parent / "runtime"
        sys.path.insert(0, str(runtime))
        self.driver = importlib.import_module("driver")
        self.adapter = importlib.import_module(f"{framework}_adapter")
        self.adapter.setup()  # imports the framework: once per kernel, as a plain notebook does
        self.submission: Path | None = None
        self.calls = 0

    def start(self, wait: bool = True) -> None:
        pass

    def ensure_ready(self) -> bool:
        return True

    def refresh(self) -> None:
        pass

    def load(self, submission: Path, shared_files: dict[str, Path] | None = None) -> None:
        """Import the student's modules from ``submission`` from now on (the course's
        shared files are in it already: the notebook's folder holds them)."""
        if submission == self.submission:
            return
        if self.submission is not None:
            sys.path.remove(str(self.submission))
        for name in [m for m in sys.modules if m.split(".")[0] in ("course_torch", "course_tf", "toylang")]:
            del sys.modules[name]
        sys.path.insert(0, str(submission))
        self.submission = submission

    def call(self, request: dict, arrays: dict, timeout: float) -> CallResult:
        # No time limit: a plain test cell has only nbgrader's per-cell timeout. The
        # arrays become what the worker would read from its .npz file (0-d arrays, not
        # NumPy scalars).
        arrays = {name: np.asarray(value) for name, value in arrays.items()}
        self.calls += 1
        try:
            return CallResult(self.driver.handle(self.adapter, request, arrays))
        except self.driver.ContractError as exc:
            return CallResult(None, "contract", str(exc))
        except Exception as exc:  # noqa: BLE001 - a failing student call fails the test
            return CallResult(None, "exception", str(exc), exception_type=type(exc).__name__)

    def close(self) -> None:
        pass


_WORKERS: dict[str, InKernelWorker] = {}


def score_in_kernel(task: str, framework: str) -> float:
    """Run every test of ``task`` on the answer cells this kernel has run; its points."""
    from IPython import get_ipython

    from coursepack.grading.grader import grade
    from coursepack.notebooks.cells import answer_symbols, write_track
    from coursepack.notebooks.cells import answers_from_history
    from coursepack.notebooks.check import notebook_course, verdict_text

    course = notebook_course(hidden=True)
    history = list(get_ipython().user_ns.get("In", []))
    answers = answers_from_history(answer_symbols(course, framework), history)
    if framework not in _WORKERS:
        _WORKERS[framework] = InKernelWorker(framework)
    folder = Path(tempfile.mkdtemp(prefix="plain-kernel-"))
    try:
        write_track(course, framework, answers, folder)
        report, _ = grade(course, folder, frameworks=(framework,), mode="grade", tasks={task}, pool=_WORKERS)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(verdict_text(report))
    return round(next(s.score for s in report.tasks if s.id == task), 4)


def make_plain_course(judged: Path, plain: Path, notebook: str) -> None:
    """Copy the nbgrader course ``judged`` to ``plain``, with in-kernel test cells."""
    import nbformat

    from coursepack.notebooks.cells import checks_requested

    shutil.copytree(judged, plain, ignore=shutil.ignore_patterns("gradebook.db", "release", "submitted",
                                                                    "autograded", "feedback"))
    shutil.copy(PLAIN_CONFIG, plain / "nbgrader_config.py")
    for path in (plain / "source").rglob(f"{notebook}.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                task, _ = checks_requested(cell.source)
                framework = notebook.rsplit("_", 1)[-1]
                cell.source = (f"# Tests of task '{task}', run in this kernel.\n"
                               f"from plain_kernel import score_in_kernel\n"
                               f'score_in_kernel("{task}", "{framework}")')
        nbformat.write(nb, path)

"""The nbgrader preprocessor that makes the judge, not a kernel, grade a notebook.

``nbgrader autograde`` normally runs a submitted notebook in a kernel, then reads each
graded test cell's outputs: an error means 0 points, a number means that many points.
That kernel would run student code as the instructor, with no sandbox, and anything it
computed could be tampered with. The generated ``nbgrader_config.py`` therefore
replaces nbgrader's ``Execute`` step by :class:`JudgeVerdicts`, which runs in nbgrader's
own process: it takes the answer cells of the submitted notebook, puts them
into the trusted modules (:func:`coursepack.notebooks.cells.write_track`), grades them with
:func:`coursepack.grading.grader.grade` (the sandboxed worker) and replaces each test cell's
outputs with the judge's report and points. The score of a test cell is therefore the
score ``course grade`` gives that task for the same code.

A test cell that holds the hidden-tests region (restored by nbgrader from the source
notebook before grading) gets the public and hidden tests; otherwise the public ones.
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode
import copy

from coursepack.course.config import load_course
from coursepack.notebooks.cells import checks_requested, notebook_cells, notebook_name
from coursepack.notebooks.check import verdict_text
from coursepack.grading.grader import grade
from coursepack.judge.worker import close_pool
from coursepack.notebooks.cells import write_track

_POOL: dict = {}  # warm workers shared by every notebook this nbgrader process grades


@atexit.register
def _close_pool() -> None:
    close_pool(_POOL)


class JudgeVerdicts(NbGraderPreprocessor):
    """Replace the outputs of the graded test cells with the judge's verdicts."""
    course_toml = Unicode("", help="Path of the course.toml whose tests grade the notebooks.").tag(config=True)

    def preprocess(self, nb, resources):
        course = load_course(Path(self.course_toml))
        name = resources.get("nbgrader", {}).get("notebook") or resources.get("unique_key", "")
        framework = next((fw for fw in course.frameworks if notebook_name(course, fw) == name), None)
        if framework is None:
            # Never leave test cells ungraded: nbgrader would give them full points.
            raise ValueError(f"JudgeVerdicts: {name!r} is not one of this course's notebooks "
                             f"({course.nbgrader.assignment}_<framework>); rebuild with `course nbgrader build`")
        layout = {c.grade_id: c for c in notebook_cells(course, framework, course.solutions)}
        answers, tests = {}, {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            known = layout.get(meta.get("grade_id"))
            if known is None or cell.cell_type != "code":
                continue
            if known.kind == "answer" and meta.get("solution"):
                answers[known.symbol] = cell.source
            elif known.kind == "tests" and meta.get("grade"):
                task, hidden = checks_requested(cell.source)
                tests[cell.metadata["nbgrader"]["grade_id"]] = (known.task, hidden and task == known.task)
        reports = self._grade(course, framework, answers, tests)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in tests:
                continue
            task, hidden = tests[grade_id]
            report = reports[hidden]
            summary = next(s for s in report.tasks if s.id == task)
            own = _only_task(report, task)
            cell.outputs = [
                new_output("stream", name="stdout", text=verdict_text(own) + "\n"),
                new_output("execute_result", data={"text/plain": repr(round(summary.score, 4))},
                           execution_count=cell.get("execution_count")),
            ]
        return nb, resources

    def _grade(self, course, framework, answers, tests):

        reports = {}
        for hidden in (False, True):
            tasks = {task for task, h in tests.values() if h == hidden}
            if not tasks:
                continue
            with tempfile.TemporaryDirectory(prefix="course-nbgrader-") as tmp:
                write_track(course, framework, answers, Path(tmp))
                reports[hidden], _ = grade(course, Path(tmp), frameworks=(framework,),
                                           mode="grade" if hidden else "check", tasks=tasks, pool=_POOL)
            self.log.info("JudgeVerdicts: %s, %s tests: %.2f points", framework,
                          "public + hidden" if hidden else "public", reports[hidden].score)
        return reports


def _only_task(report, task: str):
    """A copy of ``report`` restricted to one task (for that task's cell)."""
    own = copy.copy(report)
    own.tests = [t for t in report.tests if t.task == task]
    own.tasks = [s for s in report.tasks if s.id == task]
    return own

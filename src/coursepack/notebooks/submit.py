"""``course submit``: the zip a student hands in, from their track folder or from a notebook.

Work done in a notebook is first put back into a copy of the track's stubs (the answer
cells replace the stubs' definitions, see :mod:`.cells`), so a notebook submission is
graded exactly like one made from the modules.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from coursepack.course.config import Course
from coursepack.grading.submission import make_submission, submission_warnings
from coursepack.notebooks.cells import notebook_answers, write_track


def notebook_framework(course: Course, notebook: Path) -> str | None:
    """The track a notebook belongs to, from its name (``<assignment>_<track>.ipynb``)."""
    return next((fw for fw in course.frameworks if Path(notebook).stem.endswith(f"_{fw}")), None)


def submit(course: Course, *, framework: str | None, student: str, out: Path | None = None,
           notebook: Path | None = None) -> tuple[Path, str, list[str]]:
    """Write the submission zip; returns (its path, the track, what looks unfinished)."""
    if notebook is not None and framework is None:
        framework = notebook_framework(course, notebook)
    framework = course.resolve_frameworks(framework)[0]
    out = out or course.root / f"submission-{framework}.zip"
    with tempfile.TemporaryDirectory(prefix="course-submit-") as tmp:
        work = course.assignments
        if notebook is not None:
            work = write_track(course, framework, notebook_answers(course, framework, notebook), Path(tmp))
            if (course.assignments / "quiz_answers").is_dir():
                shutil.copytree(course.assignments / "quiz_answers", work / "quiz_answers")
        path = make_submission(course, work, framework, out, student)
        warnings = submission_warnings(course, work, framework, student)
    return path, framework, warnings

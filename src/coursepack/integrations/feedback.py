"""``course grade CLASS --feedback html``: one HTML page per student, beside the class's grades.

Grading a class (:mod:`coursepack.grading.batch`) writes ``results/``, ``feedback/<name>.md``
and the gradebook. With ``--feedback html`` every submission also gets
``feedback/<name>.html``: the page ``course report`` makes for it (:mod:`coursepack.plots.report`:
the public tests' table, each failure's diagnostic, the plots of the student's own model,
the pictures embedded), one file an instructor can hand back as it is.

The pages are made after the grades and never change them; they run the public tests
again (``check`` mode) and the four plots, with the student's code in the sandboxed
worker as in grading, and that worker sees neither the other submissions nor the outputs.
Measured on the reference solutions and on the stubs (PyTorch, two shared and busy CPU
cores), that is 30 to 65 s a student, more than grading them took (13 to 40 s): the
figure ``course grade --help`` gives, and why it is opt-in. With ``--resume`` a page
newer than its submission's result is kept.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.grading.batch import FEEDBACK, RESULTS, find_submissions
from coursepack.grading.submission import detect_framework, unpack_submission
from coursepack.plots.report import write_report


@dataclass
class Page:
    """The feedback page of one submission, or why there is none."""

    name: str
    path: Path | None
    problem: str = ""
    seconds: float = 0.0
    kept: bool = False  # --resume: written by an earlier run, still newer than the result


def page_path(out: Path, name: str) -> Path:
    return Path(out) / FEEDBACK / f"{name}.html"


def write_feedback_pages(course: Course, folder: Path, out: Path, *, frameworks: tuple[str, ...] | None = None,
                         tasks: set[str] | None = None, resume: bool = False,
                         on_page: Callable[[Page], None] | None = None) -> list[Page]:
    """Write ``OUT/feedback/<name>.html`` for every submission of the class ``folder``.

    ``frameworks`` and ``tasks`` are the class grading's (``tasks`` limits the tests on the
    page; the plots are always all drawn); ``on_page(page)`` hears of each page when written."""
    folder, out = Path(folder).resolve(), Path(out).resolve()
    entries, _ = find_submissions(course, folder)
    pages = []
    for entry in entries:
        target = page_path(out, entry.name)
        result = out / RESULTS / f"{entry.name}.json"
        if resume and target.is_file() and result.is_file() and target.stat().st_mtime >= result.stat().st_mtime:
            page = Page(entry.name, target, kept=True)
        else:
            began = time.monotonic()
            try:
                tracks = frameworks or (detect_framework(course, entry.path),)
                with _as_folder(entry.path) as submission:
                    write_report(course, submission, tracks, target, label=entry.name, hide=(folder, out),
                                 tasks=tasks)
                page = Page(entry.name, target)
            except CourseError as exc:  # an unreadable zip: its result already says why; no page
                page = Page(entry.name, None, problem=str(exc))
            except (OSError, RuntimeError) as exc:  # a worker that did not start, a full disk: this
                # student gets no page, the others still do (--resume tries again)
                page = Page(entry.name, None, problem=f"{type(exc).__name__}: {exc}")
            page.seconds = round(time.monotonic() - began, 1)
        pages.append(page)
        if on_page:
            on_page(page)
    return pages


@contextmanager
def _as_folder(path: Path) -> Iterator[Path]:
    """A submission folder as it is; a ``course submit`` zip unpacked safely into a private folder."""
    if path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="course-feedback-") as tmp:
        unpack_submission(path, Path(tmp) / "submission")
        yield Path(tmp) / "submission"

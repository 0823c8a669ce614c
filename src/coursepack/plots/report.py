"""``course report``: one self-contained HTML page with the checks and the plots.

The page is the package template ``templates/plots/report.html.j2`` (Jinja2, HTML-escaped), filled
with a :class:`~coursepack.reports.results.Report` of the public tests and the plots of
:mod:`.run`, each PNG embedded as a ``data:`` URI: the file can be mailed or handed
back as feedback and opens anywhere without its folder.
"""

from __future__ import annotations

import base64
import datetime
import tempfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from coursepack.course.config import Course
from coursepack.reports.render import pts
from coursepack.templating import TEMPLATES
from coursepack.fileio import write_atomic
from coursepack.reports.results import Report
from coursepack.plots import KINDS
from coursepack.plots.run import Drawn, make_plots
from coursepack.grading.grader import grade
from coursepack.judge.worker import close_pool

TEMPLATE = "report.html.j2"


def data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def render(course: Course, report: Report, drawn: list[Drawn], label: str = "") -> str:
    """The HTML page for ``report`` (public tests) and the plots ``drawn``; ``label`` names
    the submission (a class's feedback pages), when given."""
    env = Environment(loader=FileSystemLoader(TEMPLATES / "plots"), autoescape=select_autoescape(["j2"]))
    plots = [{"kind": d.kind, "framework": d.framework, "seconds": d.seconds, "summary": d.summary,
              "problem": d.problem, "image": data_uri(d.path) if d.path else ""} for d in drawn]
    tasks = [{"id": t.id, "title": t.title, "framework": t.framework, "score": pts(t.score),
              "max_score": pts(t.max_score), "passed": t.passed, "failed": t.failed,
              "hidden_not_run": t.hidden_not_run} for t in report.tasks]
    return env.get_template(TEMPLATE).render(
        title=course.title, label=label, points=pts(report.score), max_points=pts(report.max_score),
        frameworks=", ".join(report.frameworks), created=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        tasks=tasks, failures=[t for t in report.tests if not t.passed], errors=report.errors, plots=plots)


def write_report(course: Course, submission: Path, frameworks: tuple[str, ...], out: Path,
                 progress=None, on_plot=None, label: str = "", hide: tuple[Path, ...] = (),
                 tasks: set[str] | None = None) -> Report:
    """Check ``submission`` (a folder) with the public tests, draw every plot, write the page to ``out``.

    ``label`` names the submission on the page; ``hide`` adds folders the worker must not
    see (a class's other submissions and outputs); ``tasks`` limits the tests (not the plots)."""
    # The plots run on the workers that ran the check, framework already imported; the
    # check keeps its second lane (a lane pool), whose workers end as soon as it is done.
    workers: dict = {}
    lane_workers: dict = {}
    try:
        try:
            report, _ = grade(course, submission, frameworks=frameworks, mode="check", progress=progress,
                              hide=list(hide), tasks=tasks, pool=workers, lane_pool=lane_workers)
        finally:
            close_pool(lane_workers)
        drawn = []
        with tempfile.TemporaryDirectory(prefix="course-report-") as folder:
            for framework in frameworks:
                drawn += make_plots(course, submission, framework, KINDS, Path(folder), on_done=on_plot, hide=hide,
                                    pool=workers)
            page = render(course, report, drawn, label)
    finally:
        close_pool(workers)
    write_atomic(Path(out), page)
    return report

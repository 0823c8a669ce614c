"""GitHub Actions: the instructor's workflow that grades every student repository of a class.

:func:`github_workflow` renders ``templates/github/``: one job reads the roster, then as
many grading jobs as the class needs (a matrix holds at most
:data:`~coursepack.integrations.lms.ghroster.MATRIX_LIMIT` repositories), each running
``course autograder run`` on one checkout (:mod:`coursepack.integrations.ci`).
"""

from __future__ import annotations

from pathlib import Path

from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.fileio import write_atomic
from coursepack.integrations.lms.ghroster import MATRIX_LIMIT
from coursepack.templating import render


def github_workflow(course: Course, max_repos: int = 1024) -> str:
    """The instructors' grading workflow, with enough grading jobs for ``max_repos`` repositories."""
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
    out = Path(out)
    workflow = out / ".github" / "workflows" / "grade-submissions.yml"
    write_atomic(workflow, github_workflow(course, max_repos))
    written = [workflow]
    roster = out / "roster.txt"
    if not roster.exists():  # never overwrite the instructor's list
        write_atomic(roster, render("github/roster.txt"))
        written.append(roster)
    return written

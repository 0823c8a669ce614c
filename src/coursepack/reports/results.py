"""One result model for every way of grading, and its writers.

A :class:`Report` holds one :class:`TestResult` per test run (task, framework,
visibility, score, message) plus what was not run. Every output format (the terminal
table, Gradescope's ``results.json``, CSV; JUnit XML in :mod:`coursepack.integrations.lms.junit`) is a view of the same report
(written with :func:`coursepack.fileio.write_atomic`).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field


@dataclass
class TestResult:
    name: str           # e.g. test_attention.py::test_padding_mask[torch]
    task: str
    framework: str
    visibility: str     # public | hidden
    passed: bool
    score: float
    max_score: float
    message: str = ""
    seconds: float = 0.0
    refused: bool = False  # not graded for a reason the student must see (e.g. a quiz drawn for someone else)


@dataclass
class TaskSummary:
    id: str
    title: str
    framework: str
    score: float
    max_score: float
    passed: int
    failed: int
    hidden_not_run: int = 0
    hidden_points_not_run: float = 0.0


@dataclass
class Report:
    course: str
    submission: str
    frameworks: list[str]
    isolation: str
    mode: str                                  # check | grade
    tests: list[TestResult] = field(default_factory=list)
    tasks: list[TaskSummary] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # problems outside any one test
    seconds: float = 0.0
    worker_peak_mb: float = 0.0                # largest memory of a process running student code
    student: str | None = None                 # whose quiz draw was graded (the submitter, when known)
    identity_source: str = ""                  # where ``student`` came from (platform, roster, or declared)
    declared_student: str | None = None        # the id the submission's manifest declares (a cross-check)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tasks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tasks), 4)

    @property
    def all_passed(self) -> bool:
        return bool(self.tests) and all(t.passed for t in self.tests) and not self.errors

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        """The report :meth:`to_dict` gave (its derived totals are computed again)."""
        data = {k: v for k, v in data.items() if k not in ("score", "max_score")}
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        data["tasks"] = [TaskSummary(**t) for t in data.get("tasks", [])]
        return cls(**data)


def summarise(tests: list[TestResult], tasks, frameworks, hidden_counts: dict[str, int],
              weight: float) -> list[TaskSummary]:
    """Per task and framework: points earned, tests passed, hidden tests not run."""
    by_key = defaultdict(list)
    for t in tests:
        by_key[(t.task, t.framework)].append(t)
    out = []
    for fw in frameworks:
        for task in tasks:
            rows = by_key.get((task.id, fw), [])
            run_hidden = sum(1 for r in rows if r.visibility == "hidden")
            not_run = max(0, hidden_counts.get(task.id, 0) - run_hidden)
            total = len(rows) + not_run
            out.append(TaskSummary(
                id=task.id, title=task.title, framework=fw,
                score=round(sum(r.score for r in rows), 4),
                max_score=round(task.points * weight, 4),
                passed=sum(r.passed for r in rows), failed=sum(not r.passed for r in rows),
                hidden_not_run=not_run,
                hidden_points_not_run=round(task.points * weight * not_run / total, 4) if total else 0.0,
            ))
    return out


# -- writers -----------------------------------------------------------------------

#: What students see of a hidden test on Gradescope (:func:`to_gradescope`): its name and
#: points only, or one of Gradescope's visibilities for everything about it.
HIDDEN_CHOICES = ("name-and-points", "after_due_date", "after_published", "hidden")


def to_gradescope(report: Report, hidden: str = "after_published") -> str:
    """Gradescope's autograder ``results.json``: score plus one entry per test.

    ``hidden`` says what students see of a hidden test: ``name-and-points`` (the test,
    its points and pass/fail, no message), or one of Gradescope's visibilities
    ``after_due_date``, ``after_published``, ``hidden`` (everything, from then on)."""
    tests = []
    for t in report.tests:
        status = "passed" if t.passed else "failed"
        entry = {"name": f"[{t.framework}] {t.task}: {t.name}", "score": t.score, "max_score": t.max_score,
                 "status": status, "output": t.message or status, "visibility": "visible",
                 "tags": [t.task, t.framework]}
        if t.visibility == "hidden":
            if hidden == "name-and-points":
                entry["output"] = t.message if t.refused else f"hidden test {status}"
            else:
                entry["visibility"] = hidden
        tests.append(entry)
    extra = f"Isolation of student code: {report.isolation or 'none (not graded)'}."
    if report.student:
        extra += f" Quizzes graded for {report.student} ({report.identity_source})."
    if report.errors:
        extra += " " + " ".join(report.errors)
    return json.dumps({
        "score": report.score,
        "output": extra,
        "tests": tests,
        "extra_data": {"isolation": report.isolation, "frameworks": report.frameworks, "student": report.student,
                       "identity_source": report.identity_source, "declared_student": report.declared_student},
    }, indent=2) + "\n"


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["submission", "framework", "task", "score", "max_score", "passed", "failed"])
    for s in report.tasks:
        writer.writerow([report.submission, s.framework, s.id, s.score, s.max_score, s.passed, s.failed])
    writer.writerow([report.submission, "+".join(report.frameworks), "TOTAL", report.score,
                     report.max_score, "", ""])
    return buf.getvalue()


def _md(text: str) -> str:
    """Student text inside a Markdown list item: no table pipes, indented continuation lines."""
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "\n  ")


def to_markdown(report: Report, title: str | None = None) -> str:
    """Feedback a student may read: points per task, every failed test and why.

    Hidden tests appear by name with their message, which never holds their inputs or
    expected values (see :mod:`coursepack.testing`)."""
    lines = [f"# Feedback: {title or report.submission}", "",
             f"**Total: {report.score:g} / {report.max_score:g} points**", ""]
    if report.tasks:
        lines += ["| task | track | points | tests passed |", "| --- | --- | --- | --- |"]
        for s in report.tasks:
            lines.append(f"| {s.id} | {s.framework} | {s.score:g} / {s.max_score:g} | {s.passed} of {s.passed + s.failed} |")
        lines.append("")
    failed = [t for t in report.tests if not t.passed]
    if failed:
        lines += ["## What did not pass", ""]
        for t in failed:
            kind = "hidden test" if t.visibility == "hidden" else "public test"
            lines.append(f"- `{t.name}` ({t.task}, {kind}, 0 / {t.max_score:g}): {_md(t.message or 'failed')}")
        lines.append("")
    if report.errors:
        lines += ["## Notes", ""] + [f"- {_md(e)}" for e in report.errors] + [""]
    if report.isolation:
        lines.append(f"Isolation of student code: {report.isolation}. Graded in {report.seconds:g} s.")
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


WRITERS = {"gradescope": to_gradescope, "csv": to_csv, "json": to_json, "markdown": to_markdown}
# JUnit XML is written by :mod:`coursepack.integrations.lms.junit`.

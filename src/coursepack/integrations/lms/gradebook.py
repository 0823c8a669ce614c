"""Gradebooks an LMS imports: Canvas and Moodle CSV from a graded class and its roster.

Canvas (Grades > Import) reads ``Student, ID, SIS User ID, SIS Login ID, Section`` and
then one column per assignment; any other column becomes a new assignment, so the file
holds exactly those five, then the grade columns, and a "Points Possible" row that gives
new assignments their maximum. Moodle (Grades > Import > CSV file) maps one column to a
user field (username, ID number or email address) and the others to grade items: the file
holds that one identifier column, then the grade columns.

``columns="tasks"`` writes one column per task of course.toml and per quiz;
``columns="total"`` one column with the total.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
import json

from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.fileio import write_atomic
from coursepack.integrations.lms.roster import Person, Roster

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTIFIERS = (("username", "Username"), ("id_number", "ID number"), ("email", "Email address"))
LMS = ("canvas", "moodle")
COLUMNS = ("tasks", "total")


def grade_columns(course: Course, columns: str) -> list[tuple[str, str, float]]:
    """(header, key in a result's points, maximum) per grade column."""
    prefix = course.title
    if columns == "total":
        return [(f"{prefix}: total", "total", float(course.total_points))]
    out = [(f"{prefix}: {t.title or t.id}", t.id, float(t.points)) for t in course.tasks]
    out += [(f"{prefix}: {kind}-lecture quiz", f"quiz-{kind}", float(q.points)) for kind, q in course.quizzes.items()
            if q.points]
    return out


def _points(report: dict) -> dict[str, float]:
    points: dict[str, float] = {}
    for summary in report["tasks"]:
        points[summary["id"]] = points.get(summary["id"], 0.0) + summary["score"]
    points["total"] = report["score"]
    return points


def _cell(value: float | None) -> str:
    return "" if value is None else f"{round(value, 4):g}"


def _safe(value: str) -> str:
    """Roster text a spreadsheet would run as a formula gets a leading quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_lms_gradebook(course: Course, roster: Roster, results: dict[str, dict], out: Path, lms: str,
                        columns: str = "tasks") -> Path:
    """Write ``out`` for ``lms`` (canvas | moodle): one row per roster student, in roster
    order; a student without a result gets empty cells (Canvas and Moodle then leave the
    grade as it is). ``results`` maps submission names to their reports."""
    if lms not in LMS:
        raise CourseError(f"unknown LMS {lms!r}", fix=f"use one of {', '.join(LMS)}")
    if columns not in COLUMNS:
        raise CourseError(f"unknown gradebook columns {columns!r}", fix=f"use one of {', '.join(COLUMNS)}")
    grades = grade_columns(course, columns)
    people = sorted(roster.people.values(), key=lambda p: p.row)
    if lms == "canvas":
        if not roster.columns & {"canvas_id", "sis_user_id", "sis_login_id", "name"}:
            raise CourseError("has none of Canvas's Student, ID, SIS User ID or SIS Login ID columns", path=roster.path,
                              fix="export the roster from Canvas's gradebook (it has them) and add a submission column")
        header = [*CANVAS_IDENTITY, *[g[0] for g in grades]]
        rows = [["    Points Possible", "", "", "", "", *[_cell(g[2]) for g in grades]]]
        ident = lambda p: [p.name, p.canvas_id, p.sis_user_id, p.sis_login_id, p.section]  # noqa: E731
    else:
        field = next(((f, h) for f, h in MOODLE_IDENTIFIERS if f in roster.columns), None)
        if field is None:
            raise CourseError("has no Username, ID number or Email address column, which Moodle matches users by",
                              path=roster.path, fix="export the participants from Moodle with one of them")
        header = [field[1], *[g[0] for g in grades]]
        rows = []
        ident = lambda p: [getattr(p, field[0])]  # noqa: E731
    for person in people:
        report = results.get(person.submission)
        points = _points(report) if report else {}
        rows.append([*map(_safe, ident(person)), *[_cell(points.get(g[1])) if report else "" for g in grades]])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(Path(out), buf.getvalue())
    return Path(out)


def class_results(out: Path) -> dict[str, dict]:
    """The reports stored in a graded class's ``OUT/results/`` by submission name."""
    reports = {}
    for path in sorted((Path(out) / "results").glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("report"), dict):
            reports[record.get("entry", path.stem)] = record["report"]
    return reports


__all__ = ["write_lms_gradebook", "class_results", "grade_columns", "Person"]

"""A class roster: which student each submission of a class folder belongs to.

A CSV file, as an LMS exports it, with a header row. Columns are recognised by name
(case and spacing ignored):

``submission``
    the submission's name in the class folder (``alice`` for ``alice.zip``);
    without this column, the student id is the name.
``student_id``
    the id the student took the quizzes with (``course quiz --student``); without it,
    the first of ``SIS Login ID``, ``Username``, ``Email address``, ``ID number``,
    ``SIS User ID`` that the file has.
Canvas's ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section`` and Moodle's
``Username``, ``ID number``, ``Email address`` are kept for the gradebooks
(:mod:`coursepack.integrations.lms.gradebook`). Canvas's "Points Possible" row is skipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from coursepack.errors import CourseError

COLUMNS = {
    "submission": "submission",
    "student_id": "student_id", "student id": "student_id",
    "student": "name", "name": "name", "full name": "name",
    "id": "canvas_id",
    "sis user id": "sis_user_id",
    "sis login id": "sis_login_id",
    "section": "section",
    "username": "username",
    "id number": "id_number", "idnumber": "id_number",
    "email": "email", "email address": "email",
}
STUDENT_FALLBACK = ("sis_login_id", "username", "email", "id_number", "sis_user_id")


@dataclass(frozen=True)
class Person:
    submission: str
    student: str
    row: int
    name: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    username: str = ""
    id_number: str = ""
    email: str = ""


@dataclass(frozen=True)
class Roster:
    path: Path
    people: dict[str, Person]      # by submission name
    columns: frozenset[str]        # the fields the file has

    def source(self, person: Person) -> str:
        return f"the class roster ({self.path.name}, row {person.row})"


def load_roster(path: Path) -> Roster:
    """Read a roster CSV; CourseError naming the file, the row and the fix for any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CourseError("does not exist", path=path, fix="pass the roster CSV exported from your LMS") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"cannot be read as UTF-8 text ({exc})", path=path,
                          fix="save the roster as CSV in UTF-8") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise CourseError("is empty", path=path, fix="export the roster with its header row")
    fields = [COLUMNS.get(" ".join(h.strip().lower().replace("_", " ").split()).replace("student id", "student_id"))
              for h in rows[0]]
    have = {f for f in fields if f}
    id_field = "student_id" if "student_id" in have else next((f for f in STUDENT_FALLBACK if f in have), None)
    if id_field is None:
        raise CourseError("has no column that identifies students (student_id, SIS Login ID, Username, "
                          f"Email address, ID number or SIS User ID); its header is {', '.join(rows[0])}",
                          path=path, fix="add a student_id column with the ids the students took the quizzes with")
    people: dict[str, Person] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {f: v.strip() for f, v in zip(fields, row) if f}
        if not any(values.values()) or "points possible" in values.get("name", "").lower():
            continue
        student = values.get(id_field, "")
        if not student:
            raise CourseError(f"row {number} has no {id_field.replace('_', ' ')}", path=path,
                              fix="fill it in, or remove the row")
        submission = values.get("submission") or student
        if submission in people:
            raise CourseError(f"rows {people[submission].row} and {number} are both for submission {submission!r}",
                              path=path, fix="keep one row per submission")
        values.pop("student_id", None)
        values.pop("submission", None)
        people[submission] = Person(submission=submission, student=student, row=number, **values)
    return Roster(path, people, frozenset(have))


def identities(roster: Roster) -> dict[str, tuple[str, str]]:
    """Submission name -> (student id, where it came from), for :func:`coursepack.grading.batch.grade_class`."""
    return {name: (person.student, roster.source(person)) for name, person in roster.people.items()}

"""Who submitted, as the platform says, not as the submission claims.

A submission's manifest names a student (``course submit --student``), and its quiz
answers file names whom the questions were drawn for; both are written by the student.
The platform knows better: Gradescope lists the submitting users in
``submission_metadata.json``, the instructors' GitHub workflow has the roster line of
the repository, and a class folder may come with a roster exported from the LMS
(:mod:`coursepack.integrations.lms.roster`). An :class:`Identity` is that answer and where it came
from; grading then scores the quizzes for that student only, and every result records
whose draw was graded and the source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from coursepack.errors import CourseError

GRADESCOPE_FIELDS = ("email", "sid", "id", "name")


@dataclass(frozen=True)
class Identity:
    student: str    # the id the quiz draw must have been made for
    source: str     # where it came from, in words a person reads in the results


def from_gradescope(path: Path, field: str = "email") -> Identity | None:
    """The submitter in Gradescope's ``submission_metadata.json`` (None when the file is absent).

    ``field`` is the user attribute students use as their course id (``email`` by
    default). A group submission is graded for its first listed member, and the source
    says so."""
    path = Path(path)
    if not path.is_file():
        return None
    if field not in GRADESCOPE_FIELDS:
        raise CourseError(f"unknown Gradescope user field {field!r}", fix=f"use one of {', '.join(GRADESCOPE_FIELDS)}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CourseError(f"is not readable JSON ({exc})", path=path,
                          fix="this file is written by Gradescope; report the problem to your instructor") from None
    users = data.get("users") if isinstance(data, dict) else None
    ids = [str(u[field]).strip() for u in users or [] if isinstance(u, dict) and str(u.get(field) or "").strip()]
    if not ids:
        raise CourseError(f"lists no submitting user with a {field!r}", path=path,
                          fix="check the assignment's roster on Gradescope, or choose another --id-field")
    source = f"Gradescope ({path.name}, user {field})"
    if len(ids) > 1:
        source += f"; group of {len(ids)}, graded for the first member (others: {', '.join(ids[1:])})"
    return Identity(ids[0], source)


def given(student: str | None, source: str | None) -> Identity | None:
    """An identity a caller states (``--student``, a roster line): None without a student."""
    if student is None or not student.strip():
        return None
    return Identity(student.strip(), source or "given on the command line (--student)")

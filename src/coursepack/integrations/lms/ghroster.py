"""The instructors' GitHub roster: one student repository per line, with whose it is.

``roster.txt`` holds lines ``owner/name student-id`` (whitespace or a comma between);
``#`` starts a comment. The student id is the one the student took the quizzes with.
The grading workflow runs this module before anything is installed (standard library
only, Python 3.8+), as ``python3 -m coursepack.integrations.lms.ghroster roster.txt --parts K``: it
prints ``count=N`` and ``part1=[...]`` ... ``partK=[...]`` for ``$GITHUB_OUTPUT``, each
part a JSON list of ``{"repo", "student", "line"}`` of at most 256 entries (GitHub's
limit of jobs per matrix), and a problem as a GitHub error annotation naming the line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

MATRIX_LIMIT = 256
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")


class RosterError(ValueError):
    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path} line {line}: {message}" if line else f"{path}: {message}")
        self.path, self.line, self.message = path, line, message


def parse(text: str, path: str = "roster.txt") -> list[dict]:
    """The roster's entries, in file order; RosterError for a malformed line."""
    entries: list[dict] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0]
        fields = [f for f in re.split(r"[\s,]+", line.strip()) if f]
        if not fields:
            continue
        if len(fields) != 2:
            raise RosterError(path, number, f"expected `owner/name student-id`, found {len(fields)} field(s): "
                                            f"{raw.strip()!r}")
        repo, student = fields
        if not _REPO.match(repo):
            raise RosterError(path, number, f"{repo!r} is not a repository (owner/name)")
        if repo.lower() in seen:
            raise RosterError(path, number, f"{repo} is listed already on line {seen[repo.lower()]}")
        seen[repo.lower()] = number
        entries.append({"repo": repo, "student": student, "line": number})
    return entries


def split(entries: list[dict], parts: int, size: int = MATRIX_LIMIT) -> list[list[dict]]:
    """``parts`` lists of at most ``size`` entries (later ones empty when the class is small)."""
    if len(entries) > parts * size:
        raise RosterError("roster.txt", 0, f"lists {len(entries)} repositories, more than the {parts * size} this "
                                           f"workflow grades ({parts} job(s) of {size})")
    return [entries[i * size:(i + 1) * size] for i in range(parts)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roster")
    parser.add_argument("--parts", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        text = Path(args.roster).read_text(encoding="utf-8")
        entries = parse(text, args.roster)
        if not entries:
            raise RosterError(args.roster, 0, "lists no repository: add one line `owner/name student-id` per student")
        parts = split(entries, args.parts)
    except OSError as exc:
        print(f"::error file={args.roster}::cannot read the roster ({exc})", file=sys.stderr)
        return 1
    except RosterError as exc:
        where = f"file={exc.path}" + (f",line={exc.line}" if exc.line else "")
        fix = (" Regenerate the workflow with a larger `course autograder github --max-repos`."
               if "more than" in exc.message else "")
        print(f"::error {where}::{exc.message}.{fix}", file=sys.stderr)
        return 1
    print(f"count={len(entries)}")
    for index, part in enumerate(parts, start=1):
        print(f"part{index}={json.dumps(part, separators=(',', ':'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The files a student must not change, and how a submission is checked against them.

The release ships the public tests, ``course.toml`` and the students' workflow; their
SHA-256 digests go into every ``course submit`` manifest. Grading compares a submission
with what the release shipped, from the manifest (:func:`protected_changes`) or from the
files on disk (:func:`protected_changes_on_disk`), so an instructor sees an edited test
or an added ``conftest.py``. Grading never runs the student's copies of these files:
the findings are for people, not for the score.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from coursepack.course.config import Course
from coursepack.templating import render

PROTECTED = ("assignments/tests/", "course.toml", ".github/")


def student_workflow() -> str:
    """The students' GitHub Actions workflow: public checks on every push, progress in the job summary."""
    return render("student/course-check.yml")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_course_toml(course: Course) -> str:
    """The release's course.toml: the instructor's, with the banks replaced by the students' copies."""
    text = course.path.read_text(encoding="utf-8")
    for kind, config in course.quizzes.items():
        text = text.replace(f'"{config.bank.relative_to(course.root).as_posix()}"', f'"quizzes/{kind}.json"')
    return text


def release_protected(course: Course) -> dict[str, str]:
    """SHA-256 of every file a student must not change, as the release ships it."""
    digests = {"course.toml": _digest(release_course_toml(course).encode("utf-8")),
               ".github/workflows/course-check.yml": _digest(student_workflow().encode("utf-8"))}
    for path in sorted(course.public_tests.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digests[path.relative_to(course.root).as_posix()] = _digest(path.read_bytes())
    return digests


def protected_digests(root: Path) -> dict[str, str]:
    """SHA-256 of the protected files as they are in a student's copy."""
    digests = {}
    for prefix in PROTECTED:
        base = root / prefix
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        for path in paths:
            if "__pycache__" not in path.parts:
                digests[path.relative_to(root).as_posix()] = _digest(path.read_bytes())
    return digests


def protected_changes(course: Course, manifest: dict) -> list[str]:
    """Protected files the student changed or removed, according to their manifest."""
    theirs = manifest.get("protected") if isinstance(manifest, dict) else None
    if not isinstance(theirs, dict):
        return ["the manifest lists no protected files"]
    ours = release_protected(course)
    changed = [rel for rel, digest in ours.items() if theirs.get(rel) != digest]
    changed += [rel for rel in theirs if rel not in ours]  # e.g. an added conftest.py or workflow
    return sorted(changed)
PYTEST_CONFIG = ("conftest.py", "pytest.ini")
_NOT_WORK = {".git", ".venv", "venv", "node_modules", "__pycache__", ".course"}


def protected_changes_on_disk(course: Course, folder: Path) -> list[str]:
    """Protected files changed, removed or added in a submission as it lies on disk.

    ``folder`` is laid out like ``assignments/``; when it is the ``assignments/`` of a
    whole course repository, the repository's ``course.toml`` and ``.github/`` are
    compared too. A ``conftest.py`` or ``pytest.ini`` anywhere is flagged (grading never
    runs them, but an instructor should see them)."""
    folder = Path(folder)
    repo = folder.parent if folder.name == "assignments" and (folder.parent / "course.toml").is_file() else None
    if folder.resolve() == course.assignments.resolve():
        return []  # the instructor's own copy, not a submission
    ours = release_protected(course)
    changed: list[str] = []

    def compare(rel: str, path: Path, missing_counts: bool) -> None:
        if path.is_file() and not path.is_symlink():
            if _digest(path.read_bytes()) != ours[rel]:
                changed.append(f"{rel} (changed)")
        elif missing_counts:
            changed.append(f"{rel} (removed)")

    for rel in ours:
        if rel.startswith("assignments/"):
            compare(rel, folder / rel[len("assignments/"):], repo is not None)
        elif repo is not None:
            compare(rel, repo / rel, True)
    roots = [(folder, "assignments/")] + ([(repo, "")] if repo is not None else [])
    for base, prefix in roots:
        for parent, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if d not in _NOT_WORK and not (base == repo and d == "assignments")]
            for name in files:
                rel = prefix + (Path(parent) / name).relative_to(base).as_posix()
                protected_place = rel.startswith(("assignments/tests/", ".github/"))
                if rel not in ours and (protected_place or name in PYTEST_CONFIG):
                    changed.append(f"{rel} (added)")
    return sorted(set(changed))

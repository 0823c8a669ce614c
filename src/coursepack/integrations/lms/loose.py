"""Loose module files: a submission uploaded as plain files (``attention.py``, ...).

Gradescope hands over whatever the student dragged in: often the task files alone, at
the top of the submission folder, without their track folder. They are graded by being
laid into a copy of the track's stubs by their names (``attention.py`` becomes
``course_torch/attention.py``), so the tasks not handed in score 0 and imports between
modules still work. Quiz answers uploaded as ``post.json`` go to ``quiz_answers/``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from coursepack.course.config import Course

_FRAMEWORK_HINTS = {"torch": re.compile(r"^\s*(import|from)\s+torch\b", re.M),
                    "tf": re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b", re.M)}


def _track_files(course: Course, framework: str) -> dict[str, str]:
    """Module file name -> its place in the track (names that occur once only)."""
    places: dict[str, list[str]] = {}
    for package in sorted(course.package_dirs(framework)):
        for stub in sorted((course.assignments / package).rglob("*.py")):
            rel = stub.relative_to(course.assignments).as_posix()
            places.setdefault(stub.name, []).append(rel)
    return {name: rels[0] for name, rels in places.items() if len(rels) == 1 and name != "__init__.py"}


def loose_files(course: Course, folder: Path) -> list[Path]:
    """The module files at the top of ``folder`` that name a file of some track."""
    names = {n for fw in course.frameworks for n in _track_files(course, fw)}
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.is_symlink() and p.name in names)


def guess_framework(course: Course, files: list[Path]) -> str:
    """The track the files are written for, by their imports (else ``[course] framework``)."""
    votes = {fw: 0 for fw in course.frameworks}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for fw in votes:
            votes[fw] += bool(_FRAMEWORK_HINTS[fw].search(text)) if fw in _FRAMEWORK_HINTS else 0
    best = max(votes.values())
    winners = [fw for fw, n in votes.items() if n == best]
    return winners[0] if best and len(winners) == 1 else course.framework


def lay_out(course: Course, folder: Path, dest: Path, framework: str | None = None) -> tuple[str, list[str]] | None:
    """Lay the loose files of ``folder`` into ``dest`` (a copy of the track's stubs).

    Returns (framework, the places the files were put) or None when ``folder`` holds no
    loose module file."""
    folder, dest = Path(folder), Path(dest)
    files = loose_files(course, folder)
    if not files:
        return None
    framework = framework if framework in course.frameworks else guess_framework(course, files)
    places = _track_files(course, framework)
    for package in course.package_dirs(framework):
        shutil.copytree(course.assignments / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in course.shared_files:
        if course.shared_source(name).is_file():
            shutil.copy2(course.shared_source(name), dest / name)
    laid = []
    for path in files:
        if path.name in places:
            shutil.copyfile(path, dest / places[path.name])
            laid.append(places[path.name])
    answers = folder / "quiz_answers"
    if answers.is_dir() and not answers.is_symlink():
        shutil.copytree(answers, dest / "quiz_answers", symlinks=False)
    else:
        for kind in course.quizzes:
            loose = folder / f"{kind}.json"
            if loose.is_file() and not loose.is_symlink():
                (dest / "quiz_answers").mkdir(exist_ok=True)
                shutil.copyfile(loose, dest / "quiz_answers" / loose.name)
    for name in ("conftest.py", "pytest.ini"):  # kept, so that the protected-file check sees them
        if (folder / name).is_file():
            shutil.copyfile(folder / name, dest / name)
    return framework, laid

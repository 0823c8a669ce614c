"""Build throw-away submissions (copies of the solutions or the stubs, edited) for tests."""

from __future__ import annotations

import shutil
from pathlib import Path


def make_submission(course, dest: Path, base: str = "solutions", framework: str = "torch") -> Path:
    """Copy one track of ``solutions`` or ``assignments`` into ``dest``."""
    source = course.solutions if base == "solutions" else course.assignments
    dest.mkdir(parents=True, exist_ok=True)
    package = f"course_{framework}"
    shutil.copytree(source / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(source / "toylang.py", dest / "toylang.py")
    return dest


def edit(path: Path, old: str, new: str) -> None:
    """Replace every occurrence of ``old``; fail loudly when the solution changed under us."""
    text = path.read_text()
    assert old in text, f"{path.name}: the text to mutate was not found: {old!r}"
    path.write_text(text.replace(old, new))

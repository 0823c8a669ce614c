"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from coursepack.course.config import load_course

REPO = Path(__file__).resolve().parents[1]

# The suite already runs two test processes on two cores: a second grading lane in each
# (judge/lanes.py) would only add the start of a second worker to every grading. The tests
# of the lanes themselves, and the lifecycle tests, ask for two.
os.environ.setdefault("COURSE_LANES", "1")
# `course check` in a terminal keeps a check server (grading/warm_checks.py): never from the
# suite's own commands, so that no test leaves one behind. Its tests turn it on.
os.environ.setdefault("COURSE_WARM_CHECKS", "0")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def course():
    return load_course(REPO / "course.toml")


@pytest.fixture
def course_copy(tmp_path) -> Path:
    """A writable copy of the course (course.toml, solutions, assignments, autograder, quizzes)."""
    dest = tmp_path / "course"
    dest.mkdir()
    shutil.copy2(REPO / "course.toml", dest / "course.toml")
    for name in ("solutions", "assignments", "autograder", "quizzes"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest

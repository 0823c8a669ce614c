"""The worker runs under the strongest isolation available, and says which."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from coursepack import sandbox
from coursepack.grading import grade


@pytest.fixture
def isolation(monkeypatch):
    def force(level):
        monkeypatch.setenv("COURSE_ISOLATION", level)
        sandbox.isolation_level.cache_clear()
    yield force
    monkeypatch.delenv("COURSE_ISOLATION", raising=False)
    sandbox.isolation_level.cache_clear()


@pytest.mark.parametrize("level", ["nobody", "process"])
def test_reduced_isolation_still_grades_and_is_reported(course, isolation, level):
    if sandbox.LEVELS.index(level) < sandbox.LEVELS.index(sandbox.isolation_level()):
        pytest.skip(f"this machine cannot provide {level}")
    isolation(level)
    in_force = sandbox.isolation_level()
    # Never stronger than asked; weaker only when nobody cannot reach the interpreter.
    assert sandbox.LEVELS.index(in_force) >= sandbox.LEVELS.index(level)
    report, _ = grade(course, course.solutions, frameworks=("torch",), tasks={"sinusoidal"})
    assert report.isolation == in_force
    assert report.tests and all(t.passed for t in report.tests)


def test_isolation_can_only_be_lowered(isolation):
    natural = sandbox.isolation_level()
    isolation("namespaces+nobody")
    assert sandbox.isolation_level() == natural


def test_namespace_command_hides_everything_but_the_system(tmp_path):
    worker = tmp_path / "w"
    script = sandbox._mount_script(worker_dir=worker, hide=[tmp_path.parent, tmp_path / "inside"])
    hidden = re.findall(r"course-hidden (\S+)", script)
    assert "/tmp" in hidden and "/usr" not in hidden and "/etc" not in hidden
    assert str(tmp_path / "inside") not in hidden  # already covered by /tmp
    assert all(not h.startswith(("/usr", "/lib", "/proc")) for h in hidden)
    assert re.search(rf"mount --bind /mnt/k\d+ {re.escape(str(worker))}", script)  # mounted back
    prefix = str(Path(sys.prefix).resolve())
    if any(prefix.startswith(h + "/") for h in hidden):
        assert re.search(rf"mount --bind /mnt/k\d+ {re.escape(prefix)}", script)

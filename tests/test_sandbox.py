"""The worker runs under the strongest isolation available, and says which."""

from __future__ import annotations

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
    assert sandbox.isolation_level() == level
    report, _ = grade(course, course.solutions, frameworks=("torch",), tasks={"sinusoidal"})
    assert report.isolation == level
    assert report.tests and all(t.passed for t in report.tests)


def test_isolation_can_only_be_lowered(isolation):
    natural = sandbox.isolation_level()
    isolation("namespaces+nobody")
    assert sandbox.isolation_level() == natural


def test_namespace_command_hides_course_and_keeps_worker(tmp_path):
    script = sandbox._mount_script(worker_dir=tmp_path / "w", hide=[Path("/srv/course"), tmp_path.parent,
                                                                    tmp_path / "inside"])
    assert "course-hidden /srv/course" in script
    assert f"course-hidden {tmp_path.parent}" in script
    assert str(tmp_path / "inside") not in script.replace(str(tmp_path / "w"), "")  # already covered
    assert f"mount --bind /mnt/k0 {tmp_path / 'w'}" in script or f"{tmp_path / 'w'}" in script

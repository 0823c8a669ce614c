"""Plain pytest on the public tests stops with guidance; grading ignores that conftest.

The public tests need the `course` tool (their `judge` drives the student's code in a
sandboxed worker), so `pytest assignments/tests` alone would fail with "fixture 'judge'
not found". assignments/tests/conftest.py turns that into a message naming the commands
to run instead; grading runs pytest with --noconftest, so it never sees the file.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def plain_pytest(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("target", ["assignments/tests", "assignments/tests/test_attention.py"])
def test_plain_pytest_says_to_run_course_check(repo, target):
    proc = plain_pytest(target, cwd=repo)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, out
    assert "Run `course check` (every task) or `course check TASK`" in out, out
    assert "sandboxed worker process through the `course` tool" in out
    assert "fixture 'judge' not found" not in out and "PytestUnknownMarkWarning" not in out


def test_the_conftest_registers_the_task_marker(repo):
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("public_conftest", repo / "assignments" / "tests" / "conftest.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)

    class Config:
        lines = []

        def addinivalue_line(self, name, line):
            self.lines.append((name, line))

    config = Config()
    with pytest.raises(pytest.UsageError, match="course check"):
        module.pytest_configure(config)
    assert config.lines and config.lines[0][0] == "markers" and config.lines[0][1].startswith("task(id)")


@pytest.mark.slow
def test_grading_the_reference_ignores_the_conftest(course):
    from coursepack.grading.grader import grade

    assert (course.public_tests / "conftest.py").is_file()
    report, _ = grade(course, course.solutions, frameworks=("torch",), tasks={"sinusoidal"}, mode="check")
    assert report.errors == [] and report.tests and all(t.passed for t in report.tests)

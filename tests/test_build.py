"""Stubs are generated from solutions/, and nothing generated may drift."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coursepack.authoring.build import build
from coursepack.course.stubs import BEGIN, END, make_stub
from coursepack.course.config import load_course
from coursepack.errors import CourseError


class FakeTask:
    id, title = "sdpa", "Scaled dot-product attention"


SOURCE = textwrap.dedent(f'''\
    import math


    def attention(q):
        """The contract stays."""
        # a hint stays too
        {BEGIN}
        scale = 1 / math.sqrt(q)
        return scale
        {END}


    {BEGIN}
    def _helper():
        return 42
    {END}
    ''')


def test_stub_keeps_contract_and_names_the_task():
    stub = make_stub(SOURCE, Path("attention.py"), {"attention": FakeTask()})
    assert '"""The contract stays."""' in stub and "# a hint stays too" in stub
    assert "math.sqrt" not in stub and "_helper" not in stub
    assert "raise NotImplementedError(\"task 'sdpa' (Scaled dot-product attention): write this part; " \
           "`course check sdpa` tests it\")" in stub
    namespace = {}
    exec(compile(stub, "attention.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="task 'sdpa'"):
        namespace["attention"](4)


@pytest.mark.parametrize("broken, message", [
    (SOURCE.replace(f"    {END}\n", "", 1), "inside another solution region"),
    (SOURCE.replace(f"    {BEGIN}\n", "", 1), "without"),
    (SOURCE.rsplit(END, 1)[0], "never closed"),
])
def test_unbalanced_markers_are_refused(broken, message):
    with pytest.raises(CourseError, match=message):
        make_stub(broken, Path("attention.py"), {})


def test_shipped_assignments_match_solutions(course):
    """`course build --check`: stubs and recorded expected values are up to date."""
    result = build(course, check=True)
    assert result.drifted == [], f"run `course build`; drifted: {result.drifted}"


def test_build_check_names_a_drifted_file(course_copy):
    stub = course_copy / "assignments" / "course_torch" / "attention.py"
    stub.write_text(stub.read_text() + "\n# edited by hand\n")
    proc = subprocess.run([sys.executable, "-m", "coursepack.cli", "--course", str(course_copy), "build", "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "assignments/course_torch/attention.py" in proc.stdout


def test_build_check_notices_a_changed_solution(course_copy):
    course = load_course(course_copy)
    solution = course_copy / "solutions" / "course_torch" / "encoder.py"
    solution.write_text(solution.read_text() + "\n# a changed reference\n")
    drifted = {p.name for p in build(course, check=True).drifted}
    assert "test_encoder.npz" in drifted and "test_encoder_hidden.npz" in drifted


def test_generated_stubs_import_cleanly(course):
    modules = sorted({t.module("torch") for t in course.tasks})
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    proc = subprocess.run([sys.executable, "-c", code], cwd=course.assignments, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

"""course.toml is validated on load: every mistake names the file, the key and the fix."""

from __future__ import annotations

import re

import pytest

from coursepack.course.config import load_course
from coursepack.errors import CourseError


def edit(path, old, new, count=1):
    text = path.read_text()
    assert old in text, f"fixture text not found: {old!r}"
    path.write_text(text.replace(old, new, count))


def error_of(path) -> str:
    with pytest.raises(CourseError) as info:
        load_course(path)
    return str(info.value)


def test_the_shipped_course_loads(course):
    assert [t.id for t in course.tasks] == ["additive", "sdpa", "sinusoidal", "learned_position", "multihead",
                                           "encoder_block", "mini_bert", "mask_tokens", "pretraining"]
    assert course.total_points == 100
    assert course.task("pretraining").time_limit == 120
    assert course.task("sdpa").time_limit == 60          # the [limits] default
    assert course.task("multihead").module("torch") == "course_torch.multihead"
    assert course.nbgrader.assignment == "attention" and course.nbgrader.duedate.startswith("2026-12-18")


@pytest.mark.parametrize("old, new, expect", [
    ('points = 14', 'pointz = 14', r"unknown key 'pointz' in \[\[tasks\]\] #2.*Fix: remove it or use one of"),
    ('points = 14', 'points = 0', r"points = 0 must be a positive number"),
    ('points = 14', 'points = -3', r"points = -3 must be a positive number"),
    ('id = "sdpa"', 'id = "additive"', r"duplicate task id 'additive'.*unique id"),
    ('files = { torch = "course_torch/positional.py", tf', 'files = { torch = "course_torch/nowhere.py", tf',
     r"files.torch = 'course_torch/nowhere.py' does not exist"),
    ('public_tests = ["test_multihead.py"]', 'public_tests = ["test_missing.py"]',
     r"public_tests lists 'test_missing.py', which is not in"),
    ('frameworks = ["torch", "tf"]', 'frameworks = ["jax"]', r"unknown framework 'jax'"),
    ('shared_files = ["toylang.py"]', 'shared_files = ["../toylang.py"]', r"outside the course folder"),
    ('symbols = ["AdditiveAttention"]', 'symbols = [3]', r"symbols must be a list of non-empty strings"),
    ('time_limit = 60 ', 'time_limit = "soon" ', r"time_limit = 'soon' must be a positive number"),
    ('title = "Sinusoidal positional encoding"\n', '', r"is missing the key 'title'.*Fix: add title"),
    ('title = "Sinusoidal positional encoding"', 'title = 4', r"title = 4 should be a string.*Fix: give title a string"),
    ('assignment = "attention"', 'assignment = "my assignment"', r"not a valid nbgrader assignment id"),
    ('cell_timeout = 300', 'cell_timout = 300', r"unknown key 'cell_timout' in \[nbgrader\]"),
    ('cell_timeout = 300', 'cell_timeout = 0', r"\[nbgrader\] cell_timeout = 0 must be a positive number"),
])
def test_malformed_course_file_names_file_key_and_fix(course_copy, old, new, expect):
    path = course_copy / "course.toml"
    edit(path, old, new)
    message = error_of(path)
    assert str(path) in message
    assert re.search(expect, message, re.S), message
    assert "Fix:" in message


def test_bad_toml_syntax(course_copy):
    path = course_copy / "course.toml"
    edit(path, '[limits]', '[limits')
    message = error_of(path)
    assert "is not valid TOML" in message and "line" in message


def test_missing_course_file(tmp_path):
    assert "file not found" in error_of(tmp_path / "nope.toml")

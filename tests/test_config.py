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
    ('id = 218', 'id = 118', r"\[quizzes.post\] id = 118 is also \[quizzes.pre\]'s id.*Fix: give every quiz its own id"),
    ('id = 118 ', 'idd = 118 ', r"unknown key 'idd' in \[quizzes.pre\]"),
    ('id = 218\n', '', r"\[quizzes.post\] is missing the key 'id'"),
    ('curriculum = ["weighting", "bert-acronym", "relative-position"]', 'curriculum = "weighting"',
     r"\[quizzes.pre\] curriculum must be a list of non-empty strings"),
    ('number = 18 ', 'number = 0 ', r"\[lesson\] number = 0 must be a positive whole number"),
    ('summary = """', 'summmary = """', r"unknown key 'summmary' in \[lesson\]"),
    ('quiz_app_title = {', 'app_title = {', r"unknown key 'app_title' in \[lesson\]"),
    ('quiz_app_title = { en = "Attention mechanisms and Transformers: quizzes", zh =',
     'quiz_app_title = { en = "Quizzes", fr =', r"quiz_app_title = .* needs a title in each of en, zh"),
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


def test_the_quizzes_need_the_lessons_sections_number_and_app_title(course_copy):
    path = course_copy / "course.toml"
    text = path.read_text()
    start = text.index("[lesson.sections]")
    path.write_text(text[:start] + text[text.index("\n\n", start):])  # no sections
    message = error_of(path)
    assert "[lesson] has no sections, which the quizzes need" in message and "[lesson.sections]" in message
    edit(path, "number = 18 ", "# number = 18 ")
    assert "[lesson] has no number" in error_of(path)
    edit(path, "[lesson]\n", "[lessons]\n")
    assert "unknown key 'lessons' in the top level" in error_of(path)

"""A quiz question may name the course.toml tasks it tests (``tasks = ["sdpa"]``).

The bank parses the field; the course checks the ids when it loads its banks
(:func:`coursepack.quiz.bank.course_bank`), so a typo stops `course quiz validate`,
`course build` and grading with a message naming the bank, the question and the ids.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from coursepack.course.config import load_course
from coursepack.errors import CourseError
from coursepack.quiz.bank import course_bank, load_bank, parse_bank
from coursepack.quiz.grading import reference_answers


def one_question(**changes) -> dict:
    question = {"id": "post-x", "type": "truefalse", "section": "scaled-dot-product",
                "prompt": {"en": "P", "zh": "题"}, "answer": True, "explanation": {"en": "E", "zh": "解"}}
    question.update(changes)
    return {"quiz": {"id": 218, "kind": "post", "title": {"en": "T", "zh": "标题"}}, "questions": [question]}


def test_tasks_are_parsed_and_optional(tmp_path, course):
    bank = parse_bank(one_question(tasks=["sdpa", "multihead"]), tmp_path / "post.toml", course.quiz("post"))
    assert bank.questions[0].tasks == ("sdpa", "multihead")
    assert parse_bank(one_question(), tmp_path / "post.toml", course.quiz("post")).questions[0].tasks == ()


@pytest.mark.parametrize("value", ["sdpa", ["sdpa", "sdpa"], [""], [3]])
def test_malformed_tasks_are_refused(tmp_path, course, value):
    with pytest.raises(CourseError, match=r"post\.toml: question 'post-x': tasks = .* must be a list of distinct"):
        parse_bank(one_question(tasks=value), tmp_path / "post.toml", course.quiz("post"))


def test_unknown_task_names_the_bank_the_question_and_the_known_ids(tmp_path, course):
    ids = [t.id for t in course.tasks]
    with pytest.raises(CourseError) as err:
        parse_bank(one_question(tasks=["sdpa", "spda"]), tmp_path / "post.toml", course.quiz("post"), task_ids=ids)
    message = str(err.value)
    assert f"{tmp_path / 'post.toml'}: question 'post-x': tasks names 'spda'" in message
    assert ", ".join(ids) in message


def test_the_course_banks_tag_questions_with_real_tasks(course):
    """Both banks name tasks, only known ones (course_bank checks), and the tags read right."""
    ids = {t.id for t in course.tasks}
    tagged = {}
    for kind in course.quizzes:
        for q in course_bank(course, kind).questions:
            assert set(q.tasks) <= ids
            tagged[q.id] = q.tasks
    assert tagged["post-sdpa-scale-factor"] == ("sdpa",)
    assert tagged["post-bert-mask-count"] == ("mask_tokens",)
    assert tagged["pre-multi-head-why"] == ("multihead",)
    assert tagged["post-variants-distilbert"] == ()   # a question may test no task
    assert sum(bool(t) for t in tagged.values()) >= 20


def test_a_bank_naming_an_unknown_task_stops_where_the_course_loads_it(course_copy):
    bank = course_copy / "quizzes" / "post.toml"
    text = bank.read_text(encoding="utf-8")
    assert 'tasks = ["mask_tokens"]' in text
    bank.write_text(text.replace('tasks = ["mask_tokens"]', 'tasks = ["masking"]'), encoding="utf-8")
    course = load_course(course_copy / "course.toml")
    load_bank(bank, course.quiz("post"))  # alone, the bank cannot know the course's ids
    with pytest.raises(CourseError, match="tasks names 'masking', which is not a task of course.toml"):
        reference_answers(course, "post")  # what `course build` records
    proc = subprocess.run([sys.executable, "-m", "coursepack.cli", "--course", str(course.path), "quiz", "validate"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    out = " ".join((proc.stdout + proc.stderr).split())
    assert "post.toml: question 'post-bert-mask-count': tasks names 'masking'" in out, out
    assert "mini_bert, mask_tokens, pretraining" in out

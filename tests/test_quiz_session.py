"""Opening a quiz without the CLI: the refusals `course quiz` relies on live in the library."""

from __future__ import annotations

import json

import pytest

from coursepack.errors import CourseError
from coursepack.quiz.session import open_quiz, write_sheet


def test_a_quiz_opens_and_its_sheet_lists_the_drawn_questions(course_copy, tmp_path):
    from coursepack.course.config import load_course

    course = load_course(course_copy / "course.toml")
    run = open_quiz(course, "post", student="ada", interactive=False, sheet=tmp_path / "sheet.json")
    assert run.path == course.assignments / "quiz_answers" / "post.json" and run.path.is_file()
    assert not run.feedback and run.progress.student == "ada"
    assert len(run.progress.questions) == course.quiz("post").draw
    write_sheet(run, tmp_path / "sheet.json")
    sheet = json.loads((tmp_path / "sheet.json").read_text(encoding="utf-8"))
    assert sheet and "answer" in json.dumps(sheet)


@pytest.mark.parametrize("ask, message", [
    (dict(sheet="s.json", answers="a.json"), "use one at a time"),
    (dict(sheet="<answers>/sheet.json"), "where the quizzes save your answers"),
    (dict(sheet="existing.json"), "exists already"),
    (dict(), "needs a terminal"),
])
def test_what_cannot_be_done_is_refused_with_a_fix(course_copy, tmp_path, ask, message):
    from coursepack.course.config import load_course

    course = load_course(course_copy / "course.toml")
    (tmp_path / "existing.json").write_text("{}", encoding="utf-8")
    saved = course.assignments / "quiz_answers"
    saved.mkdir(exist_ok=True)
    where = {key: (saved / "sheet.json" if value.startswith("<answers>") else tmp_path / value)
             for key, value in ask.items()}
    with pytest.raises(CourseError, match=message) as err:
        open_quiz(course, "pre", student="ada", interactive=False, **where)
    assert "Fix:" in str(err.value)


def test_another_students_answers_are_not_taken_over(course_copy, tmp_path):
    from coursepack.course.config import load_course

    course = load_course(course_copy / "course.toml")
    open_quiz(course, "post", student="ada", sheet=tmp_path / "one.json")
    with pytest.raises(CourseError, match="drawn for 'ada', not for 'bob'"):
        open_quiz(course, "post", student="bob", sheet=tmp_path / "two.json")

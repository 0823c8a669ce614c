"""Quiz banks, draws, answer keys, exports, grading and the interactive terminal quiz."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

import pytest

from coursepack.course.config import load_course
from coursepack.errors import CourseError
from coursepack.grading.grader import grade
from coursepack.quiz.bank import load_bank, parse_bank
from coursepack.quiz.draw import Drawn, draw
from coursepack.quiz.export import to_gift
from coursepack.quiz.grading import reference_answers
from coursepack.quiz.keys import explanation, is_correct
from coursepack.quiz.publish import student_copy


@pytest.fixture(scope="module")
def banks(course):
    return {kind: load_bank(config.bank, config) for kind, config in course.quizzes.items()}


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True, **kwargs)


# -- the banks ------------------------------------------------------------------------

def test_banks_validate(course):
    proc = cli("--course", str(course.path), "quiz", "validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All quiz banks are valid" in proc.stdout


def test_banks_are_large_bilingual_and_cover_the_lesson(banks, course):
    sections = set()
    for kind, bank in banks.items():
        assert len(bank.questions) >= 16
        assert {q.curriculum for q in bank.questions} >= set(course.quiz(kind).curriculum)
        assert {q.type for q in bank.questions} == {"single", "multiple", "truefalse", "numeric"}
        for q in bank.questions:
            assert q.prompt["en"].strip() and q.prompt["zh"].strip() and q.explanation["zh"].strip()
            assert re.search(r"[\u4e00-\u9fff]", q.prompt["zh"]), f"{q.id}: the zh prompt has no Chinese"
            sections.add(q.section)
    assert sections == set(course.lesson.sections)


def bank_text(**changes) -> dict:
    question = {"id": "pre-x", "type": "single", "section": "attention", "prompt": {"en": "P", "zh": "题"},
                "options": {"en": ["a", "b"], "zh": ["甲", "乙"]}, "answer": 1,
                "explanation": {"en": "E", "zh": "解"}}
    question.update(changes)
    return {"quiz": {"id": 118, "kind": "pre", "title": {"en": "T", "zh": "标题"}}, "questions": [question]}


@pytest.mark.parametrize("changes, message", [
    (dict(answer=2), r"answer = 2 is not an option index 0..1"),
    (dict(type="essay"), r"type = 'essay'.*Fix: use one of single"),
    (dict(section="history"), r"section = 'history' is not a lesson section"),
    (dict(prompt={"en": "P"}), r"prompt: needs a non-empty text for each of en and zh"),
    (dict(options={"en": ["a", "b"], "zh": ["甲"]}), r"same number"),
    (dict(type="truefalse"), r"a truefalse question has no options"),
    (dict(type="multiple", answer=[0, 1]), r"every option is correct"),
    (dict(curriculum="bert-layers"), r"curriculum = 'bert-layers'"),
])
def test_bank_mistakes_name_file_question_and_fix(tmp_path, course, changes, message):
    path = tmp_path / "pre.toml"
    with pytest.raises(CourseError, match=message) as info:
        parse_bank(bank_text(**changes), path, course.quiz("pre"))
    text = str(info.value)
    assert str(path) in text and "question 'pre-x'" in text and "Fix:" in text


def test_duplicate_question_ids_are_refused(tmp_path, course):
    raw = bank_text()
    raw["questions"].append(dict(raw["questions"][0]))
    with pytest.raises(CourseError, match="duplicate id"):
        parse_bank(raw, tmp_path / "pre.toml", course.quiz("pre"))



def test_a_bank_agrees_with_its_quiz_in_course_toml(tmp_path, course):
    """The quiz's id and kind are course data (course.toml's [quizzes.*]); a bank that says
    otherwise is refused with the fix."""
    raw = bank_text()
    raw["quiz"]["id"] = 218
    with pytest.raises(CourseError, match=r"id = 218, but course.toml's \[quizzes.pre\] gives this quiz the id "
                                          r"118.*Fix: set id = 118"):
        parse_bank(raw, tmp_path / "pre.toml", course.quiz("pre"))
    with pytest.raises(CourseError, match=r"kind = 'pre', but course.toml names this bank in \[quizzes.post\]"):
        parse_bank(bank_text(), tmp_path / "pre.toml", course.quiz("post"))

# -- draws and keys -------------------------------------------------------------------

def wrong_answer(q):
    if q.type == "single":
        return (q.answer + 1) % q.option_count
    if q.type == "truefalse":
        return not q.answer
    if q.type == "numeric":
        return q.answer + 10 * (q.tolerance + 1)
    return [i for i in range(q.option_count) if i not in q.answer]


def test_draw_is_per_student_and_stable(banks, course):
    bank = banks["pre"]
    n = course.quiz("pre").draw
    first, again = draw(bank, "ada@example.org", n), draw(bank, "ada@example.org", n)
    assert [(d.question.id, d.order) for d in first] == [(d.question.id, d.order) for d in again]
    others = {tuple(d.question.id for d in draw(bank, f"student{i}", n)) for i in range(20)}
    assert len(others) > 15, "different students mostly get different sheets"
    assert {d.question.curriculum for d in first} >= set(course.quiz("pre").curriculum)
    orders = [d.order for d in first if d.question.type == "single"]
    assert any(o != tuple(range(len(o))) for o in orders), "options are shuffled"


def test_student_copy_checks_answers_without_a_readable_key(banks, course, tmp_path):
    bank = banks["pre"]
    text = student_copy(bank, feedback=True)
    data = json.loads(text)
    assert all("answer" not in q and "explanation" not in q for q in data["questions"])
    for q in bank.questions:
        for lang in ("en", "zh"):
            assert q.explanation[lang] not in text
    path = tmp_path / "pre.json"
    path.write_text(text)
    copy = load_bank(path, course.quiz("pre"))
    for q, c in zip(bank.questions, copy.questions):
        assert is_correct(copy, c, q.answer)
        wrong = wrong_answer(q)
        assert not is_correct(copy, c, wrong)
        # After any answer the explanation opens, except for a wrong numeric one.
        assert explanation(copy, c, "en", q.answer) == q.explanation["en"]
        if q.type != "numeric":
            assert explanation(copy, c, "zh", wrong) == q.explanation["zh"]


def test_post_lecture_copy_has_no_answers_or_explanations(banks):
    bank = banks["post"]
    text = student_copy(bank, feedback=False)
    data = json.loads(text)
    assert "salt" not in data["quiz"]
    assert all(set(q) & {"answer", "answer_hash", "explanation", "explanation_sealed"} == set()
               for q in data["questions"])


# -- exports ---------------------------------------------------------------------------

# The quiz-app export has its own specification: tests/test_quiz_app.py.

def test_gift_export_has_one_block_per_question(banks):
    gift = to_gift(list(banks.values()), "en")
    blocks = [line for line in gift.splitlines() if line.startswith("::")]
    assert len(blocks) == sum(len(b.questions) for b in banks.values())
    for line in blocks:
        unescaped = re.sub(r"\\.", "", line)
        assert unescaped.count("{") == 1 and unescaped.count("}") == 1
    numeric = next(q for q in banks["post"].questions if q.type == "numeric")
    assert f"{{#{numeric.answer:g}:{numeric.tolerance:g} ####" in gift


# -- grading the post-lecture quiz ------------------------------------------------------------

def answer_post(course_dir, work, answers: dict, student="lin@example.org"):
    path = work / "answers.json"
    path.write_text(json.dumps(answers))
    return cli("--course", str(course_dir), "quiz", "post", "--answers", str(path), "--student", student,
               "--path", str(work))


def test_post_quiz_all_correct_then_partial(course_copy, tmp_path):
    course = load_course(course_copy)
    work = tmp_path / "work"
    work.mkdir()
    key = reference_answers(course, "post", student="lin@example.org")
    proc = answer_post(course_copy, work, key["answers"])
    assert proc.returncode == 0, proc.stderr
    assert "answers are recorded" in proc.stdout
    report, _ = grade(course, course.solutions, frameworks=("torch",), tasks={"quiz-post"})
    assert report.score == pytest.approx(course.quiz("post").points)  # the reference answers
    # The student's submission: a copy of the stubs plus the answers file.
    import shutil

    shutil.copytree(course.assignments / "course_torch", work / "course_torch")
    report, _ = grade(course, work, frameworks=("torch",), tasks={"quiz-post"})
    (result,) = report.tests
    assert result.passed and result.score == pytest.approx(10)

    # Three wrong answers: the score is the points times the share of right answers.
    bank = load_bank(course.quiz("post").bank, course.quiz("post"))
    wrong = dict(key["answers"])
    for qid in key["questions"][:3]:
        wrong[qid] = wrong_answer(bank.question(qid))
    (work / "quiz_answers" / "post.json").unlink()
    assert answer_post(course_copy, work, wrong).returncode == 0
    report, _ = grade(course, work, frameworks=("torch",), tasks={"quiz-post"})
    n = len(key["questions"])
    assert report.tests[0].score == pytest.approx(10 * (n - 3) / n)
    assert report.tests[0].message.startswith(f"{n - 3} of {n} answers correct")


def test_answer_sheet_round_trip(course_copy, tmp_path, banks):
    work, sheet = tmp_path / "work", tmp_path / "sheet.json"
    base = ("--course", str(course_copy), "quiz", "pre", "--lang", "en", "--student", "ana@example.org",
            "--path", str(work))
    proc = cli(*base, "--sheet", str(sheet))
    assert proc.returncode == 0, proc.stderr
    filled = json.loads(sheet.read_text())
    questions = filled["questions"]
    assert list(questions) == reference_answers(load_course(course_copy), "pre", "ana@example.org")["questions"]
    bank = banks["pre"]
    # Answer every question right, single-choice ones by option text, the rest as the key has them.
    for qid, entry in questions.items():
        q = bank.question(qid)
        assert entry["question"] == q.prompt["en"] and entry["answer"] is None
        entry["answer"] = q.options["en"][q.answer] if q.type == "single" else q.answer
    first = next(iter(questions))
    questions[first]["answer"] = None  # left unanswered
    sheet.write_text(json.dumps(filled))
    proc = cli(*base, "--answers", str(sheet))
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((work / "quiz_answers" / "pre.json").read_text())
    assert first not in saved["answers"] and len(saved["answers"]) == len(questions) - 1
    assert all(saved["feedback"].values())
    second = list(questions)[1]
    out = " ".join(proc.stdout.split())
    assert f"2. {second}: {bank.question(second).prompt['en']}" in out
    assert f"Not answered yet (1): 1. {first}" in out
    # A sheet never replaces a file: neither a filled-in sheet nor saved answers.
    proc = cli(*base, "--sheet", str(sheet))
    assert proc.returncode == 2 and "exists already" in proc.stderr
    proc = cli(*base, "--sheet", str(work / "quiz_answers" / "post.json"))
    assert proc.returncode == 2 and "where the quizzes save your answers" in proc.stderr
    # A fresh sheet shows the answers given so far.
    fresh = tmp_path / "fresh.json"
    assert cli(*base, "--sheet", str(fresh)).returncode == 0
    assert json.loads(fresh.read_text())["questions"][second]["answer"] is not None
    # The saved answers are this student's: another id is refused, not silently ignored.
    other = [a if a != "ana@example.org" else "bo@example.org" for a in base]
    proc = cli(*other, "--sheet", str(tmp_path / "other.json"))
    assert proc.returncode == 2 and "drawn for 'ana@example.org'" in proc.stderr

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"no-such-question": 1}))
    proc = cli(*base, "--answers", str(wrong))
    assert proc.returncode == 2 and "not on your sheet: no-such-question" in proc.stderr
    assert "course quiz pre --sheet FILE" in " ".join(proc.stderr.split()) and "Traceback" not in proc.stderr


def test_arrow_keys_that_arrive_together_all_count(banks):
    import io

    from rich.console import Console

    from coursepack.quiz.terminal import _ask

    q = next(q for q in banks["pre"].questions if q.type == "single" and q.option_count >= 3)
    item = Drawn(q, tuple(range(q.option_count)))
    reads = iter(["\x1b[B\x1b[B", "\x1b[A\x1b[B\r"])  # down down | up down Enter
    console = Console(file=io.StringIO(), width=80)
    assert _ask(item, 1, 1, "en", console, lambda: next(reads)) == 2


def test_edited_draw_gains_nothing(course_copy, tmp_path):
    course = load_course(course_copy)
    work = tmp_path / "work"
    work.mkdir()
    key = reference_answers(course, "post", student="kim@example.org")
    key["student"] = "someone-else"  # a sheet drawn for another student
    (work / "quiz_answers").mkdir()
    (work / "quiz_answers" / "post.json").write_text(json.dumps(key))
    report, _ = grade(course, work, frameworks=("torch",), tasks={"quiz-post"})
    assert report.tests[0].score == 0 and "do not belong" in report.tests[0].message


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_questions_wrap_in_a_narrow_terminal_without_losing_words(banks, lang):
    import io

    from rich.console import Console

    from coursepack.quiz.terminal import _render

    def unboxed(text: str) -> str:
        # Drop the panel's borders, then all spacing: what is left must hold every word.
        inner = [line.strip().removeprefix("│").removesuffix("│") for line in text.splitlines()]
        return re.sub(r"\s+", "", "".join(inner))

    for bank in banks.values():
        for q in bank.questions:
            item = Drawn(q, tuple(range(q.option_count)))
            console = Console(width=48, soft_wrap=True, file=io.StringIO(), color_system=None)  # as the CLI's
            _render(item, 1, 1, lang, console, cursor=0, ticked=set(), hint=None)
            shown = console.file.getvalue()
            assert max(len(line) for line in shown.splitlines()) <= 48, q.id
            flat = unboxed(shown)
            for text in [q.prompt[lang], *(item.options(lang) if q.type != "numeric" else [])]:
                assert re.sub(r"\s+", "", text) in flat, (q.id, text)


# -- the interactive pre-lecture quiz through a real pseudo-terminal -----------------------

def test_interactive_pre_quiz_feedback_quit_and_resume(course_copy, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    course = load_course(course_copy)
    bank = load_bank(course.quiz("pre").bank, course.quiz("pre"))
    # The student's copy: hashed answers and sealed explanations.
    published = course_copy / "quizzes" / "pre.json"
    published.write_text(student_copy(bank, feedback=True))
    toml = course_copy / "course.toml"
    toml.write_text(toml.read_text().replace('bank = "quizzes/pre.toml"', 'bank = "quizzes/pre.json"'))
    work = tmp_path / "work"
    args = ["-m", "coursepack.cli", "--course", str(course_copy), "quiz", "pre", "--lang", "en",
            "--student", "pat@example.org", "--path", str(work)]
    n = course.quiz("pre").draw

    def answer_one(child, index):
        child.expect(rf"Question {index} of {n}")
        kind = child.expect([r"numbers or space tick", r"number or up/down", r"Your answer \(a number"])
        if kind == 0:
            child.send("1")
            child.send("\r")
        elif kind == 1:
            child.send("\x1b[B")  # arrow down, then Enter
            child.send("\r")
        else:
            child.sendline("3")
        child.expect([r"Correct\.", r"Not quite\."])

    child = pexpect.spawn(sys.executable, args, encoding="utf-8", timeout=30, dimensions=(50, 140))
    for i in (1, 2, 3):
        answer_one(child, i)
        child.expect("Press any key")
        child.send("q" if i == 3 else " ")
    child.expect("saved")
    child.expect(pexpect.EOF)
    saved = json.loads((work / "quiz_answers" / "pre.json").read_text())
    assert len(saved["answers"]) == 3 and len(saved["feedback"]) == 3

    child = pexpect.spawn(sys.executable, args, encoding="utf-8", timeout=30, dimensions=(50, 140))
    for i in range(4, n + 1):
        answer_one(child, i)
        if i < n:
            child.expect("Press any key")
            child.send(" ")
    child.expect(rf"Done: (\d+) of {n} right")
    right = int(child.match.group(1))
    child.expect(pexpect.EOF)
    saved = json.loads((work / "quiz_answers" / "pre.json").read_text())
    assert len(saved["answers"]) == n
    assert sum(saved["feedback"].values()) == right
    # The feedback agrees with the instructor's key.
    for qid, answer in saved["answers"].items():
        assert saved["feedback"][qid] == is_correct(bank, bank.question(qid), answer)


def test_course_file_points_cover_code_and_quizzes(course):
    raw = tomllib.loads(course.path.read_text())
    assert course.total_points == sum(t["points"] for t in raw["tasks"]) + sum(
        q.get("points", 0) for q in raw["quizzes"].values())


def test_publish_writes_student_copies_without_answers(course, banks, tmp_path):
    proc = cli("--course", str(course.path), "quiz", "publish", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for kind, bank in banks.items():
        text = (tmp_path / f"{kind}.json").read_text()
        data = json.loads(text)
        assert all("answer" not in q and "explanation" not in q for q in data["questions"])
        assert all(q.explanation[lang] not in text for q in bank.questions for lang in ("en", "zh"))
        assert load_bank(tmp_path / f"{kind}.json", course.quiz(kind)).can_check == (kind == "pre")


def test_keys_typed_while_a_question_is_drawn_are_kept(monkeypatch):
    # A student types "1" and Enter faster than the question is redrawn: both keys must
    # reach the quiz. (click.getchar's raw mode flushes them, and the read then waits.)
    import os
    import pty
    import threading

    from coursepack.quiz.terminal import read_keys

    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r")
    try:
        monkeypatch.setattr(sys, "stdin", stdin)
        os.write(master, b"1\r")  # typed before the quiz reads
        later = threading.Timer(2.0, os.write, (master, b"z"))  # unblocks a read that lost them
        later.start()
        try:
            keys = read_keys()
        finally:
            later.cancel()
        assert keys in ("1\r", "1\n"), repr(keys)
    finally:
        stdin.close()
        os.close(master)

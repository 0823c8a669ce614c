"""`course grade CLASS --roster R --gradebook canvas|moodle`: exactly the columns each LMS imports."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys

import pytest

from submissions import make_submission


def run_course(*args):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """A class of two graded for the post-lecture quiz only (cheap), and its Canvas-exported roster."""
    tmp = tmp_path_factory.mktemp("lms")
    folder = tmp / "class"
    for name in ("ann", "ref"):
        sub = make_submission(course, folder / name, base="assignments")
        shutil.copytree(course.solutions / "quiz_answers", sub / "quiz_answers")
    roster = tmp / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Username,submission\n"
                      "    Points Possible,,,,,,\n"
                      "\"Lee, Ann\",2001,S1,ann@uni.example,Mon,ann,ann\n"
                      "\"Ence, Ref\",2002,S2,reference,Tue,reference,ref\n"
                      "\"=Away, Al\",2003,S3,al@uni.example,Tue,al,al\n", encoding="utf-8")
    out = tmp / "grades"
    proc = run_course("--course", str(course.path), "grade", str(folder), "--task", "quiz-post",
                      "--roster", str(roster), "--out", str(out), "--gradebook", "canvas")
    assert proc.returncode == 0, proc.stderr
    return folder, roster, out


def read(path):
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_canvas_gradebook_per_task(course, graded):
    _, _, out = graded
    rows = read(out / "gradebook-canvas.csv")
    tasks = [f"{course.title}: {t.title}" for t in course.tasks]
    quizzes = [f"{course.title}: {k}-lecture quiz" for k, q in course.quizzes.items() if q.points]
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *tasks, *quizzes]
    assert rows[1][0] == "    Points Possible" and rows[1][5:] == [f"{t.points:g}" for t in course.tasks] + \
        [f"{q.points:g}" for q in course.quizzes.values() if q.points]
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["2001"][-1] == "0"                      # ann handed in someone else's quiz answers
    assert float(by_id["2002"][-1]) == course.quiz("post").points
    assert by_id["2003"][0] == "'=Away, Al" and by_id["2003"][5:] == [""] * (len(rows[0]) - 5)  # no submission


def test_moodle_gradebook_total_only(course, graded):
    folder, roster, out = graded
    proc = run_course("--course", str(course.path), "grade", str(folder), "--task", "quiz-post", "--roster",
                      str(roster), "--out", str(out), "--resume", "--gradebook", "moodle",
                      "--gradebook-columns", "total")
    assert proc.returncode == 0, proc.stderr
    rows = read(out / "gradebook-moodle.csv")
    assert rows[0] == ["Username", f"{course.title}: total"]
    assert dict(rows[1:]) == {"ann": "0", "reference": f"{course.quiz('post').points:g}", "al": ""}


def test_a_gradebook_needs_the_roster(course, graded):
    folder, _, out = graded
    proc = run_course("--course", str(course.path), "grade", str(folder), "--out", str(out / "x"),
                      "--gradebook", "canvas")
    assert proc.returncode == 2 and "--roster" in proc.stderr

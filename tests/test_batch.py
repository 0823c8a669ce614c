"""Grading a class: `course grade CLASS --workers 2`, the gradebook, and `--resume` after kill -9.

The class has 30 submissions: reference solutions, untouched stubs, classic mistakes,
a file that does not compile, one that ends the process at import, and zips made by
`course submit`. To keep the suite fast, only the three attention tasks are graded.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coursepack.grading.submission import make_submission as make_zip
from submissions import make_kind, make_submission

TASKS = ("additive", "sdpa", "multihead")
FULL = {"additive": 9.0, "sdpa": 14.0, "multihead": 18.0}

# Points expected per task, where a kind fixes them exactly.
EXPECTED = {
    "correct": FULL,
    "stub": {"additive": 0.0, "sdpa": 0.0, "multihead": 0.0},
    "syntax-error": {"additive": 9.0, "sdpa": 14.0, "multihead": 0.0},
    "exit-at-import": {"additive": 9.0, "sdpa": 14.0, "multihead": 0.0},
}
PLAN = ["correct"] * 9 + ["stub"] * 6 + ["no-scale"] * 4 + ["heads-split"] * 4 + ["syntax-error"] * 2 \
    + ["exit-at-import"] * 2 + ["zip-correct"] * 2 + ["zip-stub"]


@pytest.fixture(scope="module")
def klass(course, tmp_path_factory) -> Path:
    """A class folder of 30 submissions; returns its path. Names encode the kind."""
    folder = tmp_path_factory.mktemp("class") / "submissions"
    folder.mkdir()
    work = tmp_path_factory.mktemp("work")
    for i, kind in enumerate(PLAN):
        name = f"s{i:02d}-{kind}"
        if kind.startswith("zip-"):
            base = "solutions" if kind == "zip-correct" else "assignments"
            src = make_submission(course, work / name, base=base)
            make_zip(course, src, "torch", folder / f"{name}.zip", student=name)
            continue
        make_kind(course, folder / name, kind)
    assert len(PLAN) == 30
    return folder


def run_course(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True,
                          **kwargs)


def grade_args(course, klass, out, *extra):
    tasks = [a for t in TASKS for a in ("--task", t)]
    return ["--course", str(course.path), "grade", str(klass), "--workers", "2", "--out", str(out), *tasks, *extra]


def read_gradebook(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def uninterrupted(course, klass, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("grades") / "uninterrupted"
    proc = run_course(*grade_args(course, klass, out))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return out


def test_gradebook_of_a_class(uninterrupted):
    rows = read_gradebook(uninterrupted)
    assert [r["submission"] for r in rows] == sorted(r["submission"] for r in rows)
    assert len(rows) == len({r["submission"] for r in rows}) == 30
    for row in rows:
        kind = row["submission"].split("-", 1)[1]
        points = {t: float(row[t]) for t in TASKS}
        assert float(row["total"]) == pytest.approx(sum(points.values()))
        assert float(row["max_total"]) == pytest.approx(sum(FULL.values()))
        assert row["pretraining"] == ""  # not graded in this run: empty, not 0
        if kind in ("correct", "zip-correct"):
            assert points == FULL, row
        elif kind in ("stub", "zip-stub"):
            assert sum(points.values()) == 0, row
        elif kind == "no-scale":
            assert points["sdpa"] < FULL["sdpa"] and points["additive"] == FULL["additive"], row
        elif kind == "heads-split":
            assert points["multihead"] < FULL["multihead"] and points["sdpa"] == FULL["sdpa"], row
        else:
            assert points == EXPECTED[kind], row
    zips = [r for r in rows if r["submission"].startswith(("s27", "s28", "s29"))]
    assert {r["declared_student"] for r in zips} == {r["submission"] for r in zips}  # from the manifests
    assert {r["isolation"] for r in rows} == {rows[0]["isolation"]} and rows[0]["isolation"]


def test_results_and_feedback_per_submission(uninterrupted):
    results = sorted((uninterrupted / "results").glob("*.json"))
    feedback = sorted((uninterrupted / "feedback").glob("*.md"))
    assert len(results) == len(feedback) == 30
    record = json.loads((uninterrupted / "results" / "s23-syntax-error.json").read_text())
    assert record["report"]["isolation"]
    text = (uninterrupted / "feedback" / "s23-syntax-error.md").read_text()
    assert "**Total: 23 / 41 points**" in text
    assert "multihead" in text and "SyntaxError" in text
    assert "def test_" not in text  # no test code in feedback


def test_kill_9_then_resume_gives_one_row_per_submission(course, klass, uninterrupted, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "coursepack.cli", *grade_args(course, klass, out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 12:
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(3)  # the grader processes die with their parent: nothing more is written
    done = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    time.sleep(2)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")} == done
    assert 12 <= len(done) < 30, "kill the run halfway"
    # A grader process writes its result, then the parent rebuilds the gradebook: a kill in
    # between leaves the gradebook behind by the results in flight (one per grader process,
    # here 2), never ahead of them and never with a row twice; --resume catches up.
    listed = [row["submission"] for row in read_gradebook(out)]
    assert len(listed) == len(set(listed))
    assert {f"{name}.json" for name in listed} <= set(done)
    assert len(done) - 2 <= len(listed)

    again = run_course(*grade_args(course, klass, out))
    assert again.returncode == 2
    assert "--resume" in again.stderr and "Traceback" not in again.stderr

    resumed = run_course(*grade_args(course, klass, out, "--resume"))
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert f"{len(done)} of 30 submission(s) already graded" in resumed.stdout
    for name, mtime in done.items():  # graded once, never again
        assert (out / "results" / name).stat().st_mtime_ns == mtime
    rows = read_gradebook(out)
    assert len(rows) == 30
    strip = [{k: v for k, v in r.items()} for r in rows]
    assert strip == read_gradebook(uninterrupted)


def test_resume_regrades_a_changed_submission(course, klass, uninterrupted, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(uninterrupted, out)
    small = tmp_path / "small"
    small.mkdir()
    shutil.copytree(klass / "s09-stub", small / "s09-stub")
    (small / "s09-stub" / "course_torch" / "attention.py").write_text(
        (course.solutions / "course_torch" / "attention.py").read_text())
    proc = run_course(*grade_args(course, small, out, "--resume"))
    assert proc.returncode == 0, proc.stderr
    row = next(r for r in read_gradebook(out) if r["submission"] == "s09-stub")
    assert float(row["additive"]) == 9 and float(row["sdpa"]) == 14


def test_class_folder_mistakes_are_explained(course, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_course("--course", str(course.path), "grade", str(empty))
    assert proc.returncode == 2 and "holds no submission" in proc.stderr and "Traceback" not in proc.stderr
    (empty / "alice").mkdir()
    make_submission(course, empty / "alice")
    proc = run_course("--course", str(course.path), "grade", str(empty), "--format", "json")
    assert proc.returncode == 2 and "--format" in proc.stderr
    proc = run_course("--course", str(course.path), "grade", str(empty), "--out", str(empty / "grades"))
    assert proc.returncode == 2 and "outside" in proc.stderr


def test_names_from_students_are_printed_as_they_are(course, tmp_path):
    klass = tmp_path / "class"
    make_submission(course, klass / "bob[red]")  # rich markup in a name is printed as it is
    (klass / "notes[b]").mkdir()
    proc = run_course("--course", str(course.path), "grade", str(klass), "--task", "sinusoidal")
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "bob[red]: 4 / 4" in out and "notes[b]: not a submission" in out


def test_feedback_html_gives_each_student_the_report_page(course, tmp_path):
    """`--feedback html` on a class of two: the reference (a folder) and the stubs (a zip made by
    `course submit`). Each gets one self-contained page beside the other outputs; the stub's
    names what is not implemented yet, the reference's holds the plots of its own model."""
    folder = tmp_path / "class"
    folder.mkdir()
    make_kind(course, folder / "ada", "correct")
    make_zip(course, make_submission(course, tmp_path / "work-bo", base="assignments"), "torch", folder / "bo.zip",
             student="bo")
    out = tmp_path / "grades"
    proc = run_course("--course", str(course.path), "grade", str(folder), "--out", str(out), "--task", "sdpa",
                      "--task", "sinusoidal", "--feedback", "html")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert f"Feedback pages: 2 of 2 in {out / 'feedback'}" in proc.stdout.replace("\n", "")
    ada, bo = (out / "feedback" / "ada.html").read_text(), (out / "feedback" / "bo.html").read_text()
    assert {p.name for p in (out / "feedback").iterdir()} == {"ada.md", "ada.html", "bo.md", "bo.html"}
    assert "Feedback on <strong>ada</strong>" in ada and "Feedback on <strong>bo</strong>" in bo
    # the reference: every plot drawn and embedded, nothing to fix
    assert ada.count('src="data:image/png;base64,') == 4 and "no plot:" not in ada
    assert "What to fix" not in ada
    # the stubs: the failed checks and the missing plots say which task is not written yet
    assert 'src="data:image/png;base64,' not in bo and "What to fix" in bo
    assert bo.count("not implemented yet") >= 4
    for task in ("sdpa", "sinusoidal", "additive", "mini_bert"):
        assert f"task {task}" in bo or f"({task})" in bo, task
    for page in (ada, bo):  # self-contained: nothing loaded from elsewhere
        assert "http://" not in page and "https://" not in page and "<script" not in page


def test_feedback_html_is_for_a_class(course):
    proc = run_course("--course", str(course.path), "grade", str(course.solutions), "--feedback", "html")
    assert proc.returncode == 2 and "course report" in proc.stderr

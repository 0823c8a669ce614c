"""Whose quiz draw is graded: the platform's word (Gradescope's submission metadata, a
roster line, a class roster), with the manifest's declared id only as a cross-check."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursepack.errors import CourseError
from coursepack.grading.submission import make_submission as make_zip
from submissions import make_submission


def run_course(*args):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True)


def with_reference_answers(course, folder: Path, base: str = "assignments") -> Path:
    """A submission (stubs by default) carrying the reference's quiz answers (drawn for 'reference')."""
    sub = make_submission(course, folder, base=base)
    shutil.copytree(course.solutions / "quiz_answers", sub / "quiz_answers")
    return sub


def quiz_results(report: dict) -> dict[str, dict]:
    return {t["task"]: t for t in report["tests"] if t["framework"] == "quiz"}


def test_gradescope_metadata_names_the_submitter(course, tmp_path):
    """Answers copied from someone else score 0 on Gradescope, and the student sees why
    even though hidden tests show names and points only."""
    sub = with_reference_answers(course, tmp_path / "submission")
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(json.dumps({"users": [{"email": "alice@example.org", "sid": "s1", "id": 7, "name": "A"}]}))
    out = tmp_path / "results.json"
    proc = run_course("--course", str(course.path), "autograder", "run", str(sub), "--format", "gradescope",
                      "--out", str(out), "--gradescope-metadata", str(metadata), "--hidden", "name-and-points")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    post = next(t for t in data["tests"] if t["tags"] == ["quiz-post", "quiz"])
    assert post["score"] == 0
    assert "drawn for 'reference', not for 'alice@example.org'" in post["output"]  # the reason, not "hidden test failed"
    assert data["extra_data"]["student"] == "alice@example.org"
    assert "Gradescope" in data["extra_data"]["identity_source"]


def test_gradescope_metadata_parsing(tmp_path):
    from coursepack.integrations.lms.identity import from_gradescope

    assert from_gradescope(tmp_path / "absent.json") is None
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps({"users": [{"email": "a@x", "sid": "1"}, {"email": "b@x", "sid": "2"}]}))
    identity = from_gradescope(path, "sid")
    assert identity.student == "1" and "group of 2" in identity.source and "2" in identity.source
    path.write_text(json.dumps({"users": []}))
    with pytest.raises(CourseError, match="no submitting user"):
        from_gradescope(path)


def test_a_manifest_naming_someone_else_scores_the_quiz_0(course, tmp_path):
    """The platform says 'reference' submitted; the zip's manifest says 'bob': both ids in the note."""
    sub = with_reference_answers(course, tmp_path / "work", base="solutions")
    archive = make_zip(course, sub, "torch", tmp_path / "bob.zip", student="bob")
    proc = run_course("--course", str(course.path), "grade", str(archive), "--task", "quiz-post",
                      "--student", "reference", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    post = quiz_results(report)["quiz-post"]
    assert post["score"] == 0 and "'bob'" in post["message"] and "'reference'" in post["message"]
    assert report["student"] == "reference" and report["declared_student"] == "bob"
    assert report["identity_source"] and any("'bob'" in e for e in report["errors"])
    # Without a platform's word, the declared id is used and recorded as unconfirmed.
    proc = run_course("--course", str(course.path), "grade", str(archive), "--task", "quiz-post", "--format", "json")
    report = json.loads(proc.stdout)
    assert report["student"] == "bob" and "not confirmed" in report["identity_source"]


def test_a_class_roster_decides_whose_draw_is_graded(course, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice", "carol"):  # both hand in the reference's answers
        with_reference_answers(course, folder / name)
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,submission\n"
                      "    Points Possible,,,,,\n"
                      "Alice A,101,S-1,alice@example.org,A,alice\n"
                      "Ref Erence,102,S-2,reference,A,carol\n", encoding="utf-8")
    out = tmp_path / "grades"
    proc = run_course("--course", str(course.path), "grade", str(folder), "--task", "quiz-post",
                      "--roster", str(roster), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = {r["submission"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert rows["alice"]["student"] == "alice@example.org" and float(rows["alice"]["quiz-post"]) == 0
    assert rows["carol"]["student"] == "reference" and float(rows["carol"]["quiz-post"]) > 0
    assert "roster.csv, row 3" in rows["alice"]["identity_source"]
    record = json.loads((out / "results" / "alice.json").read_text())
    assert "drawn for 'reference', not for 'alice@example.org'" in quiz_results(record["report"])["quiz-post"]["message"]


def test_roster_problems_name_the_file_and_row(tmp_path):
    from coursepack.integrations.lms.roster import load_roster

    path = tmp_path / "roster.csv"
    path.write_text("Name,Section\nA,1\n")
    with pytest.raises(CourseError, match="no column that identifies students") as info:
        load_roster(path)
    assert "roster.csv" in str(info.value)
    path.write_text("student_id,submission\nalice,a\n,b\n")
    with pytest.raises(CourseError, match="row 3"):
        load_roster(path)
    path.write_text("\ufeffUsername,Email address\nalice,alice@x\n")  # Moodle, saved by Excel
    roster = load_roster(path)
    assert roster.people["alice"].student == "alice" and roster.people["alice"].email == "alice@x"

"""JUnit XML that test-report tools accept: valid against junit-10.xsd, errors for an
ungradable submission, meaningful suite names, timestamp and hostname.

``data/junit-10.xsd`` is the schema pytest's source distribution ships for its own
tests (MIT licence, header kept)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "junit-10.xsd"))


def run_course(*args):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True)


def test_an_ungradable_submission_is_one_testcase_in_error(course, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("I forgot the code")
    out = tmp_path / "result.xml"
    proc = run_course("--course", str(course.path), "autograder", "run", str(tmp_path / "sub"),
                      "--format", "junit", "--out", str(out), "--label", "alice/attention")
    assert proc.returncode == 0, proc.stderr
    SCHEMA.validate(str(out))
    root = ET.parse(out).getroot()
    assert root.get("tests") == "1" and root.get("errors") == "1"
    [suite] = root.findall("testsuite")
    assert suite.get("errors") == "1" and suite.get("timestamp") and suite.get("hostname")
    assert "alice/attention" in suite.get("name") and "not graded" in suite.get("name")
    error = suite.find("testcase/error")
    assert error is not None and "could not be graded" in error.get("message")


def test_a_graded_submission_validates_with_one_suite_per_track(course, tmp_path):
    out = tmp_path / "result.xml"
    proc = run_course("--course", str(course.path), "grade", str(course.solutions), "--task", "sdpa",
                      "--task", "quiz-post", "--format", "junit", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    SCHEMA.validate(str(out))
    root = ET.parse(out).getroot()
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == [f"{course.id}: reference: torch track", f"{course.id}: reference: quizzes"]  # whose draw was graded
    assert not any(str(course.root) in n for n in names)  # no absolute path of the grading machine
    for suite in root.findall("testsuite"):
        assert suite.get("errors") == "0" and suite.get("failures") == "0"
        assert suite.get("timestamp") and suite.get("hostname")
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in root.findall("testsuite")) > 1


def test_control_characters_and_failures_stay_valid():
    from coursepack.integrations.lms.junit import to_junit
    from coursepack.reports.results import Report, TestResult

    report = Report(course="c", submission="/tmp/x/assignments", frameworks=["torch"], isolation="none",
                    mode="grade", tests=[TestResult("t::a", "sdpa", "torch", "public", False, 0.0, 1.0,
                                                    "bad \x00\x1b value <&>")])
    text = to_junit(report, timestamp="2026-01-01T00:00:00", hostname="grader")
    SCHEMA.validate(text)
    suite = ET.fromstring(text).find("testsuite")
    assert suite.get("name") == "c: x: torch track" and suite.get("failures") == "1"
    assert suite.find("testcase/failure").text == "bad  value <&>"

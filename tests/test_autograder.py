"""The Gradescope bundle, run in a simulated /autograder layout; the CI entry point."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coursepack.grading.submission import detect_framework, locate_submission
from coursepack.errors import CourseError

REPO = Path(__file__).resolve().parents[1]


def run_course(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True,
                          **kwargs)


@pytest.fixture(scope="module")
def bundle(course, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    proc = run_course("--course", str(course.path), "autograder", "gradescope", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def release(course, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student"
    proc = run_course("--course", str(course.path), "release", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_bundle_layout(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        texts = {n: archive.read(n) for n in names}
    assert {"setup.sh", "run_autograder", "course.toml", "pyproject.toml", "scripts/setup.sh"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert any(n.startswith("autograder/tests/test_") for n in names)  # hidden tests travel with it
    assert any(n.startswith("autograder/tests/expected/") for n in names)
    assert not any(n.startswith("solutions/") for n in names)
    assert [n for n, data in texts.items() if b"### BEGIN SOLUTION" in data and not n.startswith("src/")] == []
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n"], input=texts[script], capture_output=True)
        assert check.returncode == 0, check.stderr


def simulated_autograder(bundle: Path, root: Path) -> Path:
    """Unpack the bundle as Gradescope does into ROOT/source; reuse this venv instead of
    running setup.sh (which installs the frameworks from the package registry)."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    for name in ("setup.sh", "run_autograder"):
        path = source / name
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    (source / ".venv").symlink_to(Path(sys.prefix))
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path) -> dict:
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root)}, timeout=900)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert isinstance(data["score"], (int, float)) and isinstance(data["tests"], list)
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "visibility", "output"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    return data


def test_gradescope_full_marks_for_the_solution(course, bundle, release, tmp_path):
    root = simulated_autograder(bundle, tmp_path / "autograder")
    # A student's release with the reference code and quiz answers, submitted with `course submit`.
    work = tmp_path / "work"
    shutil.copytree(release, work)
    shutil.rmtree(work / "assignments" / "course_torch")
    shutil.copytree(course.solutions / "course_torch", work / "assignments" / "course_torch")
    shutil.copytree(course.solutions / "quiz_answers", work / "assignments" / "quiz_answers")
    proc = run_course("--course", str(work / "course.toml"), "submit", "--student", "reference",
                      "--out", str(root / "submission" / "submission-torch.zip"))
    assert proc.returncode == 0, proc.stderr
    data = run_autograder(root)
    assert data["score"] == pytest.approx(course.total_points)
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(course.total_points)
    assert all(t["status"] == "passed" for t in data["tests"])
    hidden = [t for t in data["tests"] if t["output"].startswith("hidden test")]
    assert hidden and all(t["output"] == "hidden test passed" and t["visibility"] == "visible" for t in hidden)
    assert "protected" not in data["output"]


def test_gradescope_zero_for_the_untouched_release(course, bundle, release, tmp_path):
    root = simulated_autograder(bundle, tmp_path / "autograder")
    repo = root / "submission" / "student-repo"  # a whole repository, as GitHub uploads hand it over
    shutil.copytree(release, repo)
    data = run_autograder(root)
    assert data["score"] == 0
    graded = [t for t in data["tests"] if t["max_score"] > 0]  # the pre-lecture quiz carries no points
    assert graded and all(t["status"] == "failed" for t in graded)
    assert {t["tags"][0] for t in data["tests"]} >= {t.id for t in course.tasks}
    hidden = [t for t in graded if t["output"].startswith("hidden test")]
    assert hidden and all(t["output"] == "hidden test failed" for t in hidden)


def test_gradescope_explains_an_unusable_submission(bundle, tmp_path):
    root = simulated_autograder(bundle, tmp_path / "autograder")
    (root / "submission" / "notes.txt").write_text("I forgot the code")
    data = run_autograder(root)
    assert data["score"] == 0 and data["tests"] == []
    assert "could not be graded" in data["output"] and "course submit" in data["output"]


def test_an_ungradable_submission_is_out_of_the_course_s_points(course, tmp_path):
    from coursepack.integrations.ci import grade_one

    (tmp_path / "notes.txt").write_text("I forgot the code")
    report = grade_one(course, tmp_path)
    assert report.score == 0 and report.max_score == pytest.approx(course.total_points)
    assert report.errors and "could not be graded" in report.errors[0]


def test_locate_and_detect(course, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(course.assignments, repo / "assignments", ignore=shutil.ignore_patterns("tests"))
    assert locate_submission(course, repo) == repo / "assignments"
    assert locate_submission(course, tmp_path) == repo / "assignments"  # one wrapping folder
    assert detect_framework(course, repo / "assignments") == course.framework  # nothing done yet
    shutil.copy2(course.solutions / "course_tf" / "attention.py", repo / "assignments" / "course_tf" / "attention.py")
    assert detect_framework(course, repo / "assignments") == "tf"  # the track that was worked on
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CourseError, match="no zip file"):
        locate_submission(course, empty)


def _expand(text: str, values: dict[str, str]) -> str:
    for expression, value in values.items():
        text = text.replace("${{ " + expression + " }}", value)
    assert "${{" not in text, f"unexpanded expression in {text!r}"
    return text


def test_github_workflow_steps_run_as_a_script(course, course_copy, release, tmp_path):
    """The instructor's workflow, its `run:` steps executed in order by bash in a copy of
    the instructor's repository. The `uses:` steps are what the test sets up by hand:
    the checkouts (the course copy, the student repository in submission/) and Python;
    the install step is replaced by this venv (it would download the frameworks)."""
    import xml.etree.ElementTree as ET

    import yaml

    proc = run_course("--course", str(course_copy / "course.toml"), "autograder", "github")
    assert proc.returncode == 0, proc.stderr
    workflow = yaml.safe_load((course_copy / ".github/workflows/grade-submissions.yml").read_text())
    roster = (course_copy / "roster.txt").read_text()  # as generated: comments only, then the class
    (course_copy / "roster.txt").write_text(roster + "alice/attention  reference  # has the reference's quiz answers\n\n"
                                            "bob/attention,bob@example.org\n")
    student = course_copy / "submission"
    shutil.copytree(release, student)
    shutil.copy2(course.solutions / "course_torch" / "attention.py", student / "assignments/course_torch/attention.py")
    shutil.copytree(course.solutions / "quiz_answers", student / "assignments" / "quiz_answers")
    (course_copy / ".venv").symlink_to(Path(sys.prefix))
    shutil.copytree(REPO / "src", course_copy / "src")  # the instructor's repository holds the package
    files = {k: tmp_path / k for k in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV")}
    for path in files.values():
        path.write_text("")
    env = {**os.environ, **{k: str(v) for k, v in files.items()}}

    ran = []
    matrix = {"matrix.repo": "alice/attention", "matrix.student": "reference", "matrix.line": "12"}
    for job in ("roster", "grade-1"):
        for step in workflow["jobs"][job]["steps"]:
            if "run" not in step or step["name"] == "Install the course tools":
                continue
            script = _expand(step["run"], {})
            step_env = {k: _expand(str(v), matrix) for k, v in step.get("env", {}).items()}
            result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=course_copy,
                                    env={**env, **step_env}, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, (step["name"], result.stderr)
            ran.append(step["name"])
    assert ran == ["Read the roster", "Grade"]

    outputs = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines())
    assert outputs["count"] == "2" and [outputs[f"part{i}"] for i in (2, 3, 4)] == ["[]"] * 3
    lines = len(roster.splitlines())
    assert json.loads(outputs["part1"]) == [{"repo": "alice/attention", "student": "reference", "line": lines + 1},
                                            {"repo": "bob/attention", "student": "bob@example.org", "line": lines + 3}]
    suite = ET.parse(course_copy / "results" / "alice__attention.xml").getroot().find("testsuite")
    assert "reference" in suite.get("name") and "torch track" in suite.get("name")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    quiz_points = sum(c.points for c in course.quizzes.values())
    assert float(properties["score"]) == pytest.approx(9 + 14 + quiz_points)  # attention.py solved, the quizzes
    assert properties["student"] == "reference" and properties["identity_source"].startswith("roster.txt line 12")
    assert int(suite.get("failures")) > 0
    summary = files["GITHUB_STEP_SUMMARY"].read_text()
    assert "# Feedback: alice/attention" in summary
    assert "| additive | torch | 9 / 9 |" in summary and "| sdpa | torch | 14 / 14 |" in summary
    assert "def test_" not in summary

"""End to end: the reference solutions get full marks, the stubs zero, through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from coursepack.grading.grader import grade


@pytest.fixture(scope="module")
def solutions_report(course):
    report, _ = grade(course, course.solutions, frameworks=("torch",))
    return report


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_solutions_get_full_marks(course, solutions_report):
    failed = [(t.name, t.message) for t in solutions_report.tests if not t.passed]
    assert failed == []
    assert solutions_report.score == pytest.approx(course.total_points)
    for summary in solutions_report.tasks:
        if summary.framework == "quiz":  # the reference quiz answers are all correct
            assert summary.score == pytest.approx(course.quiz(summary.id.removeprefix("quiz-")).points)
            continue
        assert summary.score == pytest.approx(course.task(summary.id).points)
        assert summary.passed >= 2  # every task has public and hidden tests
    assert {t.visibility for t in solutions_report.tests} == {"public", "hidden"}


def test_gradescope_results_file(course, tmp_path):
    out = tmp_path / "results.json"
    proc = run_cli("--course", str(course.path), "grade", str(course.solutions), "--format", "gradescope",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["score"] == pytest.approx(100)
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(100)
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output"}
        assert test["status"] == "passed" and test["score"] == test["max_score"]
    assert "Isolation of student code" in data["output"]


def test_stubs_get_zero_and_a_message_per_task(course):
    report, _ = grade(course, course.assignments, frameworks=("torch",))
    assert report.score == 0
    assert report.errors == []
    code = [t for t in report.tests if t.framework != "quiz"]
    assert {t.task for t in code if not t.passed} == {t.id for t in course.tasks}
    quizzes = [t for t in report.tests if t.framework == "quiz"]
    assert {t.task for t in quizzes} == {"quiz-pre", "quiz-post"}
    pre, post = (next(t for t in quizzes if t.task == f"quiz-{kind}") for kind in ("pre", "post"))
    assert not post.passed and post.score == 0 and "no answers" in post.message
    # The pre-lecture quiz carries no points: not taking it is no failure.
    assert pre.passed and pre.max_score == 0 and "no answers" in pre.message and "no points" in pre.message
    for test in code:
        assert "not implemented yet at File \"course_torch/" in test.message, test.message  # the file and line
    # A test that reaches another task's stub names the task to write first.
    borrowed = {t.task: t.message for t in code if not t.message.startswith("not implemented yet")}
    assert borrowed and all(m.startswith("needs task mini_bert first (`course check mini_bert`)")
                            for m in borrowed.values()), borrowed
    assert set(borrowed) <= {"pretraining"}


def test_check_on_stubs_reports_hidden_tests_and_exits_1(course):
    proc = run_cli("--course", str(course.path), "check", "sdpa", "additive")
    assert proc.returncode == 1
    assert "not implemented yet" in proc.stdout
    assert "hidden test(s)" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_check_on_solutions_exits_0(course):
    proc = run_cli("--course", str(course.path), "check", "sdpa", "multihead", "--path", str(course.solutions))
    assert proc.returncode == 0, proc.stdout
    assert "pass" in proc.stdout


def test_junit_and_csv_formats(course, solutions_report):
    from coursepack.integrations.lms.junit import to_junit
    from coursepack.reports.results import to_csv

    root = ET.fromstring(to_junit(solutions_report))
    assert int(root.get("tests")) == len(solutions_report.tests) and root.get("failures") == "0"
    rows = to_csv(solutions_report).strip().splitlines()
    assert rows[0].startswith("submission,framework,task,score")
    assert rows[-1].split(",")[2:4] == ["TOTAL", "100.0"]


def test_pytest_plugins_installed_beside_the_grader_take_no_part(course, tmp_path, monkeypatch):
    # A plugin that any installed package registers (pytest11 entry point) would run inside
    # every grading and could change what it reports: here one that passes every test.
    dist = tmp_path / "site"
    (dist / "passall-1.0.dist-info").mkdir(parents=True)
    (dist / "passall-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: passall\nVersion: 1.0\n")
    (dist / "passall-1.0.dist-info" / "entry_points.txt").write_text("[pytest11]\npassall = passall_plugin\n")
    (dist / "passall_plugin.py").write_text(
        "import pytest\n\n"
        "@pytest.hookimpl(hookwrapper=True, trylast=True)  # inside every other wrapper\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n"
        "    report = outcome.get_result()\n"
        "    report.outcome, report.longrepr = 'passed', None\n")
    monkeypatch.syspath_prepend(str(dist))
    report, _ = grade(course, course.assignments, frameworks=("torch",), mode="check", tasks={"sinusoidal"})
    assert report.tests and not any(t.passed for t in report.tests), "an installed plugin changed the grading"


def test_unknown_task_and_missing_folder_are_explained(course, tmp_path):
    proc = run_cli("--course", str(course.path), "check", "attention")
    assert proc.returncode == 2 and "there is no task 'attention'" in proc.stderr and "Fix:" in proc.stderr
    proc = run_cli("--course", str(course.path), "grade", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "missing: does not exist" in proc.stderr and "course submit" in proc.stderr
    proc = run_cli("--course", str(course.path), "grade", str(tmp_path))
    assert proc.returncode == 2 and "course_torch" in proc.stderr


def test_status_reports_the_last_check(course_copy):
    proc = run_cli("--course", str(course_copy), "status")
    assert proc.returncode == 0 and "No check has been run yet" in proc.stdout
    proc = run_cli("--course", str(course_copy), "check", "--path", str(course_copy / "solutions"))
    assert proc.returncode == 0, proc.stdout
    proc = run_cli("--course", str(course_copy), "status")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert any(line.split()[:2] == ["pass", "sdpa"] for line in lines), proc.stdout
    # Expected public points, counted independently: a task's points times its share of
    # public tests among all its tests.
    import re

    def count(folder):
        found = {}
        for path in (course_copy / folder).glob("test_*.py"):
            for task_id in re.findall(r'@task\("(\w+)"', path.read_text()):
                found[task_id] = found.get(task_id, 0) + 1
        return found

    public, hidden = count("assignments/tests"), count("autograder/tests")
    from coursepack.course.config import load_course

    tasks = load_course(course_copy).tasks
    want = sum(t.points * public[t.id] / (public[t.id] + hidden[t.id]) for t in tasks)
    shown = float(re.search(r"Public points so far: ([\d.]+)", proc.stdout).group(1))
    assert shown == pytest.approx(want, abs=0.006)


def test_status_follows_each_task_s_latest_check(course_copy, tmp_path):
    import shutil

    work = tmp_path / "work"
    shutil.copytree(course_copy / "assignments", work, ignore=shutil.ignore_patterns("tests", "expected"))
    assert run_cli("--course", str(course_copy), "check", "--path", str(work), "sdpa", "additive").returncode == 1

    def rows():
        out = run_cli("--course", str(course_copy), "status").stdout
        return {line.split()[1]: line for line in out.splitlines() if line.split()[:1] in (["pass"], ["todo"], ["-"])}

    before = rows()
    assert before["sdpa"].split()[0] == "todo" and before["additive"].split()[0] == "todo"
    assert "not checked yet" in before["multihead"]
    shutil.copy(course_copy / "solutions/course_torch/attention.py", work / "course_torch/attention.py")
    assert "changed since" in rows()["additive"]
    # Checking one task moves that task alone.
    assert run_cli("--course", str(course_copy), "check", "--path", str(work), "sdpa").returncode == 0
    after = rows()
    assert after["sdpa"].split()[0] == "pass" and "changed since" not in after["sdpa"]
    assert after["additive"].split()[0] == "todo" and "changed since" in after["additive"]
    assert "not checked yet" in after["multihead"]


def test_missing_framework_is_explained(course, monkeypatch):
    import importlib.util

    from coursepack.errors import CourseError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(CourseError, match=r"needs torch, which is not installed.*pip install -e '\.\[torch\]'"):
        grade(course, course.solutions, frameworks=("torch",))


# -- the TensorFlow track, graded by the same tests ----------------------------------------

@pytest.fixture(scope="module")
def both_tracks(course):
    """`course grade solutions --framework all --format json`: one run grades both tracks
    (the TensorFlow track's full marks below are read from it, not graded again)."""
    pytest.importorskip("tensorflow")
    proc = run_cli("--course", str(course.path), "grade", str(course.solutions), "--framework", "all",
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_tf_solutions_full_marks_and_stubs_zero(course, both_tracks, solutions_report):
    tf = [t for t in both_tracks["tests"] if t["framework"] == "tf"]
    assert tf and [(t["name"], t["message"]) for t in tf if not t["passed"]] == []
    for summary in (s for s in both_tracks["tasks"] if s["framework"] == "tf"):
        assert summary["score"] == pytest.approx(summary["max_score"]) and summary["max_score"] > 0, summary
    # One specification: the same tests ran for TensorFlow as for PyTorch.
    tf_names = sorted(t["name"].replace("[tf]", "") for t in tf)
    assert tf_names == sorted(t.name.replace("[torch]", "") for t in solutions_report.tests if t.framework == "torch")
    stubs, _ = grade(course, course.assignments, frameworks=("tf",))
    assert stubs.score == 0 and stubs.errors == []
    assert stubs.max_score == pytest.approx(course.total_points)  # one track alone carries every point
    assert all("not implemented yet at File \"course_tf/" in t.message for t in stubs.tests if t.framework == "tf")


def test_framework_all_grades_both_tracks_in_one_run(course, both_tracks):
    data = both_tracks
    assert {t["framework"] for t in data["tests"]} == {"torch", "tf", "quiz"}
    assert data["score"] == pytest.approx(course.total_points)
    for fw in ("torch", "tf"):  # each track carries half of the code points
        code = sum(t["max_score"] for t in data["tasks"] if t["framework"] == fw)
        assert code == pytest.approx(sum(t.points for t in course.tasks) / 2)

"""`course check` through a check server that keeps its workers warm (grading/warm_checks.py).

What a student must be able to rely on: a warm check gives the report a check in its own
process gives, on the files as they are now; the server and its workers go away when it
idles, when it is killed, and when a check's client is interrupted; and it is only used
where it is wanted.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from submissions import edit, make_submission

from coursepack.course.config import load_course
from coursepack.errors import CourseError
from coursepack.grading import warm_checks
from coursepack.grading.grader import grade

TORCH = ("torch",)
SCALED = "scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)"
UNSCALED = "scores = query @ key.transpose(-2, -1)"


@pytest.fixture
def private_tmp(monkeypatch):
    """A temp folder of this test's own (its check servers' sockets and workers' folders),
    reachable by a worker running as nobody; every check server started in it is stopped."""
    folder = Path(tempfile.mkdtemp(prefix="course-warm-"))
    folder.chmod(0o755)
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv(warm_checks.ENV, "1")
    yield folder
    servers = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "coursepack.grading.warm_checks" in cmdline and any(str(folder) in part for part in cmdline):
            process.terminate()
            servers.append(process)
    psutil.wait_procs(servers, timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


def _outline(report):
    return sorted((t.name, t.passed, round(t.score, 6)) for t in report.tests), report.errors


def _tree(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def _gone(processes, timeout: float = 15.0) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


def _workers(server_pid: int) -> list[psutil.Process]:
    """The server's worker processes (each runs runtime/course_worker.py)."""
    found = []
    for process in _tree(server_pid)[1:]:
        try:
            if any(part.endswith("course_worker.py") for part in process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            pass
    return found


def test_warm_checks_give_the_report_of_a_check_in_process_on_the_files_as_they_are_now(
        course, tmp_path, private_tmp):
    sub = make_submission(course, tmp_path / "sub")
    attention = sub / "course_torch" / "attention.py"

    first = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    assert (first.served, first.started, first.warm, first.note) == (True, True, False, "")
    assert first.report.all_passed and first.report.tests

    edit(attention, SCALED, UNSCALED)  # the student breaks the task between two checks
    broken = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    assert (broken.served, broken.started, broken.warm) == (True, False, True)
    assert broken.server_pid == first.server_pid
    assert not broken.report.all_passed
    assert any("not divided by sqrt(d_k)" in t.message for t in broken.report.tests), \
        "the warm check must name the mistake as a check in process does"
    here, _ = grade(course, sub, frameworks=TORCH, mode="check", tasks={"sdpa"})
    assert _outline(broken.report) == _outline(here)

    edit(attention, UNSCALED, SCALED)  # and fixes it
    fixed = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    assert fixed.warm and fixed.report.all_passed
    assert _outline(fixed.report) == _outline(first.report)

    # A mistake of the user is the same clear error as without a server.
    with pytest.raises(CourseError, match="does not exist"):
        warm_checks.check(course, tmp_path / "missing", frameworks=TORCH, tasks={"sdpa"})


def test_an_idle_server_stops_and_leaves_nothing(course, tmp_path, private_tmp, monkeypatch):
    monkeypatch.setenv(warm_checks.IDLE_ENV, "3")
    sub = make_submission(course, tmp_path / "sub")
    outcome = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    assert outcome.served and outcome.report.all_passed
    tree = _tree(outcome.server_pid)
    assert len(tree) >= 2, "the server keeps its worker"
    assert _gone(tree, timeout=30), "the server and its workers must stop after the idle time"
    assert list((private_tmp / f"course-checks-{os.getuid()}").glob("*.sock")) == []
    assert list(private_tmp.glob("course-worker-*")) == []


def test_a_killed_server_takes_its_workers_with_it_and_is_replaced(course, tmp_path, private_tmp):
    sub = make_submission(course, tmp_path / "sub")
    first = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    tree = _tree(first.server_pid)
    os.kill(first.server_pid, signal.SIGKILL)
    assert _gone(tree), "the workers must end with their server"
    second = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    assert (second.served, second.started, second.warm) == (True, True, False)
    assert second.server_pid != first.server_pid and second.report.all_passed


def test_a_changed_course_gets_a_new_server_and_the_old_one_stops(course_copy, tmp_path, private_tmp):
    course = load_course(course_copy / "course.toml")
    sub = make_submission(course, tmp_path / "sub")
    first = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    tree = _tree(first.server_pid)
    stamp = time.time() + 5
    os.utime(course.path, (stamp, stamp))  # the instructor updates the course
    second = warm_checks.check(load_course(course.path), sub, frameworks=TORCH, tasks={"sdpa"})
    assert second.started and second.server_pid != first.server_pid and second.report.all_passed
    assert _gone(tree), "the server of the old course must stop, with its workers"


# The first call of the student's attention never ends (the test's limit is 60 s).
HANG = ("import os as _os\n    open(_os.path.join(_os.environ['HOME'], 'started'), 'w').close()\n"
        "    while True:\n        pass\n")


def test_an_interrupted_check_ends_its_student_code_and_the_server_serves_the_next(course, tmp_path, private_tmp):
    sub = make_submission(course, tmp_path / "sub")
    attention = sub / "course_torch" / "attention.py"
    warm = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    good = attention.read_text()
    edit(attention, SCALED, HANG + "    " + SCALED)
    client = subprocess.Popen([sys.executable, "-m", "coursepack.cli", "--course", str(course.path),
                               "check", "sdpa", "--framework", "torch", "--path", str(sub)],
                              env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(private_tmp.glob("course-worker-*/home/started")):
        assert client.poll() is None and time.monotonic() < deadline, "the student's code never started"
        time.sleep(0.1)
    running = _tree(warm.server_pid)[1:]  # its workers, and the call stuck in the loop
    assert running
    client.send_signal(signal.SIGINT)  # Ctrl-C
    client.wait(timeout=30)
    assert _gone(running, timeout=5), "the interrupted check's processes must be ended at once"
    attention.write_text(good)
    after = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    assert after.served and after.server_pid == warm.server_pid and after.report.all_passed


def test_the_cli_says_a_server_now_stays_and_checks_as_before(course, tmp_path, private_tmp):
    sub = make_submission(course, tmp_path / "sub")
    command = [sys.executable, "-m", "coursepack.cli", "--course", str(course.path),
               "check", "sdpa", "--framework", "torch", "--path", str(sub)]
    first = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    second = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert first.returncode == second.returncode == 0, first.stdout + first.stderr
    assert "A check server now keeps the framework loaded" in first.stdout
    assert "check server" not in second.stdout
    points = [re.search(r"Public tests: ([\d.]+) / ([\d.]+) points", run.stdout) for run in (first, second)]
    assert points[0] and points[0].groups() == points[1].groups() and points[0][1] == points[0][2]


def test_both_lanes_stay_warm_and_see_the_edits(course, tmp_path, private_tmp, monkeypatch):
    # Three tasks or more take a second lane (judge/lanes.py): its workers are kept too.
    monkeypatch.setenv("COURSE_LANES", "2")
    tasks = {"sdpa", "additive", "multihead"}
    sub = make_submission(course, tmp_path / "sub")
    first = warm_checks.check(course, sub, frameworks=TORCH, tasks=tasks)
    assert first.report.all_passed
    workers = _workers(first.server_pid)
    assert len(workers) == 2, "one worker per lane, kept after the check"
    edit(sub / "course_torch" / "attention.py", SCALED, UNSCALED)
    broken = warm_checks.check(course, sub, frameworks=TORCH, tasks=tasks)
    assert broken.warm and {w.pid for w in _workers(broken.server_pid)} == {w.pid for w in workers}
    here, _ = grade(course, sub, frameworks=TORCH, mode="check", tasks=tasks)
    assert not here.all_passed and _outline(broken.report) == _outline(here)


@pytest.mark.parametrize("env, terminal, wanted", [
    ({}, True, True),                              # a student's terminal
    ({}, False, False),                            # output to a file or a pipe
    ({"CI": "true"}, True, False),                 # CI runs each check once: nothing to keep
    ({"COURSE_WARM_CHECKS": "0"}, True, False),
    ({"COURSE_WARM_CHECKS": "1"}, False, True),
])
def test_a_server_is_used_only_where_it_is_wanted(monkeypatch, env, terminal, wanted):
    for name in ("COURSE_WARM_CHECKS", "CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(os, "isatty", lambda fd: terminal)
    assert warm_checks.wanted() is wanted


def test_a_file_in_the_students_working_folder_never_runs_in_the_server(course, tmp_path, private_tmp,
                                                                        monkeypatch):
    sub = make_submission(course, tmp_path / "sub")
    monkeypatch.chdir(sub)
    (sub / "random.py").write_text("raise SystemExit(3)\n")  # would shadow the standard library
    outcome = warm_checks.check(course, sub, frameworks=TORCH, tasks={"sdpa"})
    assert outcome.served and outcome.note == "" and outcome.report.all_passed


def test_a_folder_others_can_enter_is_not_used_for_sockets(private_tmp):
    folder = private_tmp / f"course-checks-{os.getuid()}"
    folder.mkdir(mode=0o700)
    assert warm_checks.socket_folder() == folder
    folder.chmod(0o755)
    assert warm_checks.socket_folder() is None

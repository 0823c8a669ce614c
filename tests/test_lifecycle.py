"""Nothing outlives the grader: whatever ends it also ends every process that ran student code.

Each test starts a real ``course`` command (``grade``, ``check``, a class with
``--workers 2``, ``autograder run``) on a submission whose ``attention.py`` never
returns from its import (an endless loop or a long sleep), waits until that code runs,
then ends the command as a person or a CI job would: ``kill -9``, SIGTERM, or Ctrl-C
(SIGINT to the command's process group, as a terminal sends it). It then checks that,
within a generous bound, no process that ran student code is left, and that no
temporary folder is left once the grader starts again.

Every command runs with its own temporary folder (``TMPDIR``), so the processes and
folders of this test are told apart from those of any other grading on the machine: a
process ran student code if its command line names that folder (the worker, its forked
children, and under namespaces the ``unshare`` that holds them) or the tag of a process
the submission started itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest

from coursepack.judge import sandbox
from submissions import make_submission

pytestmark = pytest.mark.slow

HANGS = {
    "loop": "while True:\n    pass\n",
    "sleep": "import time\ntime.sleep(600)\n",
}
SIGNALS = {"kill-9": signal.SIGKILL, "sigterm": signal.SIGTERM, "ctrl-c": signal.SIGINT}
GONE_WITHIN = 10.0  # seconds; the lifecycle is immediate, the bound is for a loaded machine
STARTED = "started"


def _natural() -> str:
    return sandbox.isolation_level()


def levels() -> list[str]:
    """Every isolation level, the strongest first; those this machine cannot give are skipped."""
    return [pytest.param(level, marks=pytest.mark.skipif(
        sandbox.LEVELS.index(level) < sandbox.LEVELS.index(os.environ.get("COURSE_ISOLATION") or _natural()),
        reason=f"this machine cannot provide {level}")) for level in sandbox.LEVELS]


def hanging_submission(course, dest: Path, hang: str, tag: str | None = None) -> Path:
    """The solutions, with ``attention.py`` hanging at import after it has said so
    (``$HOME/started`` in the worker's folder) and, with ``tag``, started a detached
    ``sleep`` of its own."""
    sub = make_submission(course, dest)
    path = sub / "course_torch" / "attention.py"
    code = "import os as _os\n"
    if tag:
        code += f"import subprocess as _sp\n_sp.Popen(['sleep', '{tag}'], start_new_session=True)\n"
    code += f"open(_os.path.join(_os.environ['HOME'], '{STARTED}'), 'w').close()\n" + HANGS[hang]
    text = path.read_text()
    head = "from __future__ import annotations\n"
    assert head in text
    path.write_text(text.replace(head, head + code, 1))
    return sub


class Run:
    """One ``course`` command with a private temp folder, started in its own process group."""

    def __init__(self, course, tmp_path: Path, args: list[str], level: str, tag: str | None = None):
        # Not under tmp_path: pytest's folder is private to root, and a worker running as
        # nobody must reach its own folder.
        self.tmpdir = Path(tempfile.mkdtemp(prefix="course-lifecycle-"))
        self.tmpdir.chmod(0o755)
        self.tag = tag
        # Two lanes: the second lane's worker must be gone too.
        self.env = {**os.environ, "TMPDIR": str(self.tmpdir), "COURSE_ISOLATION": level, "COURSE_LANES": "2"}
        self.course = course
        self.proc = subprocess.Popen([sys.executable, "-m", "coursepack.cli", "--course", str(course.path), *args],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)

    def started(self) -> int:
        return len(list(self.tmpdir.glob(f"course-worker-*/home/{STARTED}")))

    def wait_for_student_code(self, count: int = 1, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.started() < count:
            if self.proc.poll() is not None:
                pytest.fail(f"the command ended before student code ran: {self.proc.stderr.read().decode()[-2000:]}")
            assert time.monotonic() < deadline, "student code never started"
            time.sleep(0.1)
        time.sleep(0.5)  # let it settle into its loop or sleep

    def end(self, how: str) -> None:
        if how == "ctrl-c":
            os.killpg(self.proc.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
        else:
            os.kill(self.proc.pid, SIGNALS[how])
        self.proc.wait(timeout=60)
        self.proc.stderr.close()

    def student_processes(self) -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            line = " ".join(process.info["cmdline"] or [])
            if str(self.tmpdir) in line or (self.tag and self.tag in line):
                found.append(process)
        return found

    def left_running(self) -> list[str]:
        """What still runs ``GONE_WITHIN`` seconds after the command ended (empty: all gone)."""
        deadline = time.monotonic() + GONE_WITHIN
        while True:
            alive = [p for p in self.student_processes() if _alive(p)]
            if not alive or time.monotonic() > deadline:
                return [f"{p.pid} {p.username()} {' '.join(p.cmdline())[:120]}" for p in alive if _alive(p)]
            time.sleep(0.1)

    def folders_after_next_start(self, sub: Path) -> list[str]:
        """Temporary folders left once a grader has started again with the same temp folder."""
        again = subprocess.run([sys.executable, "-m", "coursepack.cli", "--course", str(self.course.path),
                                "grade", str(sub), "--task", "quiz-post"], env=self.env, capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        return sorted(p.name for p in self.tmpdir.iterdir() if p.name.startswith("course-"))

    def kill_leftovers(self) -> None:
        """Whatever a failing test left, killed by pid (only processes of this run)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for process in self.student_processes():
            try:
                process.kill()
            except psutil.Error:
                pass
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.fixture
def runs():
    started: list[Run] = []
    yield started
    for run in started:
        run.kill_leftovers()


def check_nothing_left(run: Run, sub: Path) -> None:
    assert run.left_running() == [], "processes that ran student code outlived the grader"
    assert run.folders_after_next_start(sub) == [], "temporary folders outlived the grader"


@pytest.mark.parametrize("level", levels())
@pytest.mark.parametrize("how", list(SIGNALS))
@pytest.mark.parametrize("hang", list(HANGS))
def test_grade_ended_leaves_nothing(course, tmp_path, runs, level, how, hang):
    sub = hanging_submission(course, tmp_path / "sub", hang)
    run = Run(course, tmp_path, ["grade", str(sub), "--task", "sdpa"], level)
    runs.append(run)
    run.wait_for_student_code()
    run.end(how)
    check_nothing_left(run, sub)


@pytest.mark.parametrize("hang", list(HANGS))
def test_check_killed_leaves_nothing(course, tmp_path, runs, hang):
    sub = hanging_submission(course, tmp_path / "sub", hang)
    run = Run(course, tmp_path, ["check", "sdpa", "--path", str(sub)], _natural())
    runs.append(run)
    run.wait_for_student_code()
    run.end("kill-9")
    check_nothing_left(run, sub)


@pytest.mark.parametrize("hang", list(HANGS))
def test_autograder_run_killed_leaves_nothing(course, tmp_path, runs, hang):
    sub = hanging_submission(course, tmp_path / "sub", hang)
    run = Run(course, tmp_path, ["autograder", "run", str(sub), "--format", "json",
                                 "--out", str(tmp_path / "results.json")], _natural())
    runs.append(run)
    run.wait_for_student_code()
    run.end("kill-9")
    check_nothing_left(run, sub)


BATCH_CASES = [(how, hang, "natural") for how in SIGNALS for hang in HANGS] + \
    [("kill-9", "loop", level) for level in ("nobody", "process")]


@pytest.mark.parametrize("how,hang,level", BATCH_CASES)
def test_class_grading_ended_leaves_nothing(course, tmp_path, runs, how, hang, level):
    level = _natural() if level == "natural" else level
    if sandbox.LEVELS.index(level) < sandbox.LEVELS.index(_natural()):
        pytest.skip(f"this machine cannot provide {level}")
    klass = tmp_path / "class"
    for name in ("alice", "bob"):
        hanging_submission(course, klass / name, hang)
    run = Run(course, tmp_path, ["grade", str(klass), "--workers", "2", "--task", "sdpa",
                                 "--out", str(tmp_path / "grades")], level)
    runs.append(run)
    run.wait_for_student_code(count=2)  # both grader processes are running student code
    run.end(how)
    check_nothing_left(run, klass / "alice")


@pytest.mark.parametrize("level", levels())
def test_a_detached_process_dies_with_the_grader(course, tmp_path, runs, level):
    """A process the submission started in a session of its own (out of the worker's
    process group) is killed too."""
    tag = f"{time.time() % 1000:.0f}.{uuid.uuid4().int % 10**6:06d}"
    sub = hanging_submission(course, tmp_path / "sub", "sleep", tag=tag)
    run = Run(course, tmp_path, ["grade", str(sub), "--task", "sdpa"], level, tag=tag)
    runs.append(run)
    run.wait_for_student_code()
    assert any(tag in " ".join(p.cmdline()) for p in run.student_processes()), "the detached sleep never started"
    run.end("kill-9")
    check_nothing_left(run, sub)

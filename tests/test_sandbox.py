"""The worker runs under the strongest isolation available, and says which."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from coursepack.judge import sandbox
from coursepack.grading.grader import grade


@pytest.fixture
def isolation(monkeypatch):
    def force(level):
        monkeypatch.setenv("COURSE_ISOLATION", level)
        sandbox.isolation_level.cache_clear()
    yield force
    monkeypatch.delenv("COURSE_ISOLATION", raising=False)
    sandbox.isolation_level.cache_clear()


@pytest.mark.parametrize("level", ["nobody", "process"])
def test_reduced_isolation_still_grades_and_is_reported(course, isolation, level):
    if sandbox.LEVELS.index(level) < sandbox.LEVELS.index(sandbox.isolation_level()):
        pytest.skip(f"this machine cannot provide {level}")
    isolation(level)
    in_force = sandbox.isolation_level()
    # Never stronger than asked; weaker only when nobody cannot reach the interpreter.
    assert sandbox.LEVELS.index(in_force) >= sandbox.LEVELS.index(level)
    report, _ = grade(course, course.solutions, frameworks=("torch",), tasks={"sinusoidal"})
    assert report.isolation == in_force
    assert report.tests and all(t.passed for t in report.tests)


def test_isolation_can_only_be_lowered(isolation):
    natural = sandbox.isolation_level()
    isolation("namespaces+nobody")
    assert sandbox.isolation_level() == natural


def test_namespace_command_hides_everything_but_the_system(tmp_path):
    worker = tmp_path / "w"
    script = sandbox._mount_script(worker_dir=worker, hide=[tmp_path.parent, tmp_path / "inside"])
    hidden = re.findall(r"course-hidden (\S+)", script)
    assert "/tmp" in hidden and "/usr" not in hidden and "/etc" not in hidden
    assert str(tmp_path / "inside") not in hidden  # already covered by /tmp
    assert all(not h.startswith(("/usr", "/lib", "/proc")) for h in hidden)
    assert re.search(rf"mount --bind /mnt/k\d+ {re.escape(str(worker))}", script)  # mounted back
    prefix = str(Path(sys.prefix).resolve())
    if any(prefix.startswith(h + "/") for h in hidden):
        assert re.search(rf"mount --bind /mnt/k\d+ {re.escape(prefix)}", script)


def _processes_running(argv0: str, arg: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline[:2] == [argv0.encode(), arg.encode()]:
                found.append(int(entry.name))
    return found


def test_a_warm_worker_kills_what_a_submission_left_running(course, tmp_path):
    """Batch grading reuses one worker across submissions: a daemon started by one
    submission must be gone before the next submission runs."""
    from submissions import make_submission

    if sandbox.isolation_level() != "namespaces+nobody":
        pytest.skip("only a worker that is the init of its own pid namespace is reused")
    first = make_submission(course, tmp_path / "first")
    path = first / "course_torch" / "attention.py"
    path.write_text(path.read_text() + "\nimport subprocess\n"
                    "subprocess.Popen(['sleep', '987.6'], start_new_session=True)\n")
    second = make_submission(course, tmp_path / "second")
    pool = {}
    try:
        report, _ = grade(course, first, frameworks=("torch",), tasks={"additive"}, pool=pool)
        assert all(t.passed for t in report.tests)
        assert _processes_running("sleep", "987.6") == []
        worker = pool["torch"]
        assert worker.reusable and worker.starts == 1
        report, _ = grade(course, second, frameworks=("torch",), tasks={"additive"}, pool=pool)
        assert all(t.passed for t in report.tests)
        assert worker.starts == 1  # the framework was imported once for both submissions
    finally:
        for w in pool.values():
            w.close()


def test_folders_of_dead_graders_are_swept_and_others_kept(tmp_path, monkeypatch):
    """A grader killed with kill -9 cannot remove its folders: the next start does, and
    leaves alone the folders of a grader still running and folders it did not make."""
    import subprocess

    from coursepack.judge.worker import owned_folder, sweep_folders

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    code = ("import os, sys; from coursepack.judge.worker import owned_folder; "
            "owned_folder('course-worker-'); os.kill(os.getpid(), 9)")
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "TMPDIR": str(tmp_path)})
    dead = [p for p in tmp_path.iterdir()]
    assert len(dead) == 1 and (dead[0] / ".owner").is_file()
    alive, fd = owned_folder("course-worker-")
    foreign = tmp_path / "course-worker-not-ours"
    foreign.mkdir()
    try:
        assert sweep_folders("course-worker-") == dead
        assert sorted(tmp_path.iterdir()) == sorted([alive, foreign])
    finally:
        os.close(fd)
    assert sweep_folders("course-worker-") == [alive]  # its owner let go


def test_a_worker_start_sweeps_what_a_killed_grader_left(course, tmp_path, monkeypatch):
    from coursepack.judge.worker import Worker, owned_folder

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    left, fd = owned_folder("course-worker-")
    os.close(fd)  # as the kernel does when its grader is killed
    with Worker("torch", course.solutions, {"course_torch"}, {}) as worker:
        worker.start()
        assert not left.exists()
    assert list(tmp_path.iterdir()) == []  # and its own folder is removed when it closes

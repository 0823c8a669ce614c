"""How the worker is isolated, and the command line that starts it.

The strongest isolation the machine allows is chosen once per process and reported in
every result, because a grade obtained with reduced isolation should say so:

``namespaces+nobody``
    Root with ``unshare`` and ``setpriv``: private mount, network, pid and IPC namespaces;
    the course folder and the temp folder are covered by empty tmpfs mounts (the
    interpreter and the worker's own folder are mounted back); the worker then drops to
    the ``nobody`` user, so it can neither undo the mounts nor write anywhere else.
    Killing the worker kills every process student code started.
``nobody``
    Root without namespaces: the worker runs as ``nobody`` in its own process group.
``process``
    Neither (a student laptop, most hosted runners): a clean environment, ``python -s -P``,
    a private temp folder and a process group, but the worker can read what the user can.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

NOBODY = 65534
LEVELS = ("namespaces+nobody", "nobody", "process")


@functools.cache
def isolation_level() -> str:
    """The isolation in force here (cached); ``COURSE_ISOLATION`` can only lower it."""
    wanted = os.environ.get("COURSE_ISOLATION")
    level = "process"
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv"):
        level = "nobody"
        if shutil.which("unshare") and shutil.which("mount") and _namespaces_work():
            level = "namespaces+nobody"
    if wanted in LEVELS and LEVELS.index(wanted) > LEVELS.index(level):
        level = wanted
    if level == "nobody" and not _nobody_can_run_python():
        # Without namespaces the interpreter is reached through its real path: a venv in a
        # private folder (mode 700) is out of nobody's reach, so drop to a process sandbox.
        level = "process"
    return level


# How the worker's interpreter is started, and the probe that checks it can be (below).
_PYTHON_FLAGS = ["-s", "-P"]
_DROP_TO_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


def _nobody_can_run_python() -> bool:
    try:
        probe = subprocess.run(
            [*_DROP_TO_NOBODY, sys.executable, *_PYTHON_FLAGS, "-c", "import numpy"],
            capture_output=True, timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _namespaces_work() -> bool:
    try:
        probe = subprocess.run(
            ["unshare", "-m", "-n", "-p", "-i", "-f", "--kill-child", "sh", "-c",
             "mount -t tmpfs tmpfs /mnt && echo ok"],
            capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and probe.stdout.strip() == "ok"


def prepare_folder(path: Path) -> None:
    """Let the unprivileged worker write in its own folder (and nowhere else)."""
    if isolation_level() != "process":
        os.chown(path, NOBODY, NOBODY)


def worker_command(python_args: list[str], *, worker_dir: Path, hide: list[Path]) -> list[str]:
    """The argv that starts ``python -s -P <python_args>`` under the current isolation.

    Not ``-I``: that would also ignore the ``PYTHON*`` variables of the environment the
    grader builds for the worker from nothing (``Worker.start``), and those are meant
    (``PYTHONHASHSEED``, ``PYTHONDONTWRITEBYTECODE``). ``-s -P`` keep the rest of it: no
    user site-packages, and the script's folder not on ``sys.path``."""
    python = [sys.executable, *_PYTHON_FLAGS, *python_args]
    level = isolation_level()
    if level == "process":
        return python
    if level == "nobody":
        return _DROP_TO_NOBODY + python
    script = _mount_script(worker_dir=worker_dir, hide=hide)
    inner = " ".join(shlex.quote(a) for a in _DROP_TO_NOBODY + python)
    return ["unshare", "-m", "-n", "-p", "-i", "-f", "--kill-child", "--propagation", "private",
            "sh", "-c", f"{script}\nexec {inner}"]


# Top-level folders the worker's system needs; every other one (home folders, /work,
# /srv, /opt, /var, /tmp...) is covered, and only the interpreter and the worker's own
# folder are mounted back.
SYSTEM_DIRS = {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc", "dev", "sys", "run", "mnt"}


def _mount_script(*, worker_dir: Path, hide: list[Path]) -> str:
    """Shell that covers ``hide`` with empty tmpfs mounts but keeps what the worker needs."""
    keep = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), worker_dir.resolve()]
    tops = [p for p in Path("/").iterdir() if p.name not in SYSTEM_DIRS and p.is_dir() and not p.is_symlink()]
    hide = sorted({p.resolve() for p in [*hide, *tops]}, key=lambda p: len(p.parts))
    # A folder inside another hidden folder is already covered (and unreachable once the
    # outer one is mounted over).
    hide = [p for i, p in enumerate(hide) if not any(h in p.parents or h == p for h in hide[:i])]
    # Only paths under a hidden folder need to be mounted back.
    keep = sorted({k for k in keep if any(k == h or h in k.parents for h in hide)})
    lines = ["set -e", "mount -t tmpfs -o size=1m,mode=755 course-stage /mnt"]
    for i, path in enumerate(keep):
        lines.append(f"mkdir -p /mnt/k{i} && mount --bind {shlex.quote(str(path))} /mnt/k{i}")
    for path in hide:
        lines.append(f"mount -t tmpfs -o size=16m,mode=755 course-hidden {shlex.quote(str(path))}")
    for i, path in enumerate(keep):
        q = shlex.quote(str(path))
        lines.append(f"mkdir -p {q} && mount --bind /mnt/k{i} {q}")
    lines.append("mount -t proc proc /proc 2>/dev/null || true")
    # A private /dev/shm (with -i, private System V IPC): nothing outlives the worker there.
    lines.append("mount -t tmpfs -o size=256m,mode=1777 course-shm /dev/shm 2>/dev/null || true")
    return "\n".join(lines)

"""The worker keeps its imported framework in 2 MiB pages, so that forking it per call is cheap.

bench/worker_fork.py prints what this saves; here only the fact is checked: once the
worker is ready, most of its private memory sits in huge pages.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from coursepack.judge.worker import Worker


def _huge_pages_possible() -> bool:
    """glibc 2.35+ asks for huge pages when told to, and Linux gives them unless switched off."""
    try:
        version = tuple(int(part) for part in platform.libc_ver()[1].split(".")[:2])
        setting = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except (ValueError, OSError):
        return False
    return platform.libc_ver()[0] == "glibc" and version >= (2, 35) and "[never]" not in setting


def _worker_processes(folder: Path) -> list[int]:
    """Processes running the course_worker.py copied into ``folder``."""
    script = str(folder / "runtime" / "course_worker.py").encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if script in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/smaps_rollup")


@pytest.mark.skipif(not _huge_pages_possible(), reason="needs glibc 2.35+ and transparent huge pages allowed")
def test_a_ready_worker_holds_its_framework_in_huge_pages(course):
    with Worker("torch", course.solutions, {"course_torch"}, {}) as worker:
        worker.start()
        # The python process itself, not the isolation wrappers that name the script too.
        [pid] = [p for p in _worker_processes(worker._dir) if _kib(p, "Anonymous") > 100_000]
        anonymous, huge = _kib(pid, "Anonymous"), _kib(pid, "AnonHugePages")
        # PyTorch and its optimiser's imports leave some 200 MB of private memory.
        assert huge >= anonymous // 2, f"{huge} KiB of {anonymous} KiB in huge pages"
        result = worker.call({"import": "course_torch.attention"}, {}, 30)
        assert result.ok, result.message  # a child forked from it runs as before

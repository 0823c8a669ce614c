"""Benchmark: what a hostile or broken submission costs the grader, before and after.

    .venv/bin/python bench/hostile_submissions.py [--before /tmp/before-12] [--cap 600] [--kind KIND ...]

Grades four PyTorch submissions with the real limits of ``course.toml`` (every task, public
and hidden tests, ``course grade SUB --format json``):

``loop-at-import``    the stubs with ``while True: pass`` at the top of every task module
``sleep-at-import``   the stubs with ``time.sleep(3600)`` there instead
``memory-at-import``  the stubs allocating 64 x 256 MB there (more than the memory cap)
``loop-in-function``  the solutions with an endless loop in ``sinusoidal_encoding`` only

once with the code of this tree and once with a tree of the code before the import
step (``--before``, made with ``git worktree add --detach /tmp/before-12 <commit>``), and
prints the wall-clock seconds of each, the points, and the target: a submission whose
every module hangs or exhausts the memory at import is graded in at most twice the
longest per-test limit. A run still going after ``--cap`` seconds is stopped (shown as
``> cap``), and every process it left behind is killed. Each run gets a private temp
folder, so nothing here touches another grading on the machine. Run it on an otherwise
idle machine; the import-time figures are dominated by time limits, not by CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from submissions import edit, make_submission  # noqa: E402

TASK_MODULES = ("attention", "positional", "multihead", "encoder", "bert", "training")
AT_IMPORT = {
    "loop-at-import": "while True:\n    pass\n",
    "sleep-at-import": "import time\ntime.sleep(3600)\n",
    "memory-at-import": "import numpy as _np\n_blocks = [_np.ones(256 * 2**20 // 8) for _ in range(64)]\n",
}
KINDS = [*AT_IMPORT, "loop-in-function"]


def build(course, dest: Path, kind: str) -> Path:
    if kind in AT_IMPORT:
        sub = make_submission(course, dest, base="assignments")
        head = "from __future__ import annotations\n"
        for module in TASK_MODULES:
            path = sub / "course_torch" / f"{module}.py"
            path.write_text(path.read_text().replace(head, head + AT_IMPORT[kind], 1))
        return sub
    sub = make_submission(course, dest)
    edit(sub / "course_torch" / "positional.py", "    ### BEGIN SOLUTION\n    if d_model % 2 != 0:",
         "    ### BEGIN SOLUTION\n    while True:\n        pass\n    if d_model % 2 != 0:")
    return sub


def grade(tree: Path, sub: Path, work: Path, cap: float) -> tuple[float, float | None]:
    """(wall seconds, points or None when stopped at the cap) of `course grade` from ``tree``."""
    tmpdir = Path(tempfile.mkdtemp(prefix="tmp-", dir=work))
    out = work / f"result-{tmpdir.name}.json"
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "TMPDIR": str(tmpdir)}
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "coursepack.cli", "--course", str(tree / "course.toml"),
                             "grade", str(sub), "--framework", "torch", "--format", "json", "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return time.monotonic() - began, None
    finally:
        _kill_left_behind(tmpdir)
    seconds = time.monotonic() - began
    if proc.returncode != 0:
        sys.exit(f"grading {sub.name} with {tree} failed:\n{err.decode()[-2000:]}")
    return seconds, json.loads(out.read_text())["score"]


def _kill_left_behind(tmpdir: Path) -> None:
    """Kill the processes whose command line names this run's temp folder (its workers)."""
    for process in psutil.process_iter(["cmdline"]):
        if str(tmpdir) in " ".join(process.info["cmdline"] or []):
            try:
                process.kill()
            except psutil.Error:
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, default=Path("/tmp/before-12"),
                        help="a work tree of the code to compare with (skipped if missing)")
    parser.add_argument("--cap", type=float, default=600.0, help="seconds after which a run is stopped")
    parser.add_argument("--kind", action="append", choices=KINDS, help="only these submissions (repeatable)")
    args = parser.parse_args()

    from coursepack.course.config import load_course

    course = load_course(ROOT / "course.toml")
    limits = [course.task(t.id).time_limit for t in course.tasks]
    target = 2 * max(limits)
    trees = [("before", args.before.resolve())] if (args.before / "src" / "coursepack").is_dir() else []
    trees.append(("after", ROOT))
    print(f"per-test limits {sorted(set(limits))} s; target for a submission hanging at import: {target:g} s")
    print(f"{'submission':18} " + " ".join(f"{name + ' s':>12} {name + ' pts':>11}" for name, _ in trees))
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as work:
        work = Path(work)
        for kind in args.kind or KINDS:
            sub = build(course, work / kind, kind)
            cells = []
            for _, tree in trees:
                seconds, points = grade(tree, sub, work, args.cap)
                shown = f"> {args.cap:g}" if points is None else f"{seconds:.1f}"
                cells.append(f"{shown:>12} {'-' if points is None else f'{points:g}':>11}")
            print(f"{kind:18} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()

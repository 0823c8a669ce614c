"""Benchmark: `course check` in its own process against `course check` through a warm
check server (src/coursepack/grading/warm_checks.py).

    .venv/bin/python bench/warm_checks.py [--repeat 5] [--framework torch|tf]

Each command is the real CLI on a copy of the reference solutions, in a fresh process,
run with COURSE_WARM_CHECKS=0 (its own worker, as under CI) and COURSE_WARM_CHECKS=1
(the server that an earlier check started) in turn, so that both columns see the same
machine. Before every check one task file is touched, as a student's edit would, so the
server copies the files in again each time. The figures are medians of wall-clock
seconds: what a student waits for. Both columns must print the same points, or the
benchmark stops.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
POINTS = re.compile(r"Public tests: [\d.]+ / [\d.]+ points")


def timed(args: list[str], env: dict) -> tuple[float, str]:
    began = time.perf_counter()
    proc = subprocess.run(args, check=False, cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - began
    found = POINTS.search(proc.stdout)
    if proc.returncode != 0 or found is None:
        sys.exit(f"the check failed ({' '.join(args[3:])}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall, found.group(0)


def stop_servers(folder: Path) -> None:
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "coursepack.grading.warm_checks" in cmdline and any(str(folder) in part for part in cmdline):
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--framework", choices=["torch", "tf"], default="torch")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    tmp.chmod(0o755)  # a worker running as nobody reaches its folder here
    try:
        sub = tmp / "sub"
        shutil.copytree(ROOT / "solutions", sub, ignore=shutil.ignore_patterns("__pycache__"))
        edited = sub / f"course_{args.framework}" / "attention.py"
        base = {**os.environ, "TMPDIR": str(tmp), "COURSE_WARM_CHECKS_IDLE": "900"}
        envs = {"own process": {**base, "COURSE_WARM_CHECKS": "0"}, "warm server": {**base, "COURSE_WARM_CHECKS": "1"}}
        cases = {"course check sdpa": ["sdpa"], "course check (every task)": []}
        check = [sys.executable, "-m", "coursepack.cli", "check", "--framework", args.framework, "--path", str(sub)]
        timed(check + ["sdpa"], envs["warm server"])  # starts the server: its first check is cold
        walls = {(case, how): [] for case in cases for how in envs}
        for _ in range(args.repeat):
            for case, tasks in cases.items():
                points = set()
                for how, env in envs.items():
                    edited.touch()
                    wall, said = timed(check + tasks, env)
                    walls[case, how].append(wall)
                    points.add(said)
                if len(points) != 1:
                    sys.exit(f"{case}: the two ways printed different points: {sorted(points)}")
    finally:
        stop_servers(tmp)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"course check, framework {args.framework}: medians of {args.repeat} runs (min-max), wall-clock seconds")
    print(f"{'command':<26} {'own process':>18} {'warm server':>18} {'ratio':>6}")
    for case in cases:
        cold, warm = (walls[case, how] for how in envs)
        cells = [f"{statistics.median(v):.2f} ({min(v):.1f}-{max(v):.1f})" for v in (cold, warm)]
        ratio = statistics.median(warm) / statistics.median(cold)
        print(f"{case:<26} {cells[0]:>18} {cells[1]:>18} {ratio:>6.2f}")

if __name__ == "__main__":
    main()

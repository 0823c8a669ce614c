"""Benchmark: how long grading and checking take, with one grading lane and with two,
how much memory student code gets, and the figures of the pretraining experiment.

    .venv/bin/python bench/grading.py [--repeat 3] [--framework torch|tf]

Prints one table. Each command is the real CLI (`course grade solutions`, `course check
--path solutions`, `course check` on the stubs) in a fresh process, run with
COURSE_LANES=1 and COURSE_LANES=2 in turn (1, 2, 1, 2, ...), so that both columns see the
same machine; the figures are medians of wall-clock and CPU seconds (the command and
every process it started).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANES = (1, 2)


def timed(args: list[str], lanes: int | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the command and its children, the finished process)."""
    env = dict(os.environ) if lanes is None else {**os.environ, "COURSE_LANES": str(lanes)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run(args, check=False, cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def course(*args: str) -> list[str]:
    return [sys.executable, "-m", "coursepack.cli", *args]


def side_by_side(label: str, args: list[str], repeat: int, check=None) -> list[tuple[str, str, str, str]]:
    """Rows for ``args`` run ``repeat`` times with each number of lanes, interleaved."""
    walls = {n: [] for n in LANES}
    cpus = {n: [] for n in LANES}
    for _ in range(repeat):
        for n in LANES:
            wall, cpu, proc = timed(args, n)
            if check is not None:
                check(proc)
            walls[n].append(wall)
            cpus[n].append(cpu)
    rows = []
    for what, values in (("wall s", walls), ("CPU s", cpus)):
        one, two = (statistics.median(values[n]) for n in LANES)
        rows.append((f"{label}, {what}", f"{one:.2f}", f"{two:.2f}", f"{two / one:.2f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--framework", choices=["torch", "tf"], default="torch")
    args = parser.parse_args()

    table = []
    facts = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        reports = []

        def graded(proc):
            if proc.returncode != 0:
                sys.exit(f"grading failed:\n{proc.stderr}")
            reports.append(json.loads(out.read_text()))

        table += side_by_side(f"grade one submission, {args.framework}, public + hidden",
                              course("grade", "solutions", "--framework", args.framework, "--format", "json",
                                     "--out", str(out)), args.repeat, graded)
    scores = {round(r["score"], 6) for r in reports}
    facts.append(("score of the reference solutions (every run)", ", ".join(map(str, sorted(scores)))))
    facts.append(("isolation in force", reports[-1]["isolation"]))
    facts.append(("peak memory of a process running student code (MB)", max(r["worker_peak_mb"] for r in reports)))
    table += side_by_side("course check, all public tests",
                          course("check", "--path", "solutions", "--framework", args.framework), args.repeat)
    table += side_by_side("course check on the untouched stubs",
                          course("check", "--framework", args.framework), args.repeat)

    header = ("figure", "one lane", "two lanes", "ratio")
    width = max(len(r[0]) for r in [header, *table])
    print(f"median of {args.repeat} runs each, interleaved")
    print(f"{header[0]:<{width}}  {header[1]:>9}  {header[2]:>9}  {header[3]:>6}")
    for name, one, two, ratio in table:
        print(f"{name:<{width}}  {one:>9}  {two:>9}  {ratio:>6}")
    print()

    rows = list(facts)
    sys.path.insert(0, str(ROOT / "solutions"))
    if args.framework == "tf":
        from course_tf.training import run_experiment
    else:
        from course_torch.training import run_experiment

    figures = run_experiment(seed=args.seed)
    rows += [
        ("pretraining: masked-token accuracy", figures["mlm_accuracy"]),
        ("pretraining: unigram baseline accuracy", figures["unigram_accuracy"]),
        ("fine-tuning: pretrained model test accuracy", figures["pretrained_accuracy"]),
        ("fine-tuning: from-scratch model test accuracy", figures["scratch_accuracy"]),
        ("pretraining + fine-tuning experiment (s)", figures["seconds"]),
    ]

    width = max(len(name) for name, _ in rows)
    print(f"{'figure':<{width}}  value")
    for name, value in rows:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:<{width}}  {shown}")


if __name__ == "__main__":
    main()

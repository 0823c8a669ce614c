"""Benchmark: how long grading and checking take, how much memory student code gets,
and the figures of the pretraining experiment.

    .venv/bin/python bench/grading.py [--repeat 3]

Prints one table. Timings are wall-clock medians over --repeat runs of the real CLI
(`course grade solutions`, `course check --path solutions`), each a fresh process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    began = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - began, proc


def course(*args: str) -> list[str]:
    return [sys.executable, "-m", "coursepack.cli", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--framework", choices=["torch", "tf"], default="torch")
    args = parser.parse_args()

    rows = []
    grade_times, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        for _ in range(args.repeat):
            seconds, proc = timed(course("grade", "solutions", "--framework", args.framework, "--format", "json",
                                         "--out", str(out)))
            if proc.returncode != 0:
                sys.exit(f"grading failed:\n{proc.stderr}")
            report = json.loads(out.read_text())
            grade_times.append(seconds)
            peaks.append(report["worker_peak_mb"])
    rows.append((f"grade one submission, {args.framework}, public + hidden (s)", statistics.median(grade_times)))
    rows.append(("  score of the reference solutions", report["score"]))
    rows.append(("  isolation in force", report["isolation"]))
    rows.append(("peak memory of a process running student code (MB)", max(peaks)))

    check_times = []
    for _ in range(args.repeat):
        seconds, proc = timed(course("check", "--path", "solutions", "--framework", args.framework))
        check_times.append(seconds)
    rows.append(("course check, all public tests (s)", statistics.median(check_times)))
    stub_times = [timed(course("check", "--framework", args.framework))[0] for _ in range(args.repeat)]
    rows.append(("course check on the untouched stubs (s)", statistics.median(stub_times)))

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
    print(f"{'figure':<{width}}  value   (median of {args.repeat} runs where timed)")
    for name, value in rows:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:<{width}}  {shown}")


if __name__ == "__main__":
    main()

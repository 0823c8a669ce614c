"""Benchmark: the pretraining experiment's margins over many seeds, as the grader sees them.

    .venv/bin/python bench/pretraining_margins.py [--seeds 20] [--framework torch tf]

Runs the reference solutions' experiment through the judge (the same worker calls as the
tests, ``coursepack.testing.toyeval.run_experiment``) for each seed, with that seed as both the
vocabulary relabelling and the data, and prints every figure, then the worst of each
against the threshold the tests apply. A correct implementation must never come near
the thresholds; this prints how far it stays.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from coursepack.testing import toyeval
from coursepack.course.config import load_course
from coursepack.judge.session import GradingSession
from coursepack.testing import Judge

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--framework", nargs="+", choices=["torch", "tf"], default=["torch", "tf"])
    args = parser.parse_args()
    course = load_course(ROOT / "course.toml")
    for framework in args.framework:
        session = GradingSession(course, course.solutions, (framework,), "grade")
        judge = Judge(session, framework, "hidden", course.task("pretraining").time_limit, "pretraining")
        toylang = session.shared_module("toylang")
        rows, failures, seconds = [], 0, []
        print(f"\n{framework}: seed, MLM accuracy (need), unigram, pretrained, scratch, loss start -> end, s")
        try:
            for seed in range(args.seeds):
                began = time.perf_counter()
                run = toyeval.run_experiment(judge, toylang, relabel_seed=1000 + seed, data_seed=seed)
                seconds.append(time.perf_counter() - began)
                problems = toyeval.experiment_problems(run)
                failures += bool(problems)
                rows.append((run.mlm_accuracy - run.mlm_needed, run.pretrained_accuracy, run.scratch_accuracy,
                             run.pretrained_accuracy - run.scratch_accuracy, run.loss_end))
                print(f"  {seed:2d}  {run.mlm_accuracy:.3f} ({run.mlm_needed:.3f})  {run.unigram_accuracy:.3f}  "
                      f"{run.pretrained_accuracy:.3f}  {run.scratch_accuracy:.3f}  "
                      f"{run.loss_start:.2f} -> {run.loss_end:.2f}  "
                      f"{seconds[-1]:.1f}" + ("  FAILS: " + "; ".join(problems) if problems else ""))
        finally:
            session.close()
        margin = np.array(rows)
        print(f"{framework} over {args.seeds} seeds: {failures} failing; "
              f"worst MLM margin over its threshold {margin[:, 0].min():+.3f}; "
              f"worst pretrained accuracy {margin[:, 1].min():.3f} (need 0.6); "
              f"best scratch accuracy {margin[:, 2].max():.3f}; "
              f"smallest pretrained - scratch {margin[:, 3].min():.3f} (need 0.15); "
              f"final loss {margin[:, 4].min():.2f}..{margin[:, 4].max():.2f} (floor {toyeval.LOSS_FLOOR}); "
              f"median {statistics.median(seconds):.1f} s per experiment")


if __name__ == "__main__":
    main()

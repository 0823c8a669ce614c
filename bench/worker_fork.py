"""Benchmark: what one call's fresh process costs the worker, with 4 KiB pages and with 2 MiB pages.

    .venv/bin/python bench/worker_fork.py [--framework torch|tf] [--rounds 3] [--calls 20]

The worker forks a child for every call (judge/runtime/course_worker.py), and the
grader starts a PyTorch worker with ``HUGE_PAGES_ENV`` (judge/worker.py) so that its
memory sits in 2 MiB pages. This script starts a process that imports the framework as the worker does,
once with that environment and once without, in alternating rounds so that both see
the same machine; each process times ``--calls`` forks of a child that runs one small
framework operation and exits. Prints medians in milliseconds, and how much of each
process's private memory is in huge pages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "src" / "coursepack" / "judge" / "runtime"
sys.path.insert(0, str(ROOT / "src"))

from coursepack.judge.worker import HUGE_PAGES_ENV  # noqa: E402 - after the path above


def one_call(operation) -> float:
    """Milliseconds from the fork to the reaped child, which runs ``operation`` once."""
    began = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            operation()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return 1000 * (time.perf_counter() - began)


def memory_kib(field: str) -> int:
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(framework: str, calls: int) -> None:
    """In this process: import the framework as the worker does, then time the calls."""
    sys.path.insert(0, str(RUNTIME))
    adapter = __import__(f"{framework}_adapter")
    adapter.setup()
    if framework == "torch":
        def operation():
            adapter.torch.ones(4, 4).matmul(adapter.torch.ones(4, 4))
    else:
        def operation():
            adapter.tf.matmul(adapter.tf.ones((4, 4)), adapter.tf.ones((4, 4))).numpy()
    times = [one_call(operation) for _ in range(calls)]
    print(json.dumps({"ms": times, "private_kib": memory_kib("Anonymous"),
                      "huge_kib": memory_kib("AnonHugePages")}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=("torch", "tf"), default="torch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.framework, args.calls)
        return

    huge_env = HUGE_PAGES_ENV.get(args.framework) or HUGE_PAGES_ENV["torch"]
    plain_env = {k: v for k, v in os.environ.items() if k not in huge_env}
    variants = {"4 KiB": plain_env, "2 MiB": {**plain_env, **huge_env}}
    figures = {name: {"ms": [], "private_kib": [], "huge_kib": []} for name in variants}
    for _ in range(args.rounds):
        for name, env in variants.items():
            out = subprocess.run([sys.executable, __file__, "--measure", "--framework", args.framework,
                                  "--calls", str(args.calls)], env=env, check=True, capture_output=True, text=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            figures[name]["ms"] += result["ms"]
            figures[name]["private_kib"].append(result["private_kib"])
            figures[name]["huge_kib"].append(result["huge_kib"])
    print(f"{args.framework}: fork + one small operation + exit, {args.rounds} rounds of {args.calls} calls")
    print(f"{'pages':<8} {'median ms':>10} {'private MB':>11} {'of it huge':>11}")
    for name, fig in figures.items():
        print(f"{name:<8} {statistics.median(fig['ms']):>10.1f} {statistics.median(fig['private_kib']) / 1024:>11.0f} "
              f"{statistics.median(fig['huge_kib']) / 1024:>11.0f}")
    ratio = statistics.median(figures["2 MiB"]["ms"]) / statistics.median(figures["4 KiB"]["ms"])
    print(f"ratio 2 MiB / 4 KiB: {ratio:.2f}")
    if args.framework not in HUGE_PAGES_ENV:
        print(f"(the grader starts {args.framework} workers in 4 KiB pages: see HUGE_PAGES_ENV in judge/worker.py)")


if __name__ == "__main__":
    main()

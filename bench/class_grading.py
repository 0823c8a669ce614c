"""Benchmark: grading a class on one machine.

    .venv/bin/python bench/class_grading.py [--n 12] [--workers 2] [--time-limit 10]

Builds a class of N PyTorch submissions in a temporary copy of the course (correct
ones, partial ones with classic mistakes, broken ones, one that never returns), then
grades it twice, side by side:

* ``course grade CLASS --workers W``: the batch grader (warm workers, W in parallel);
* one ``course grade SUBMISSION`` process per submission, one after the other: what a
  shell loop or a naive CI job does (every run imports the framework again).

* ``nbgrader autograde`` on the same code as notebooks (the nbgrader course made by
  ``course nbgrader build``, each submission's answer cells holding the same code),
  twice: as this course grades them (the judge, in nbgrader's process), and as a plain
  nbgrader course would (``plain_kernel.py``: the same tests, run in the notebook's
  kernel with the student's code imported into it, the framework imported once per
  notebook).

Prints seconds per submission for each, the ratios, and whether the scores agree, and
the CPU seconds the machine spent per submission each way: equal CPU time means that
both ways did the same work, and the throughput ratio then comes from running
submissions side by side, bounded by the number of cores. The
copy's per-test time limit is lowered to --time-limit seconds so that the submission
that never returns costs seconds, not minutes (after one timeout the task's other tests
fail at once).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from submissions import KINDS, make_kind  # noqa: E402

# Kinds whose code reads the same as a .py file and as answer cells (code that runs at
# import, like exit-at-import, is not part of an answer cell's definitions).
MIX = ["correct", "no-scale", "stub", "heads-split", "correct", "syntax-error", "correct", "correct"]


def course_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "coursepack.cli", *args]


class Timed:
    """Wall-clock seconds of what runs inside the ``with`` block, and the CPU seconds the
    whole machine spent meanwhile (run the benchmark on an otherwise idle machine)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), _machine_cpu()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = _machine_cpu() - self.cpu


def _machine_cpu() -> float:
    # /proc/stat counts every process, including workers in their own pid namespaces,
    # which getrusage(RUSAGE_CHILDREN) misses once a namespace's init is killed.
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:  # not Linux: the benchmark's own children only
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    # user nice system idle iowait irq softirq (steal, the hypervisor's, is not ours)
    busy = sum(int(v) for i, v in enumerate(fields[:7]) if i not in (3, 4))
    return busy / os.sysconf("SC_CLK_TCK")


def copy_course(dest: Path, time_limit: int) -> Path:
    dest.mkdir()
    text = (ROOT / "course.toml").read_text()
    text = re.sub(r"(?m)^time_limit = \d+", f"time_limit = {time_limit}", text, count=1)
    (dest / "course.toml").write_text(text)
    for name in ("solutions", "assignments", "autograder", "quizzes"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest / "course.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=12, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=int, default=10, help="seconds per test in the benchmark's copy")
    parser.add_argument("--skip-sequential", action="store_true", help="leave out one `course grade` per submission")
    parser.add_argument("--skip-nbgrader", action="store_true", help="leave out nbgrader autograde")
    args = parser.parse_args()

    from coursepack.course.config import load_course

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        course_toml = copy_course(tmp / "course", args.time_limit)
        course = load_course(course_toml)
        klass = tmp / "class"
        klass.mkdir()
        kinds = {}
        for i in range(args.n):
            kind = "endless-loop" if i == args.n - 1 else MIX[i % len(MIX)]
            name = f"s{i:02d}-{kind}"
            make_kind(course, klass / name, kind)
            kinds[name] = kind

        with Timed() as batch_time:
            proc = subprocess.run(course_cli("--course", str(course_toml), "grade", str(klass), "--workers",
                                             str(args.workers), "--out", str(tmp / "batch")),
                                  capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"batch grading failed:\n{proc.stderr}")
        with open(tmp / "batch" / "gradebook.csv", newline="") as fh:
            batch = {row["submission"]: float(row["total"]) for row in csv.DictReader(fh)}

        single, single_time = {}, None
        if not args.skip_sequential:
            with Timed() as single_time:
                for name in sorted(kinds):
                    out = tmp / "single" / f"{name}.json"
                    proc = subprocess.run(course_cli("--course", str(course_toml), "grade", str(klass / name),
                                                     "--format", "json", "--out", str(out)),
                                          capture_output=True, text=True)
                    if proc.returncode != 0:
                        sys.exit(f"grading {name} failed:\n{proc.stderr}")
                    single[name] = json.loads(out.read_text())["score"]

        notebooks, nb_time, plain, plain_time = {}, None, {}, None
        if not args.skip_nbgrader:
            notebooks, nb_time = nbgrader_run(course, course_toml, kinds)
            plain, plain_time = nbgrader_run(course, course_toml, kinds, plain=True,
                                             cell_timeout=max(60, 3 * args.time_limit))

    n = args.n
    print(f"class of {n} PyTorch submissions: " + ", ".join(f"{k} x{list(kinds.values()).count(k)}"
                                                           for k in dict.fromkeys(kinds.values())))
    print(f"per-test time limit in this run: {args.time_limit} s; cores: {os.cpu_count()}")
    print(f"{'way of grading':<52} {'total (s)':>10} {'s/submission':>13} {'CPU s/submission':>17}")

    def row(label: str, timed: Timed) -> None:
        print(f"{label:<52} {timed.wall:>10.1f} {timed.wall / n:>13.2f} {timed.cpu / n:>17.2f}")

    row(f"course grade CLASS --workers {args.workers}", batch_time)
    if single_time is not None:
        row("one course grade per submission, in sequence", single_time)
    if nb_time is not None:
        row("nbgrader autograde, the course's judge", nb_time)
        row("nbgrader autograde, plain: tests in the kernel", plain_time)
    if single_time is not None:
        print(f"throughput ratio (batch / sequential): {single_time.wall / batch_time.wall:.2f}x")
        differ = [name for name in kinds if abs(batch[name] - single[name]) > 1e-6]
        print("scores agree: " + ("yes, every submission" if not differ else f"NO: {', '.join(differ)}"))
    if nb_time is not None:
        print(f"throughput ratio (batch / nbgrader autograde): {nb_time.wall / batch_time.wall:.2f}x; "
              f"CPU per submission, nbgrader / batch: {nb_time.cpu / batch_time.cpu:.2f}x; "
              f"cores the batch kept busy: {batch_time.cpu / batch_time.wall:.2f}")
        differ = [name for name in kinds if abs(batch[name] - notebooks[name]) > 1e-3]
        print("scores agree with nbgrader: " + ("yes, every submission" if not differ else f"NO: {', '.join(differ)}"))
        print(f"throughput ratio (batch / plain nbgrader, tests in the kernel): "
              f"{plain_time.wall / batch_time.wall:.2f}x; CPU per submission, plain / batch: "
              f"{plain_time.cpu / batch_time.cpu:.2f}x")
        differ = [name for name in kinds if abs(batch[name] - plain[name]) > 1e-3]
        print("scores agree with plain nbgrader: "
              + ("yes, every submission" if not differ else f"NO: {', '.join(differ)}"))
    for name in sorted(kinds):
        extra = f"  nbgrader {notebooks[name]:>6.2f}  plain {plain[name]:>6.2f}" if notebooks else ""
        print(f"  {name:<24} {batch[name]:>7.2f} / 100{extra}")


def nbgrader_run(course, course_toml: Path, kinds: dict[str, str], plain: bool = False, cell_timeout: int = 60
                 ) -> tuple[dict[str, float], Timed]:
    """Build the nbgrader course, submit every kind as a notebook, time `nbgrader autograde`.

    ``plain``: grade as a plain nbgrader course would, the tests in the kernel
    (``plain_kernel.py``).
    """
    import nbformat

    from plain_kernel import make_plain_course

    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    out = course_toml.parent / "nbgrader"
    if not out.exists():
        subprocess.run(course_cli("--course", str(course_toml), "nbgrader", "build", str(out), "--framework", "torch"),
                       check=True, capture_output=True, env=env)
    if plain:
        make_plain_course(out, course_toml.parent / "nbgrader-plain", "attention_torch")
        out = course_toml.parent / "nbgrader-plain"
        # The kernel imports plain_kernel from here and finds the course (with its hidden tests).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")]))
        env["COURSE_TOML"] = str(course_toml)
        # One cell runs a whole task; a submission that never returns costs this once per task.
        env["PLAIN_CELL_TIMEOUT"] = str(cell_timeout)
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    subprocess.run([nbgrader, "generate_assignment", "attention"], cwd=out, check=True, capture_output=True, env=env)
    source = nbformat.read(out / "source/attention/attention_torch.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for name, kind in kinds.items():
        base, edits = KINDS[kind]
        nb = nbformat.read(out / "release/attention/attention_torch.ipynb", as_version=4)
        if base == "solutions":
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in answers:
                    text = answers[grade_id]
                    for file, old, new in edits:
                        if grade_id.startswith(Path(file).stem + "-"):
                            text = text.replace(old, new)
                    cell.source = text
        target = out / "submitted" / name / "attention" / "attention_torch.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    with Timed() as timed:
        proc = subprocess.run([nbgrader, "autograde", "attention"], cwd=out, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"nbgrader autograde failed:\n{proc.stderr[-3000:]}")
    subprocess.run([nbgrader, "export"], cwd=out, check=True, capture_output=True, env=env)
    with open(out / "grades.csv", newline="") as fh:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}
    return scores, timed


if __name__ == "__main__":
    main()

"""The ``course`` command: a thin layer over the library.

Every command loads ``course.toml`` (the nearest one above the working directory, or
``--course PATH``), turns user mistakes into one-paragraph messages (exit status 2) and
leaves the work to :mod:`coursepack.build` and :mod:`coursepack.grading`.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

import click
from rich.console import Console

from . import build as build_mod
from .config import load_course
from .errors import CourseError
from .grading import grade as run_grading
from .render import print_report, pts
from .results import WRITERS, to_json, write_atomic

FRAMEWORK_CHOICE = click.Choice(["torch", "tf", "all"])
STATE_DIR = ".course"


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def friendly(fn):
    """Print CourseError as a paragraph and exit 2; never a traceback for a user mistake."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CourseError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--course", "course_path", type=click.Path(path_type=Path), default=None,
              help="The course.toml to use (default: the nearest one above this folder).")
@click.pass_context
def main(ctx: click.Context, course_path: Path | None) -> None:
    """Attention mechanisms and Transformers: check, grade and build the course."""
    ctx.obj = {"course_path": course_path}


def _course(ctx: click.Context):
    return load_course(ctx.obj["course_path"])


@main.command()
@click.argument("tasks", nargs=-1)
@click.option("--framework", type=FRAMEWORK_CHOICE, default=None,
              help="Track to check (default: [course] framework in course.toml).")
@click.option("--path", "submission", type=click.Path(path_type=Path), default=None,
              help="Folder with your work (default: the course's assignments/).")
@click.pass_context
@friendly
def check(ctx, tasks, framework, submission):
    """Run the public tests on your work and explain every failure.

    TASKS limits the run to some task ids (see course.toml). Exit status 0 only when
    every public test passes.
    """
    course = _course(ctx)
    for t in tasks:
        course.task(t)
    report, _ = run_grading(course, submission or course.assignments,
                            frameworks=course.resolve_frameworks(framework), mode="check",
                            tasks=set(tasks) or None)
    print_report(report, _console())
    if not tasks:
        write_atomic(course.root / STATE_DIR / "last-check.json", to_json(report))
    sys.exit(0 if report.all_passed else 1)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--framework", type=FRAMEWORK_CHOICE, default=None,
              help="Track to grade (default: [course] framework in course.toml).")
@click.option("--format", "fmt", type=click.Choice(["table", *WRITERS]), default="table",
              help="table (terminal), gradescope (results.json), junit (XML), csv or json.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the result here (default: standard output).")
@click.pass_context
@friendly
def grade(ctx, path, framework, fmt, out):
    """Grade a submission folder with the public and hidden tests.

    PATH is any folder laid out like assignments/: `course grade solutions` must give
    full marks, `course grade assignments` (the stubs) zero.
    """
    course = _course(ctx)
    report, _ = run_grading(course, path, frameworks=course.resolve_frameworks(framework), mode="grade")
    if fmt == "table":
        print_report(report, _console())
        if out:
            write_atomic(out, to_json(report))
        return
    text = WRITERS[fmt](report)
    if out:
        write_atomic(out, text)
        click.echo(f"{pts(report.score)} / {pts(report.max_score)} points written to {out}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.pass_context
@friendly
def status(ctx):
    """Which tasks pass and the points so far (from your last `course check`)."""
    course = _course(ctx)
    path = course.root / STATE_DIR / "last-check.json"
    console = _console()
    if not path.is_file():
        console.print("No check has been run yet: run `course check`.")
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    newer = [p for p in course.assignments.rglob("*.py") if p.stat().st_mtime > path.stat().st_mtime]
    console.print(f"Last check: {when} ({', '.join(data['frameworks'])})")
    for s in data["tasks"]:
        done = s["failed"] == 0 and s["passed"] > 0
        mark = "[green]pass[/green]" if done else "[red]todo[/red]"
        console.print(f"  {mark}  {s['id']:<18} {pts(s['score'])} / {pts(s['max_score'] - s['hidden_points_not_run'])}")
    console.print(f"Public points so far: {pts(data['score'])}")
    if newer:
        console.print(f"[yellow]{len(newer)} file(s) changed since then: run `course check` again.[/yellow]")


@main.command("build")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 and list the files that have drifted from solutions/.")
@click.option("--no-record", is_flag=True, help="Write the stubs only; skip recording expected values.")
@click.pass_context
@friendly
def build_cmd(ctx, check_only, no_record):
    """Generate assignments/ (stubs) and the tests' expected values from solutions/."""
    course = _course(ctx)
    result = build_mod.build(course, check=check_only, record=not no_record)
    root = course.root
    if check_only:
        if result.drifted:
            click.echo("These generated files differ from what solutions/ and the tests produce:")
            for path in result.drifted:
                click.echo(f"  {path.relative_to(root)}")
            click.echo("Run `course build` to regenerate them (never edit generated files by hand).")
            sys.exit(1)
        click.echo("Everything generated is up to date.")
        return
    for path in result.written:
        click.echo(f"wrote {path.relative_to(root)}")
    click.echo(f"Build done: {len(result.written)} file(s) changed, {result.recorded} expected value(s) recorded.")


if __name__ == "__main__":
    main()

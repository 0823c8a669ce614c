"""Terminal views of a :class:`~coursepack.reports.results.Report` (rich tables)."""

from __future__ import annotations

import time
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from coursepack.reports.results import Report


def pts(value: float) -> str:
    """Points for people: at most two decimals, no trailing zeros (5.77, 10, 0.5)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def print_report(report: Report, console: Console, *, details: bool = True) -> None:
    """Per task: points, tests passed, hidden tests not run; then each failure explained."""
    title = (f"{report.course} - {report.mode} of {report.submission} "
             f"({', '.join(report.frameworks)}; isolation: {report.isolation})")
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("task")
    table.add_column("framework")
    table.add_column("points", justify="right")
    table.add_column("public" if report.mode == "check" else "tests", justify="right")
    if report.mode == "check":
        table.add_column("hidden (not run)", justify="right")
    table.add_column("status")
    for s in report.tasks:
        total = s.passed + s.failed
        status = Text("pass", style="green") if total and not s.failed else (
            Text("not run", style="dim") if not total else Text("fail", style="red"))
        row = [f"{s.id}", s.framework, f"{pts(s.score)} / {pts(s.max_score - s.hidden_points_not_run)}",
               f"{s.passed}/{total}"]
        if report.mode == "check":
            row.append(f"{s.hidden_not_run} ({pts(s.hidden_points_not_run)} pts)" if s.hidden_not_run else "-")
        row.append(status)
        table.add_row(*row)
    console.print(table)

    if details:
        failures = [t for t in report.tests if not t.passed]
        shown = set()
        for t in failures:
            # One line per failing test; repeated "not implemented" messages collapse.
            key = (t.task, t.framework, t.message) if t.message.startswith("not implemented") else t.name
            if key in shown:
                continue
            shown.add(key)
            console.print(Text.assemble((f"  x {t.name}", "red"), f" [{t.task}] ", t.message or "failed"))
    for error in report.errors:
        console.print(Text(f"  ! {error}", style="yellow"))

    hidden = sum(s.hidden_not_run for s in report.tasks)
    hidden_pts = sum(s.hidden_points_not_run for s in report.tasks)
    earned = report.score
    if report.mode == "check":
        runnable = report.max_score - hidden_pts
        console.print(f"\nPublic tests: {pts(earned)} / {pts(runnable)} points. "
                      f"{hidden} hidden test(s) worth {pts(hidden_pts)} points run only when you are graded.")
    else:
        console.print(f"\nScore: {pts(earned)} / {pts(report.max_score)}")


SLOW_TEST_SECONDS = 1.0  # a test that took longer gets its own line while a run goes on


@contextmanager
def grading_progress(console: Console):
    """A live line while tests run: the task and test being run, how many are done, the
    time so far; each slow test leaves a line with its duration.

    Yields the ``progress`` callback of :func:`coursepack.grading.grader.grade`, or None when
    the console is not a terminal (a log or a CI job gets only the final table).
    """
    if not console.is_terminal:
        yield None
        return
    # Bound to the terminal now: grading redirects sys.stdout while pytest runs.
    console = Console(file=console.file, highlight=False, soft_wrap=True)
    view = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)
    bar = view.add_task("collecting the tests", total=None)

    def progress(event: str, info: dict) -> None:
        if event == "collected":
            view.update(bar, total=info["total"],
                        description="starting the process that runs your code (it imports the framework)")
        elif event == "start":
            view.update(bar, description=f"{info['task']} ({info['framework']}): {info['test']}")
        elif event == "done":
            view.advance(bar)
            if info["seconds"] >= SLOW_TEST_SECONDS:
                outcome = "passed" if info["passed"] else "failed"
                view.console.print(Text(f"  {info['task']}: {info['test']} {outcome} in {info['seconds']:.1f} s",
                                        style="dim"))

    with view:
        yield progress


def print_warm_note(console: Console, *, started: bool, note: str, idle: float) -> None:
    """After a ``course check``: that a check server now stays (the check that started
    it), or why none was used (``coursepack.grading.warm_checks``)."""
    if note:
        console.print(Text(f"note: the check server was not used ({note}); this check ran on its own.",
                           style="yellow"))
    elif started:
        console.print(Text(f"A check server now keeps the framework loaded, so that your next checks start at "
                           f"once; it stops after {idle / 60:g} minutes without a check "
                           f"(COURSE_WARM_CHECKS=0 turns it off).", style="dim"))


def print_status(console: Console, tasks, tracks: dict, quiz_lines: list[tuple[str, bool]]) -> None:
    """``course status``: per track, each task's latest check (``tracks`` as
    :func:`coursepack.grading.checked.tracks` gives it), then the quizzes (line, is a problem)."""
    if not tracks:
        console.print("No check has been run yet: run `course check`.")
    for fw, (folder, states) in tracks.items():
        console.print(Text(f"Track {fw} ({folder}):"))
        for task, state in zip(tasks, states):
            if state is None:
                console.print(f"  [dim]{'-':<4}  {task.id:<18} not checked yet (`course check {task.id}`)[/dim]")
                continue
            done = state.failed == 0 and state.passed > 0
            mark = "[green]pass[/green]" if done else "[red]todo[/red]"
            when = time.strftime("%m-%d %H:%M", time.localtime(state.when))
            note = f"  [yellow]changed since: `course check {task.id}`[/yellow]" if state.changed else ""
            console.print(f"  {mark}  {task.id:<18} {pts(state.score):>5} / {pts(state.public_points):<5} "
                          f"checked {when}{note}")
        done = [st for st in states if st is not None]
        console.print(f"  Public points so far: {pts(sum(st.score for st in done))} of the "
                      f"{pts(sum(st.public_points for st in done))} of the {len(done)} task(s) checked "
                      f"(of {len(states)})")
    for line, problem in quiz_lines:
        console.print(Text(line, style="red" if problem else ""))

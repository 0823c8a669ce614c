"""Grade a whole class on one machine: ``course grade SUBMISSIONS_DIR --workers N``.

A class folder holds one entry per submission: a zip made by ``course submit``
(``alice.zip``) or a folder laid out like ``assignments/`` (``bob/course_torch/...``).
The entry's name is its key in every output:

``OUT/results/<name>.json``
    the full report of that submission, written atomically as soon as it is graded,
    with a digest of what was graded;
``OUT/feedback/<name>.md``
    what the student may read: points per task, the failed tests and why;
``OUT/gradebook.csv``
    one row per graded submission (points per task, quiz points, total), rebuilt from
    the result files after every submission, so it never holds a row twice.

``N`` grader processes each keep one warm worker per framework (the framework is
imported once; every call still runs in a fresh forked child that is killed with
whatever it started, see :mod:`coursepack.judge.worker`). The grader processes die
with this one, even on ``kill -9``, and their workers with them; Ctrl-C or SIGTERM
first asks them to stop, so that they also remove their workers' folders (after a
``kill -9`` the next start removes them). ``--resume`` then grades only the entries
without a result (or whose files changed since).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import queue
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape  # submission names come from students: never rich markup
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from coursepack.course.config import Course, load_course
from coursepack.errors import CourseError
from coursepack.grading.submission import detect_framework, locate_submission
from coursepack.fileio import write_atomic
from coursepack.reports.results import to_markdown
from coursepack.judge.worker import sigterm_as_interrupt
from coursepack.grading.grader import check_course_can_grade
from coursepack.grading.grader import grade, ungraded_report
from coursepack.judge.worker import raise_keyboard_interrupt, die_with_parent, close_pool

RESULTS, FEEDBACK, GRADEBOOK = "results", "feedback", "gradebook.csv"
RESULT_VERSION = 1


@dataclass(frozen=True)
class Entry:
    """One submission of a class folder."""
    name: str     # the file or folder name without .zip: the key of every output
    path: Path


def is_class_folder(course: Course, path: Path) -> bool:
    """A folder of submissions rather than one submission (no track folder at its top)."""
    path = Path(path)
    if not path.is_dir():
        return False
    tracks = {d for fw in course.frameworks for d in course.package_dirs(fw)}
    one = [path, path / "assignments"]  # a submission, or a whole course repository
    return not any((p / d).is_dir() for p in one for d in tracks) and not (path / "manifest.json").is_file()


def find_submissions(course: Course, folder: Path) -> tuple[list[Entry], list[str]]:
    """The zips and submission folders directly inside ``folder`` (sorted by name), and
    the names of the other entries, which are not graded (to be reported)."""
    entries: dict[str, Entry] = {}
    skipped: list[str] = []
    for path in sorted(Path(folder).iterdir()):
        if path.name.startswith("."):
            continue
        name = None
        if path.is_symlink():
            pass
        elif path.is_file() and path.suffix.lower() == ".zip":
            name = path.stem
        elif path.is_dir():
            try:  # a folder like assignments/, a whole repository, or one more folder around either
                located = locate_submission(course, path)
            except CourseError:
                located = None
            if located is not None:
                name, path = path.name, located
        if name is None:
            skipped.append(path.name)
            continue
        if name in entries:
            raise CourseError(f"two submissions are named {name!r} ({entries[name].path.name} and {path.name})",
                              path=folder, fix="rename or remove one of them")
        entries[name] = Entry(name, path.resolve())
    if not entries:
        tracks = {d for fw in course.frameworks for d in course.package_dirs(fw)}
        raise CourseError("holds no submission (zips made by `course submit`, or folders with "
                          f"{' or '.join(sorted(tracks))} inside)", path=folder,
                          fix="pass the folder that holds the students' zips or folders")
    return list(entries.values()), skipped


def digest(path: Path) -> str:
    """SHA-256 of a zip, or of a folder's relative paths and file contents ("" when some
    file cannot be read: such an entry is graded again on every resume)."""
    try:
        return _digest(path)
    except OSError:
        return ""


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = file.relative_to(path)
        if "__pycache__" in rel.parts:
            continue
        h.update(str(rel).encode() + b"\0")
        h.update(hashlib.sha256(file.read_bytes()).digest())
    return h.hexdigest()


# -- one grader process ---------------------------------------------------------------

_state: dict = {}


def _grader_main(course_path: str, parent: int, jobs, events, options: dict) -> None:
    """A grader process: take entries from ``jobs`` until ``None``, report on ``events``."""
    die_with_parent()
    if os.getppid() != parent:  # the parent died before we asked to die with it
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: no half-graded entry
    # The parent stops us with SIGTERM: the entry being graded gets no result, and the
    # workers are closed (their processes killed, their folders removed) on the way out.
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    pool: dict = {}
    try:
        course = load_course(Path(course_path))
        while True:
            job = jobs.get()
            if job is None:
                break
            entry = Entry(job["name"], Path(job["path"]))
            events.put(("start", entry.name, os.getpid()))
            summary = grade_entry(course, entry, Path(options["out"]), options, pool)
            events.put(("done", entry.name, summary))
    except KeyboardInterrupt:
        pass
    finally:
        close_pool(pool)


def grade_entry(course: Course, entry: Entry, out: Path, options: dict, pool: dict) -> dict:
    """Grade one entry, write its result and feedback atomically, return a summary."""
    began = time.monotonic()
    frameworks = tuple(options["frameworks"]) if options.get("frameworks") else None
    selection = set(options["tasks"]) if options.get("tasks") else None
    identities = options.get("identities")  # submission name -> [student, source], from a class roster
    who = identities.get(entry.name) if identities else None
    record = {"version": RESULT_VERSION, "entry": entry.name, "path": str(entry.path),
              "digest": digest(entry.path), "selection": _selection(options), "complete": True}
    try:
        if frameworks is None:
            frameworks = (detect_framework(course, entry.path),)
        report, _ = grade(course, entry.path, frameworks=frameworks, mode="grade", tasks=selection,
                          hide=[Path(options["folder"]), Path(options["out"])], pool=pool,
                          student=who[0] if who else None, identity_source=who[1] if who else None)
    except CourseError as exc:  # an ungradable submission still gets a row, with the reason
        report = ungraded_report(course, entry.path, [str(exc)], frameworks, selection)
    except Exception as exc:  # noqa: BLE001 - one bad submission must not stop the class
        record["complete"] = False  # graded again by --resume
        report = ungraded_report(course, entry.path,
                                 [f"internal error while grading ({type(exc).__name__}: {exc}); "
                                  "run again with --resume, and report it if it persists"], frameworks, selection)
    report.seconds = round(time.monotonic() - began, 2)
    if who:
        report.student, report.identity_source = who
    elif identities is not None:
        report.errors.append(f"{entry.name} is not in the class roster: whose quiz was graded is only declared "
                             "by the submission")
    record["report"] = report.to_dict()
    write_atomic(out / FEEDBACK / f"{entry.name}.md", to_markdown(report, title=entry.name))
    write_atomic(out / RESULTS / f"{entry.name}.json", json.dumps(record, indent=2) + "\n")
    return {"score": report.score, "max_score": report.max_score, "seconds": report.seconds,
            "errors": len(report.errors)}


def _selection(options: dict) -> dict:
    selection = {"frameworks": sorted(options.get("frameworks") or []), "tasks": sorted(options.get("tasks") or [])}
    if options.get("identities") is not None:  # another roster means other quiz grades
        selection["roster"] = hashlib.sha256(json.dumps(options["identities"], sort_keys=True).encode()).hexdigest()
    return selection


# -- the class ------------------------------------------------------------------------

def read_result(out: Path, entry: Entry) -> dict | None:
    """The stored result of ``entry``, or None when missing or unreadable."""
    path = out / RESULTS / f"{entry.name}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("version") != RESULT_VERSION or "report" not in record:
        return None
    return record


def pending(out: Path, entries: list[Entry], options: dict) -> list[Entry]:
    """Entries without a stored result for these options and these files."""
    todo = []
    for entry in entries:
        record = read_result(out, entry)
        if (record is None or not record.get("complete", True) or record.get("selection") != _selection(options)
                or not record.get("digest") or record.get("digest") != digest(entry.path)):
            todo.append(entry)
    return todo


def grade_class(course: Course, folder: Path, out: Path, *, workers: int = 1, frameworks: tuple[str, ...] | None = None,
                tasks: set[str] | None = None, resume: bool = False, console=None,
                identities: dict[str, tuple[str, str]] | None = None) -> Path:
    """Grade every submission of ``folder`` into ``out``; returns the gradebook path.

    ``identities`` (submission name -> (student id, where it came from), see
    :func:`coursepack.integrations.lms.roster.identities`) says whose quiz draw each submission is graded for."""

    folder, out = Path(folder).resolve(), Path(out).resolve()
    if workers < 1:
        raise CourseError(f"--workers must be at least 1, not {workers}", fix="pass --workers 1 or more")
    if folder == out or folder in out.parents:
        raise CourseError("the output folder is inside the class folder", path=out,
                          fix="choose --out outside the folder of submissions")
    entries, skipped = find_submissions(course, folder)

    check_course_can_grade(course, frameworks or course.frameworks, "grade")  # before any grade is written
    options = {"out": str(out), "folder": str(folder), "frameworks": list(frameworks or []),
               "tasks": sorted(tasks or [])}
    if identities is not None:
        options["identities"] = {name: list(who) for name, who in identities.items()}
    stored = {e.name: read_result(out, e) for e in entries}
    done_before = [name for name, record in stored.items() if record is not None]
    if done_before and not resume:
        raise CourseError(f"already holds the results of {len(done_before)} submission(s)", path=out / RESULTS,
                          fix="pass --resume to grade only what has no result, or choose another --out")
    other = sorted({json.dumps(r.get("selection")) for r in stored.values() if r} - {json.dumps(_selection(options))})
    if other:
        raise CourseError(f"holds results graded with other options ({', '.join(other)}); resuming would "
                          "replace them", path=out / RESULTS,
                          fix="resume with the same --task/--framework options, or choose another --out")
    todo = pending(out, entries, options)
    if console is not None:
        for name in skipped:
            console.print(f"[yellow]{escape(name)}: not a submission (no zip, no track folder inside); "
                          "not graded[/yellow]")
        if resume:
            console.print(f"{len(entries) - len(todo)} of {len(entries)} submission(s) already graded; "
                          f"grading {len(todo)}.")
    write_gradebook(course, out, entries)
    if todo:
        _run(course, todo, entries, out, options, min(workers, len(todo)), console,
             Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                      console=console, disable=console is None))
    return write_gradebook(course, out, entries)


def _run(course: Course, todo: list[Entry], entries: list[Entry], out: Path, options: dict, workers: int,
         console, progress) -> None:
    context = multiprocessing.get_context("spawn")
    jobs, events = context.Queue(), context.Queue()
    for entry in todo:
        jobs.put({"name": entry.name, "path": str(entry.path)})
    for _ in range(workers):
        jobs.put(None)
    procs = [context.Process(target=_grader_main, args=(str(course.path), os.getpid(), jobs, events, options),
                             daemon=True) for _ in range(workers)]
    running: dict[int, str] = {}
    finished = 0
    with progress, sigterm_as_interrupt():
        bar = progress.add_task("grading", total=len(todo))
        try:
            for proc in procs:
                proc.start()
        except KeyboardInterrupt:
            _stop(procs)
            raise
        while finished < len(todo):
            try:
                event = events.get(timeout=1.0)
            except KeyboardInterrupt:
                _stop(procs)
                raise CourseError(f"interrupted after {finished} of {len(todo)} submission(s); their results "
                                  "are saved", path=out, fix="run the same command with --resume to grade the rest")
            except queue.Empty:
                lost = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
                if lost or all(not p.is_alive() for p in procs):
                    _stop(procs)
                    names = [running.get(p.pid) for p in lost if running.get(p.pid)]
                    raise CourseError(
                        f"a grader process stopped unexpectedly (exit {lost[0].exitcode if lost else 0})"
                        + (f" while grading {', '.join(names)}" if names else ""), path=out,
                        fix="run the same command with --resume to grade what is left")
                continue
            kind, name = event[0], event[1]
            if kind == "start":
                running[event[2]] = name
                continue
            finished += 1
            summary = event[2]
            write_gradebook(course, out, entries)
            if console is not None:
                flag = f"  [yellow]{summary['errors']} note(s)[/yellow]" if summary["errors"] else ""
                progress.console.print(f"{escape(name)}: {summary['score']:g} / {summary['max_score']:g} "
                                       f"({summary['seconds']:.1f} s){flag}")
            progress.advance(bar)
    for proc in procs:
        proc.join(timeout=30)


def _stop(procs, grace: float = 10.0) -> None:
    """Stop the grader processes: SIGTERM lets each close its workers (killing what student
    code started, removing their folders); one still alive after ``grace`` s is killed (its
    workers then end by themselves, see :mod:`coursepack.judge.worker`)."""
    procs = [proc for proc in procs if proc.pid is not None]  # started
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()


def gradebook_rows(course: Course, out: Path, entries: list[Entry]) -> tuple[list[str], list[list]]:
    """Header and one row per entry that has a result (sorted by name)."""
    quiz_ids = [f"quiz-{k}" for k in course.quizzes]
    header = ["submission", "declared_student", "student", "identity_source", "frameworks", *[t.id for t in course.tasks], *quiz_ids,
              "total", "max_total", "isolation", "notes"]
    rows = []
    for entry in sorted(entries, key=lambda e: e.name):
        record = read_result(out, entry)
        if record is None:
            continue
        report = record["report"]
        points: dict[str, float] = {}
        for summary in report["tasks"]:
            points[summary["id"]] = points.get(summary["id"], 0.0) + summary["score"]
        rows.append([_text(entry.name), _text(report.get("declared_student") or ""), _text(report.get("student") or ""),
                     _text(report.get("identity_source") or ""), "+".join(report["frameworks"]),
                     *[_cell(points.get(i)) for i in [t.id for t in course.tasks] + quiz_ids],
                     _cell(report["score"]), _cell(report["max_score"]), report.get("isolation", ""),
                     _text(" | ".join(report["errors"])[:500])])
    return header, rows


def _text(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (names and notes come from students)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _cell(value) -> str:
    return "" if value is None else f"{round(value, 4):g}"


def write_gradebook(course: Course, out: Path, entries: list[Entry]) -> Path:
    """(Re)write ``OUT/gradebook.csv`` from the result files: one row per submission."""
    path = out / GRADEBOOK
    header, rows = gradebook_rows(course, out, entries)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(path, buf.getvalue())
    return path

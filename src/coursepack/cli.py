"""The ``course`` command: a thin layer over the library.

Every command loads ``course.toml`` (the nearest one above the working directory, or
``--course PATH``), turns user mistakes into one-paragraph messages (exit status 2) and
leaves the work to the library (see docs/ARCHITECTURE.md for its layers).

Commands import their library modules inside their own function (marked ``# lazy:
start-up``): importing every command's modules up front costs about 5 s against well
under a second for this module alone, and ``course --help`` or ``course check`` should
not wait for nbgrader, matplotlib, pytest or the grader. A check that a warm check
server answers (grading/warm_checks.py) never imports the grader in this process.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from coursepack.grading import checked
from coursepack.course.config import KNOWN_FRAMEWORKS, LANGS, load_course
from coursepack.errors import CourseError
from coursepack.grading import warm_checks
from coursepack.reports.render import grading_progress, print_report, print_status, print_warm_note, pts
from coursepack.fileio import write_atomic
from coursepack.integrations.lms.gradebook import LMS
from coursepack.integrations.lms.identity import GRADESCOPE_FIELDS
from coursepack.plots import KINDS as PLOT_KINDS
from coursepack.reports.results import HIDDEN_CHOICES, WRITERS, to_json
from coursepack.student import default_lang, student_id

FORMATS = [*WRITERS, "junit"]  # --format of `course grade`

FRAMEWORK_CHOICE = click.Choice([*KNOWN_FRAMEWORKS, "all"])


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
@click.option("--summary", type=click.Path(path_type=Path), default=None,
              help="Also append the results as Markdown to this file (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--progress-only", is_flag=True,
              help="Exit 0 whenever the tests ran, whatever they found (CI reporting progress); "
                   "non-zero only when the check cannot run.")
@click.pass_context
@friendly
def check(ctx, tasks, framework, submission, summary, progress_only):
    """Run the public tests on your work and explain every failure.

    TASKS limits the run to some task ids (see course.toml). Exit status 0 only when
    every public test passes (with --progress-only: whenever the tests ran).
    """
    course = _course(ctx)
    for t in tasks:
        course.task(t)
    folder = submission or course.assignments
    frameworks = course.resolve_frameworks(framework)
    digests = checked.snapshot(course, folder, frameworks)  # what is checked: the files as they are now
    console = _console()
    with grading_progress(console) as progress:
        outcome = warm_checks.check(course, folder, frameworks=frameworks, tasks=set(tasks) or None,
                                    progress=progress)
    report = outcome.report
    print_report(report, console)
    print_warm_note(console, started=outcome.started, note=outcome.note, idle=warm_checks.idle_seconds())
    problem = checked.record(course, report, folder, digests)
    if problem:
        console.print(Text(f"note: {problem}", style="yellow"))
    if summary is not None:
        from coursepack.reports.results import to_markdown  # lazy: start-up

        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(to_markdown(report, title="public tests") + "\n")
    sys.exit(0 if report.all_passed or (progress_only and report.tests) else 1)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--framework", type=FRAMEWORK_CHOICE, default=None,
              help="Track to grade (default: the track a submission's manifest names, "
                   "else [course] framework in course.toml).")
@click.option("--format", "fmt", type=click.Choice(["table", *FORMATS]), default=None,
              help="One submission: table (terminal), gradescope (results.json), junit (XML), csv, "
                   "json or markdown (student feedback).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="One submission: write the result here (default: standard output). "
                   "A class: the folder for results/, feedback/ and gradebook.csv "
                   "(default: PATH-grades beside PATH).")
@click.option("--student", default=None,
              help="Who submitted; quiz answers drawn for anyone else score 0.")
@click.option("--task", "tasks", multiple=True, metavar="ID",
              help="Grade only this task (repeatable; quiz-pre / quiz-post for the quizzes).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="A class: submissions graded in parallel (one warm worker per framework each).")
@click.option("--resume", is_flag=True,
              help="A class: keep the results already in --out; grade only what has none.")
@click.option("--roster", type=click.Path(path_type=Path), default=None,
              help="A class: the roster CSV (from the LMS) mapping submission names to student ids; "
                   "quizzes are graded for those ids, the manifests' ids are only a cross-check.")
@click.option("--gradebook", "lms", type=click.Choice(LMS), default=None,
              help="A class with --roster: also write OUT/gradebook-canvas.csv or gradebook-moodle.csv, "
                   "with exactly the columns that LMS imports.")
@click.option("--gradebook-columns", type=click.Choice(["tasks", "total"]), default="tasks", show_default=True,
              help="--gradebook: one column per task and quiz, or the total alone.")
@click.option("--feedback", type=click.Choice(["html"]), default=None,
              help="A class: also write OUT/feedback/NAME.html per student, the page `course report` makes "
                   "(checks, what to fix, plots of their own model; one file to hand back). Made after the "
                   "grades, one student at a time: the public tests again and four plots cost 30-65 s "
                   "per student (measured on two shared cores), so the class takes about twice as long.")
@click.pass_context
@friendly
def grade(ctx, path, framework, fmt, out, student, tasks, workers, resume, roster, lms, gradebook_columns,
          feedback):
    """Grade one submission, or a whole class, with the public and hidden tests.

    PATH is a submission (a folder laid out like assignments/, or a zip made by
    `course submit`) or a class folder holding one zip or folder per student.

    \b
    course grade solutions                      full marks (the reference)
    course grade alice.zip --format gradescope --out results.json
    course grade class/ --workers 2             results/, feedback/, gradebook.csv
    course grade class/ --workers 2 --resume    after an interruption
    course grade class/ --feedback html         also one HTML page per student
    """
    from coursepack.grading.batch import is_class_folder  # lazy: start-up

    course = _course(ctx)
    for t in tasks:
        if not t.startswith("quiz-"):
            course.task(t)
    if (roster is not None or lms is not None) and not is_class_folder(course, path):
        raise CourseError("--roster and --gradebook apply to a class folder; one submission takes --student", path=path,
                          fix="pass the class folder, or --student ID")
    if feedback is not None and not is_class_folder(course, path):
        raise CourseError("--feedback html applies to a class folder", path=path,
                          fix="for one submission, run `course report --path FOLDER --out PAGE.html`")
    if is_class_folder(course, path):
        _grade_class(course, path, framework, fmt, out, student, tasks, workers, resume, roster, lms, gradebook_columns)
        if feedback == "html":
            _feedback_pages(course, path, framework, out, set(tasks) or None, resume)
    else:
        _grade_one(course, path, framework, fmt, out, student, tasks)


def _grade_class(course, path, framework, fmt, out, student, tasks, workers, resume, roster, lms, gradebook_columns):
    from coursepack.grading.batch import grade_class  # lazy: start-up
    from coursepack.integrations.lms.roster import identities, load_roster  # lazy: start-up

    if fmt is not None or student is not None:
        raise CourseError("--format and --student apply to one submission; a class is graded into "
                          "--out FOLDER (results/, feedback/, gradebook.csv)", path=path,
                          fix="drop --format/--student, or pass one submission")
    frameworks = course.resolve_frameworks(framework) if framework else None
    out = _class_out(path, out)
    console = _console()
    if lms and not roster:
        raise CourseError(f"--gradebook {lms} needs the class roster, which says who each submission is",
                          path=path, fix=f"pass --roster ROSTER.csv (exported from {lms.capitalize()}, with a "
                                         "submission column)")
    class_roster = load_roster(roster) if roster else None
    gradebook = grade_class(course, path, out, workers=workers, frameworks=frameworks,
                            tasks=set(tasks) or None, resume=resume, console=console,
                            identities=identities(class_roster) if class_roster else None)
    console.print(Text(f"Gradebook: {gradebook}  (results in {out / 'results'}, feedback in {out / 'feedback'})"))
    if lms:
        from coursepack.integrations.lms.gradebook import class_results, write_lms_gradebook  # lazy: start-up

        written = write_lms_gradebook(course, class_roster, class_results(out), out / f"gradebook-{lms}.csv",
                                      lms, gradebook_columns)
        console.print(Text(f"{lms.capitalize()} gradebook: {written}  (import steps: README, 'Gradebooks for an LMS')"))


def _class_out(path: Path, out: Path | None) -> Path:
    """Where a class's grades go: ``--out``, else ``CLASS-grades`` beside the class folder."""
    return out or path.resolve().parent / f"{path.resolve().name}-grades"


def _feedback_pages(course, path, framework, out, tasks, resume):
    from coursepack.integrations.feedback import write_feedback_pages  # lazy: start-up (matplotlib)

    out = _class_out(path, out)
    console = _console()

    def said(page):
        if page.problem:
            console.print(Text(f"{page.name}: no feedback page: {page.problem}", style="yellow"))
        elif not page.kept:
            console.print(Text(f"{page.name}: feedback page {page.path} ({page.seconds:.1f} s)"))

    pages = write_feedback_pages(course, path, out, frameworks=course.resolve_frameworks(framework) if framework
                                 else None, tasks=tasks, resume=resume, on_page=said)
    written = sum(1 for page in pages if page.path)
    console.print(Text(f"Feedback pages: {written} of {len(pages)} in {out / 'feedback'} (NAME.html, one file each, "
                       "pictures inside)"))


def _grade_one(course, path, framework, fmt, out, student, tasks):
    if framework is None:  # the same choice as for a class: manifest, else the track worked on
        from coursepack.grading.submission import detect_framework  # lazy: start-up

        framework = detect_framework(course, path) if path.exists() else None
    from coursepack.grading.grader import grade as run_grading  # lazy: start-up

    fmt = fmt or "table"
    with grading_progress(_console()) if fmt == "table" else contextlib.nullcontext() as progress:
        report, _ = run_grading(course, path, frameworks=course.resolve_frameworks(framework), mode="grade",
                                student=student, identity_source="the grader (--student)" if student else None,
                                tasks=set(tasks) or None, progress=progress)
    if fmt == "table":
        print_report(report, _console())
        if out:
            write_atomic(out, to_json(report))
        return
    if fmt == "junit":
        from coursepack.integrations.lms.junit import to_junit  # lazy: start-up

        text = to_junit(report)
    else:
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
    """Which tasks pass and the points so far (the latest `course check` of each task)."""
    from coursepack.quiz.progress import quiz_status  # lazy: start-up

    course = _course(ctx)
    print_status(_console(), course.tasks, checked.tracks(course), quiz_status(course))


@main.command()
@click.option("--framework", type=click.Choice(KNOWN_FRAMEWORKS), default=None,
              help="The track you worked in (default: [course] framework, or the notebook's).")
@click.option("--student", default=None, help="Your student id (default: COURSE_STUDENT, git user.email, login).")
@click.option("--notebook", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="You worked in a notebook (notebooks/<name>_<track>.ipynb): submit its answer cells.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The zip to write (default: submission-<framework>.zip in the course folder).")
@click.pass_context
@friendly
def submit(ctx, framework, student, notebook, out):
    """Zip your work with a manifest (files and their SHA-256, framework, versions, time)."""
    from coursepack.notebooks.submit import submit as make_zip  # lazy: start-up

    student = student_id(student)
    path, framework, warnings = make_zip(_course(ctx), framework=framework, student=student, out=out,
                                         notebook=notebook)
    for warning in warnings:
        click.secho(f"note: {warning}", fg="yellow", err=True)
    click.echo(f"wrote {path} ({framework} track, student {student}): hand in this file")


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.pass_context
@friendly
def release(ctx, out):
    """Write the student release into OUT (a folder) and OUT.zip, and scan it for leaks."""
    from coursepack.authoring.release import make_release  # lazy: start-up

    course = _course(ctx)
    folder, archive = make_release(course, out)
    click.echo(f"wrote {folder} and {archive}; scanned: no solution, hidden test or post-quiz key inside")


@main.command()
@click.argument("kind", type=click.Choice([*PLOT_KINDS, "all"]))
@click.option("--framework", type=FRAMEWORK_CHOICE, default=None,
              help="Track to plot (default: [course] framework in course.toml).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("plots"), show_default=True,
              help="Folder for the PNG files (one subfolder per track).")
@click.option("--path", "submission", type=click.Path(path_type=Path), default=None,
              help="Folder with your work (default: the course's assignments/).")
@click.option("--checkpoint", type=click.Choice(["student", "reference"]), default="student", show_default=True,
              help="attention: your pretrained weights, or the course's reference weights in your MiniBert.")
@click.pass_context
@friendly
def plot(ctx, kind, framework, out, submission, checkpoint):
    """Draw what your own code computes: alignment, attention, positions, pretraining.

    Your modules run in the sandboxed worker as in `course check`; the pictures are
    PNG files, with a short summary (and a heat map when this is a terminal).
    """
    from coursepack.plots.run import make_plots, show  # lazy: start-up

    course = _course(ctx)
    console = _console()
    kinds = PLOT_KINDS if kind == "all" else (kind,)
    for fw in course.resolve_frameworks(framework):
        make_plots(course, submission or course.assignments, fw, kinds, out, checkpoint,
                   on_done=lambda item: show(item, console, heat_maps=console.is_terminal))


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("report.html"), show_default=True,
              help="The HTML file to write (one file, the pictures inside).")
@click.option("--framework", type=FRAMEWORK_CHOICE, default=None,
              help="Track to report on (default: [course] framework in course.toml).")
@click.option("--path", "submission", type=click.Path(path_type=Path), default=None,
              help="Folder with your work (default: the course's assignments/).")
@click.pass_context
@friendly
def report(ctx, out, framework, submission):
    """One HTML page to open in a browser: your checks, what to fix, and the plots."""
    from coursepack.plots.report import write_report  # lazy: start-up

    course = _course(ctx)
    console = _console()
    with grading_progress(console) as progress:
        result = write_report(course, submission or course.assignments, course.resolve_frameworks(framework), out,
                              progress=progress)
    console.print(Text(f"{pts(result.score)} / {pts(result.max_score)} points from the public tests; "
                       f"report written to {out}"))


@main.command("build")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 and list the files that have drifted from solutions/.")
@click.option("--no-record", is_flag=True, help="Write the stubs only; skip recording expected values.")
@click.pass_context
@friendly
def build_cmd(ctx, check_only, no_record):
    """Generate assignments/ (stubs) and the tests' expected values from solutions/."""
    course = _course(ctx)
    from coursepack.authoring.build import build  # lazy: start-up

    result = build(course, check=check_only, record=not no_record)
    root = course.root
    if check_only:
        if result.drifted:
            click.echo("These generated files are out of date: stubs that differ from what solutions/ gives, or "
                       "expected values recorded from an older version of solutions/ or of the tests (any edit, "
                       "a docstring too, makes a recording stale):")
            for path in result.drifted:
                click.echo(f"  {path.relative_to(root)}")
            click.echo("Run `course build` to regenerate them (never edit generated files by hand).")
            sys.exit(1)
        click.echo("Everything generated is up to date.")
        return
    for path in result.written:
        click.echo(f"wrote {path.relative_to(root)}")
    if result.mistakes is not None:
        for line in result.mistakes.lines():
            click.echo(line)
    click.echo(f"Build done: {len(result.written)} file(s) changed, {result.recorded} expected value(s) recorded.")


# -- grading in CI ---------------------------------------------------------------------

@main.group()
def autograder():
    """Grading in CI, one job per submission: Gradescope and GitHub Actions."""


HIDDEN_OPTION = click.option(
    "--hidden", type=click.Choice(HIDDEN_CHOICES),
    default="name-and-points", show_default=True,
    help="What students see of a hidden test on Gradescope: its name and points only, or "
         "everything from the due date / publication on, or nothing.")


ID_FIELD_OPTION = click.option(
    "--id-field", type=click.Choice(GRADESCOPE_FIELDS), default="email", show_default=True,
    help="The attribute of Gradescope's submitting user that students take the quizzes with (`--student`).")


@autograder.command("gradescope")
@click.argument("out", type=click.Path(path_type=Path))
@HIDDEN_OPTION
@ID_FIELD_OPTION
@click.pass_context
@friendly
def autograder_gradescope(ctx, out, hidden, id_field):
    """Write Gradescope's autograder zip OUT (setup.sh, run_autograder, the course without solutions)."""
    from coursepack.integrations.gradescope import build_gradescope  # lazy: start-up

    path = build_gradescope(_course(ctx.find_root()), out, hidden=hidden, id_field=id_field)
    click.echo(f"wrote {path}: upload it as the assignment's autograder (Ubuntu base image)")


@autograder.command("run")
@click.argument("submission", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["gradescope", "junit", "json"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The result file to write.")
@click.option("--summary", type=click.Path(path_type=Path), default=None,
              help="Also append a Markdown table to this file (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--framework", type=FRAMEWORK_CHOICE, default=None,
              help="Track to grade (default: the manifest's, else the track that was worked on).")
@click.option("--label", default=None, help="Name of the submission in the results (e.g. the student's repository).")
@click.option("--student", default=None,
              help="Who submitted, as the platform says (e.g. the roster line's id); quiz answers drawn for "
                   "anyone else score 0, and so do the quizzes of a manifest that names someone else.")
@click.option("--identity-source", default=None, metavar="TEXT",
              help="Where --student comes from, recorded in the result (e.g. 'roster.txt line 4').")
@click.option("--gradescope-metadata", type=click.Path(path_type=Path), default=None,
              help="Gradescope's submission_metadata.json: the submitter is its user (when the file exists).")
@ID_FIELD_OPTION
@HIDDEN_OPTION
@click.pass_context
@friendly
def autograder_run(ctx, submission, fmt, out, summary, framework, label, student, identity_source,
                   gradescope_metadata, id_field, hidden):
    """Grade what a CI job was handed in SUBMISSION; always writes --out.

    SUBMISSION may be a folder laid out like assignments/, a course repository, or a
    folder holding the zip `course submit` wrote. Exit status 0 whenever a result was
    written (the points are in the file).
    """
    from coursepack.integrations.ci import grade_one, write_outputs  # lazy: start-up
    from coursepack.integrations.lms.identity import from_gradescope, given  # lazy: start-up

    identity = given(student, identity_source)
    if identity is None and gradescope_metadata is not None:
        identity = from_gradescope(gradescope_metadata, id_field)
    report = grade_one(_course(ctx.find_root()), submission, framework=framework, identity=identity)
    if label:
        report.submission = label
    write_outputs(report, fmt=fmt, out=out, hidden=hidden, summary=summary)
    click.echo(f"{pts(report.score)} / {pts(report.max_score)} points written to {out}", err=True)


@autograder.command("github")
@click.argument("out", type=click.Path(path_type=Path), required=False)
@click.option("--max-repos", type=int, default=1024, show_default=True,
              help="The largest class the workflow grades in one run (256 repositories per grading job).")
@click.pass_context
@friendly
def autograder_github(ctx, out, max_repos):
    """Write the instructors' GitHub Actions workflow that grades student repositories.

    OUT is the instructor's repository (default: the course folder); the workflow goes
    to OUT/.github/workflows/grade-submissions.yml, with a roster.txt to fill in
    (`owner/name student-id` per line).
    """
    from coursepack.integrations.github import write_github_workflow  # lazy: start-up

    course = _course(ctx.find_root())
    for path in write_github_workflow(course, out or course.root, max_repos):
        click.echo(f"wrote {path}")


# -- nbgrader ----------------------------------------------------------------------------

@main.group("nbgrader")
def nbgrader_group():
    """The nbgrader course generated from this one (notebooks graded by the judge).

    \b
    course nbgrader build [DIR]          write DIR (default: nbgrader/ in the course)
    then nbgrader's own commands, run in DIR:
      nbgrader generate_assignment attention
      nbgrader autograde attention
      nbgrader generate_feedback attention
      nbgrader export
    """


@nbgrader_group.command("build")
@click.argument("out", type=click.Path(path_type=Path), required=False)
@click.option("--framework", type=FRAMEWORK_CHOICE, default="all", show_default=True,
              help="Notebooks to make: one per framework.")
@click.pass_context
@friendly
def nbgrader_build(ctx, out, framework):
    """Write (or refresh) the nbgrader course: config, source notebooks, gradebook."""
    from coursepack.integrations.nbgrader_build import build_nbgrader  # lazy: start-up

    course = _course(ctx.find_root())
    out = out or course.root / "nbgrader"
    written = build_nbgrader(course, out, course.resolve_frameworks(framework))
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"Next, in {out}: nbgrader generate_assignment {course.nbgrader.assignment}")


# -- quizzes ---------------------------------------------------------------------------

@main.group()
def quiz():
    """Pre- and post-lecture quizzes.

    \b
    Take a quiz (progress is saved after every answer; run it again to resume):
      course quiz pre               in the terminal: arrow keys or numbers, q to pause
      course quiz pre --sheet F     write your questions to the file F to fill in
      course quiz pre --answers F   answer from F instead of interactively
    Your student id (--student, else COURSE_STUDENT, else git user.email) draws your
    questions; `course submit` must use the same one.
    """


def _quiz_command(kind: str, help_text: str):
    @quiz.command(kind, help=help_text)
    @click.option("--lang", type=click.Choice(LANGS), default=None, help="Language (default: from the locale).")
    @click.option("--sheet", "sheet_file", type=click.Path(path_type=Path), default=None,
                  help="Write your questions (ids, options, answers so far) to this JSON file, to fill in "
                       "and pass to --answers.")
    @click.option("--answers", "answers_file", type=click.Path(path_type=Path), default=None,
                  help="Answer from a JSON file (a filled-in --sheet, or {question id: answer}).")
    @click.option("--student", default=None, help="Your student id (default: COURSE_STUDENT, git user.email, login).")
    @click.option("--path", "work", type=click.Path(path_type=Path), default=None,
                  help="Your work folder (default: the course's assignments/); answers are saved in it.")
    @click.pass_context
    @friendly
    def take(ctx, lang, sheet_file, answers_file, student, work):
        take_quiz(ctx, kind, lang, sheet_file, answers_file, student, work)
    return take


def take_quiz(ctx, kind, lang, sheet_file, answers_file, student, work):
    """Take the pre- or post-lecture quiz; progress is saved after every answer."""
    from coursepack.quiz.session import open_quiz, write_sheet  # lazy: start-up
    from coursepack.quiz.terminal import answer_from_file, run_interactive  # lazy: start-up

    run = open_quiz(_course(ctx.find_root()), kind, student=student_id(student), lang=lang, work=work,
                    sheet=sheet_file, answers=answers_file, interactive=sys.stdin.isatty(),
                    default_lang=default_lang())
    console = _console()
    if sheet_file:
        write_sheet(run, sheet_file)
        console.print(Text(f"Your {len(run.progress.questions)} questions are in {sheet_file} (student "
                           f"{run.progress.student}): fill in each \"answer\", then run "
                           f"`course quiz {kind} --answers {sheet_file}`."))
    elif answers_file:
        answer_from_file(run.bank, run.progress, run.path, answers_file, console, feedback=run.feedback)
    else:
        run_interactive(run.bank, run.progress, run.path, console, feedback=run.feedback)


_quiz_command("pre", "Take the pre-lecture quiz: each answer is checked at once (no points).")
_quiz_command("post", "Take the post-lecture quiz: answers are saved and graded with the hidden tests.")


@quiz.command("validate")
@click.pass_context
@friendly
def validate_quiz(ctx):
    """Check the banks: schema, answers in range, both languages, curriculum coverage."""
    from coursepack.quiz.bank import course_bank, coverage_problems  # lazy: start-up

    course = _course(ctx.find_root())
    problems = []
    for kind, config in course.quizzes.items():
        bank = course_bank(course, kind)
        if not bank.has_answers:
            problems.append(f"{config.bank}: some questions have no answer")
        if len(bank.questions) < config.draw:
            problems.append(f"{config.bank}: {len(bank.questions)} questions, fewer than draw = {config.draw}")
        problems += coverage_problems(bank)
        click.echo(f"{config.bank.relative_to(course.root)}: quiz {bank.id}, {len(bank.questions)} questions, "
                   f"{config.draw} drawn per student")
    if problems:
        for problem in problems:
            click.echo(f"  ! {problem}", err=True)
        sys.exit(1)
    click.echo("All quiz banks are valid.")


@quiz.command("publish")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the student copies.")
@click.pass_context
@friendly
def publish_quiz(ctx, out):
    """Write the students' copies of the banks: no readable answers or explanations."""
    from coursepack.quiz.bank import course_bank  # lazy: start-up
    from coursepack.quiz.publish import student_copy  # lazy: start-up

    course = _course(ctx.find_root())
    for kind, config in course.quizzes.items():
        bank = course_bank(course, kind)
        if not bank.has_answers:
            raise CourseError("publishing needs the instructor's bank with answers", path=bank.path,
                              fix="run this in the instructor's copy of the course")
        target = Path(out) / f"{kind}.json"
        write_atomic(target, student_copy(bank, feedback=config.feedback == "immediate"))
        click.echo(f"wrote {target} ({'hashed answers' if config.feedback == 'immediate' else 'no answers'})")


@quiz.command("export")
@click.option("--format", "fmt", type=click.Choice(["quiz-app", "gift"]), required=True)
@click.option("--lang", type=click.Choice(LANGS), default="en")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="File to write (default: stdout).")
@click.option("--questions", default=None, metavar="N|all",
              help="quiz-app: questions per quiz (default 3, what the app as shipped shows; all for an app "
                   "that counts them).")
@click.option("--app-dir", type=click.Path(path_type=Path), default=None,
              help="quiz-app: write both languages into this checkout of the quiz app and wire zh in.")
@click.pass_context
@friendly
def export_quiz(ctx, fmt, lang, out, questions, app_dir):
    """Export both banks: the curriculum quiz app's JSON or Moodle GIFT."""
    from coursepack.quiz.appdir import install  # lazy: start-up
    from coursepack.quiz.bank import course_bank  # lazy: start-up
    from coursepack.quiz.export import to_gift  # lazy: start-up
    from coursepack.quiz.quizapp import parse_questions, to_quiz_app  # lazy: start-up

    course = _course(ctx.find_root())
    banks = [course_bank(course, kind) for kind in course.quizzes]
    for bank in banks:
        if not bank.has_answers:
            raise CourseError("exports need the instructor's bank with answers", path=bank.path,
                              fix="run this in the instructor's copy of the course")
    if fmt == "gift" and (questions or app_dir):
        raise CourseError("--questions and --app-dir are for the quiz app; GIFT holds every question",
                          fix="leave them out, or use --format quiz-app")
    if app_dir and out:
        raise CourseError("--app-dir writes into the app, --out writes one file: use one at a time",
                          path=out, fix="leave out --out (or --app-dir)")
    if fmt == "quiz-app":
        count = parse_questions(questions)
        if app_dir:
            changed = install(app_dir, {lang: to_quiz_app(banks, lang, count, title=course.lesson.quiz_app_title[lang])
                                         for lang in LANGS}, lesson=course.lesson.number)
            for path in changed:
                click.echo(f"wrote {path}", err=True)
            click.echo(f"{app_dir}: {len(changed)} file(s) changed" if changed else f"{app_dir}: up to date", err=True)
            return
        text = to_quiz_app(banks, lang, count, title=course.lesson.quiz_app_title[lang])
    else:
        text = to_gift(banks, lang)
    if out:
        write_atomic(out, text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":
    main()

"""Grading in CI, one job per submission: a Gradescope bundle and a GitHub Actions workflow.

Both run the same thing, :func:`grade_one`: find the submission in whatever layout the
platform hands over, grade it with :func:`coursepack.grading.grade`, and always write a
result file, even when the submission cannot be graded (then with 0 points and the
reason), because a platform that finds no result shows the student nothing useful.

:func:`build_gradescope` writes the autograder zip Gradescope asks for: ``setup.sh``
(run once when the image is built) and ``run_autograder`` (run per submission) at its
top, and the instructor's course without ``solutions/``: stubs, public and hidden tests
with their expected values, the quiz banks with their keys, and this package.
"""

from __future__ import annotations

import json
import shutil
import stat
import tempfile
import traceback
import zipfile
from pathlib import Path

from . import build
from .config import Course
from .errors import CourseError
from .release import PACKAGE_ROOT, declared_framework, read_manifest
from .lms.junit import to_junit
from .results import Report, to_gradescope, to_markdown, write_atomic

HIDDEN_CHOICES = ("name-and-points", "after_due_date", "after_published", "hidden")

GRADESCOPE_SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# AUTOGRADER_ROOT exists for local trials (the venv goes into ROOT/source/.venv).
set -euo pipefail
cd "${{AUTOGRADER_ROOT:-/autograder}}/source"
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PYTHON="$candidate"; break
  fi
done
if [ -z "$PYTHON" ]; then  # Ubuntu 22.04 images ship Python 3.10
  apt-get update
  apt-get install -y software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update
  apt-get install -y python3.11 python3.11-venv
  PYTHON=python3.11
fi
apt-get install -y util-linux >/dev/null 2>&1 || true   # unshare and setpriv for the sandbox
PYTHON="$PYTHON" COURSE_EXTRAS="{extras}" bash scripts/setup.sh
# Hidden tests, their expected values and the quiz keys: readable by root (the grader)
# only, never by the unprivileged user that runs student code.
chmod -R go-rwx autograder quizzes
"""

GRADESCOPE_RUN = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission. AUTOGRADER_ROOT exists for local trials.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
mkdir -p "$ROOT/results"
cd "$ROOT/source"
if ! .venv/bin/course --course course.toml autograder run "$ROOT/submission" \\
    --format gradescope --out "$ROOT/results/results.json" --hidden {hidden}; then
  if [ ! -s "$ROOT/results/results.json" ]; then
    printf '%s\\n' '{{"score": 0, "output": "The autograder could not start; please tell your instructor.", "tests": []}}' \\
      > "$ROOT/results/results.json"
  fi
fi
exit 0
"""


GITHUB_WORKFLOW = r"""# Instructor-side grading of student repositories, one job per submission.
# This repository is the instructor's copy of the course (keep it private): the hidden
# tests live here and never in a student repository. List the repositories to grade in
# roster.txt (owner/name per line) and store a token that can read them as the secret
# COURSE_READ_TOKEN. Each job writes JUnit XML (an artifact) and a table in the job summary.
name: grade submissions
on:
  workflow_dispatch:
jobs:
  roster:
    runs-on: ubuntu-latest
    outputs:
      repos: ${{ steps.read.outputs.repos }}
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - name: Read the roster
        id: read
        run: |
          python3 - >> "$GITHUB_OUTPUT" <<'PY'
          import json
          lines = [line.strip() for line in open("roster.txt", encoding="utf-8")]
          print("repos=" + json.dumps([line for line in lines if line and not line.startswith("#")]))
          PY
  grade:
    needs: roster
    runs-on: ubuntu-latest
    timeout-minutes: 30
    strategy:
      fail-fast: false
      max-parallel: 20
      matrix:
        repo: ${{ fromJSON(needs.roster.outputs.repos) }}
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false    # no token left on disk for student code to read
      - uses: actions/checkout@v4
        with:
          repository: ${{ matrix.repo }}
          token: ${{ secrets.COURSE_READ_TOKEN }}
          path: submission
          persist-credentials: false
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the course tools
        run: COURSE_EXTRAS={extras} bash scripts/setup.sh
      - name: Grade
        env:
          STUDENT_REPO: ${{ matrix.repo }}
        run: |
          name="${STUDENT_REPO//\//__}"
          mkdir -p results
          # As root the sandbox adds namespaces and the nobody user; hosted runners allow sudo.
          SUDO=""
          if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then SUDO="sudo -n --preserve-env=GITHUB_STEP_SUMMARY"; fi
          $SUDO .venv/bin/course autograder run submission --label "$STUDENT_REPO" --format junit \
            --out "results/$name.xml" --summary "$GITHUB_STEP_SUMMARY"
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: results-${{ strategy.job-index }}
          path: results/
"""

ROSTER_TEMPLATE = """\
# One student repository per line (owner/name); lines starting with # are ignored.
"""


def write_github_workflow(course: Course, out: Path) -> list[Path]:
    """Write the instructor's grading workflow (and a roster template) under ``out``."""
    out = Path(out)
    workflow = out / ".github" / "workflows" / "grade-submissions.yml"
    write_atomic(workflow, GITHUB_WORKFLOW.replace("{extras}", ",".join(course.frameworks)))
    written = [workflow]
    roster = out / "roster.txt"
    if not roster.exists():  # never overwrite the instructor's list
        write_atomic(roster, ROSTER_TEMPLATE)
        written.append(roster)
    return written


def locate_submission(course: Course, folder: Path) -> Path:
    """The submission inside what a platform hands over: a folder laid out like
    ``assignments/``, a whole course repository (``assignments/`` inside), one folder
    wrapping either, or the one zip made by ``course submit``."""
    folder = Path(folder)
    if folder.is_file():
        return folder
    if not folder.is_dir():
        raise CourseError("does not exist", path=folder, fix="pass the folder the submission was put in")
    tracks = {d for fw in course.frameworks for d in course.package_dirs(fw)}

    def holds_tracks(path: Path) -> bool:
        return any((path / d).is_dir() and not (path / d).is_symlink() for d in tracks)

    candidates = [folder, folder / "assignments"]
    inner = [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__"))]
    if len(inner) == 1:
        candidates += [inner[0], inner[0] / "assignments"]
    for path in candidates:
        if path.is_dir() and holds_tracks(path):
            return path
    zips = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".zip")
    if len(zips) == 1:
        return zips[0]
    what = f"{len(zips)} zip files" if zips else "no zip file"
    raise CourseError(f"holds no {' or '.join(sorted(tracks))} folder and {what}", path=folder,
                      fix="submit the zip `course submit` wrote (one file), or your course repository")


def detect_framework(course: Course, path: Path) -> str:
    """The track to grade: the one the manifest names, else the only track whose files
    differ from the stubs, else ``[course] framework``."""
    declared = declared_framework(path) if path.is_file() else None
    if declared is None and path.is_dir():
        manifest = read_manifest(path) or {}
        declared = manifest.get("framework") if manifest.get("framework") in course.frameworks else None
    if declared:
        return declared
    if path.is_dir():
        worked = [fw for fw in course.frameworks if _differs_from_stubs(course, path, fw)]
        if len(worked) == 1:
            return worked[0]
    return course.framework


def _differs_from_stubs(course: Course, path: Path, framework: str) -> bool:
    for package in course.package_dirs(framework):
        for stub in (course.assignments / package).rglob("*.py"):
            theirs = path / package / stub.relative_to(course.assignments / package)
            if theirs.is_file() and theirs.read_bytes() != stub.read_bytes():
                return True
    return False


def grade_one(course: Course, folder: Path, *, framework: str | None = None) -> Report:
    """Grade what a CI platform put in ``folder``; never raises for a bad submission."""
    from .grading import grade, ungraded_report

    chosen = (framework,) if framework in course.frameworks else None  # for a report without grading
    try:
        path = locate_submission(course, folder)
        frameworks = course.resolve_frameworks(framework) if framework else (detect_framework(course, path),)
        report, _ = grade(course, path, frameworks=frameworks, mode="grade")
        return report
    except CourseError as exc:
        return ungraded_report(course, folder, [f"This submission could not be graded: {exc}"], chosen)
    except Exception as exc:  # noqa: BLE001 - the platform must still get a result file
        return ungraded_report(course, folder,
                               [f"The autograder failed ({type(exc).__name__}: {exc}); please tell your instructor.",
                                traceback.format_exc(limit=3)[-1500:]], chosen)


def write_outputs(report: Report, *, fmt: str, out: Path, hidden: str = "name-and-points",
                  summary: Path | None = None) -> None:
    """Write the result file in ``fmt`` and, if asked, append a Markdown summary."""
    if fmt == "gradescope":
        text = to_gradescope(report, hidden=hidden)
    elif fmt == "junit":
        text = to_junit(report)
    else:
        text = json.dumps(report.to_dict(), indent=2) + "\n"
    write_atomic(out, text)
    if summary is not None:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(to_markdown(report) + "\n")


# -- the Gradescope bundle ---------------------------------------------------------------

def build_gradescope(course: Course, out: Path, *, hidden: str = "name-and-points") -> Path:
    """Write the Gradescope autograder zip ``out``; returns its path."""
    if hidden not in HIDDEN_CHOICES:
        raise CourseError(f"unknown visibility {hidden!r} for hidden tests", fix=f"use one of {HIDDEN_CHOICES}")
    if not course.hidden_tests.is_dir():
        raise CourseError("this copy of the course has no hidden tests", path=course.hidden_tests,
                          fix="build the bundle in the instructor's copy of the course")
    drifted = build.build(course, check=True).drifted
    if drifted:
        raise CourseError("the stubs or expected values are out of date: "
                          + ", ".join(str(p.relative_to(course.root)) for p in drifted[:5]),
                          path=course.path, fix="run `course build` first")
    out = Path(out).resolve()
    staging = Path(tempfile.mkdtemp(prefix="course-gradescope-"))
    try:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "quiz_answers", ".course")
        shutil.copytree(course.assignments, staging / "assignments", ignore=ignore)
        shutil.copytree(course.hidden_tests, staging / course.hidden_tests.relative_to(course.root), ignore=ignore)
        shutil.copytree(PACKAGE_ROOT, staging / "src" / PACKAGE_ROOT.name, ignore=ignore)
        for name in ["pyproject.toml", "scripts/setup.sh", "course.toml",
                     *[c.bank.relative_to(course.root).as_posix() for c in course.quizzes.values()]]:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(course.root / name, staging / name)
        extras = ",".join(course.frameworks)
        (staging / "setup.sh").write_text(GRADESCOPE_SETUP.format(extras=extras), encoding="utf-8")
        (staging / "run_autograder").write_text(GRADESCOPE_RUN.format(hidden=hidden), encoding="utf-8")
        leaks = [p.relative_to(staging).as_posix() for p in staging.rglob("*")
                 if p.is_file() and not p.relative_to(staging).as_posix().startswith("src/")
                 and build.BEGIN.encode() in p.read_bytes()]
        if leaks:
            raise CourseError("the bundle would hold solution code: " + ", ".join(leaks[:5]), path=out,
                              fix="this is a bug in the course package; nothing was written")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    rel = path.relative_to(staging).as_posix()
                    info = zipfile.ZipInfo.from_file(path, rel)
                    executable = rel in ("setup.sh", "run_autograder") or rel.endswith(".sh")
                    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, path.read_bytes())
        tmp.replace(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out

"""What students get: the student release.

:func:`make_release` writes the student version of the course into a folder and a zip:
the generated stubs, the public tests with their expected values, the quiz banks as
students may see them (hashed pre-lecture answers, no post-lecture key), a
``course.toml`` that points at them, the ``course`` CLI itself, a student README and a
GitHub Actions workflow that runs the public checks on every push, and the notebook
version of each track (``notebooks/``). Solutions, hidden
tests and their expected values never enter it, and :func:`scan_release` proves it.

What they hand back is :mod:`coursepack.grading.submission`'s business.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from coursepack.authoring import build
from coursepack.course import stubs
from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.quiz.bank import load_bank
from coursepack.quiz.publish import student_copy
from coursepack.fileio import write_atomic
from coursepack.grading.protected import release_course_toml, student_workflow
from coursepack.templating import render
from coursepack.notebooks.cells import TRACK_NAMES
from coursepack.notebooks.cells import notebook_json, notebook_name

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the coursepack package: it ships whole


def student_readme(course: Course) -> str:
    """The release's README.md: what to edit and the commands a student runs."""
    tracks = " or ".join(f"`assignments/{folder}/` ({TRACK_NAMES[fw]})"
                         for fw in course.frameworks for folder in sorted(course.package_dirs(fw)))
    check_one = f".venv/bin/course check {course.tasks[0].id}"
    return render("release/README.md", title=course.title, tracks=tracks, check_one_task=f"{check_one:<37} ")


def make_release(course: Course, out: Path) -> tuple[Path, Path]:
    """Write the student release into ``out`` and ``out.zip``; return both paths."""
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        raise CourseError("the release folder is not empty", path=out, fix="choose a new folder or remove it")
    drifted = build.build(course, check=True).drifted
    if drifted:
        raise CourseError("the stubs or expected values are out of date: "
                          + ", ".join(str(p.relative_to(course.root)) for p in drifted[:5]),
                          path=course.path, fix="run `course build` first")
    out.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "quiz_answers")
    shutil.copytree(course.assignments, out / "assignments", ignore=ignore)
    shutil.copytree(PACKAGE_ROOT, out / "src" / PACKAGE_ROOT.name, ignore=ignore)
    for name in ("pyproject.toml", "scripts/setup.sh"):
        source = course.root / name
        if source.is_file():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, out / name)
    setup = out / "scripts" / "setup.sh"
    if setup.is_file():  # students need both tracks' frameworks, not the project's test tools
        text, found = setup.read_text(), 'EXTRAS="${COURSE_EXTRAS:-dev}"'
        if found not in text:
            raise CourseError(f"scripts/setup.sh no longer sets {found}, which the release replaces",
                              path=course.root / "scripts" / "setup.sh",
                              fix="keep that line, or change make_release to match")
        setup.write_text(text.replace(found, 'EXTRAS="${COURSE_EXTRAS:-torch,tf}"'))
    _write_notebooks(course, out / "notebooks")
    (out / "quizzes").mkdir()
    for kind, config in course.quizzes.items():
        bank = load_bank(config.bank, config)
        write_atomic(out / f"quizzes/{kind}.json", student_copy(bank, feedback=config.feedback == "immediate"))
    write_atomic(out / "course.toml", release_course_toml(course))
    write_atomic(out / "README.md", student_readme(course))
    write_atomic(out / ".github" / "workflows" / "course-check.yml", student_workflow())
    write_atomic(out / ".gitignore", render("release/gitignore"))
    problems = scan_release(course, out)
    if problems:
        shutil.rmtree(out)
        raise CourseError("the release would leak instructor material:\n  " + "\n  ".join(problems[:10]),
                          path=out, fix="this is a bug in the course package; nothing was written")
    # One top-level folder in the zip, so that unpacking it never scatters files.
    archive = shutil.make_archive(str(out), "zip", root_dir=out.parent, base_dir=out.name)
    return out, Path(archive)


def _write_notebooks(course: Course, folder: Path) -> None:
    """The notebook version of each track (stubs in, public checks only), for Jupyter users."""
    for framework in course.frameworks:
        data = notebook_json(course, framework, course.assignments, for_nbgrader=False)
        write_atomic(folder / f"{notebook_name(course, framework)}.ipynb",
                     json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    for name in course.shared_files:  # the training cells import the toy language
        shutil.copy2(course.shared_source(name), folder / name)


def scan_release(course: Course, folder: Path) -> list[str]:
    """Everything in ``folder`` that a student must not get; an empty list when clean."""
    problems = []
    secrets = _secrets(course)
    for path in sorted(folder.rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(("solutions/", "autograder/")) or "/autograder/" in rel:
            problems.append(f"{rel}: instructor folder")
            continue
        data = path.read_bytes()
        if stubs.BEGIN.encode() in data and not rel.startswith("src/"):
            problems.append(f"{rel}: contains a solution region")
        text = data.decode("utf-8", "ignore")
        for label, secret in secrets:
            if secret in text:
                problems.append(f"{rel}: contains {label}")
                break
    return problems


def _secrets(course: Course) -> list[tuple[str, str]]:
    """Strings that only the instructor's copy holds: hidden test code and post-quiz explanations,
    and the body lines of every solution region."""
    found = []
    for path in sorted(course.hidden_tests.glob("test_*.py")):
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M):
            found.append((f"the hidden test name {name}", name))
    for kind, config in course.quizzes.items():
        bank = load_bank(config.bank, config)
        for q in bank.questions:
            for lang, text in (q.explanation or {}).items():
                found.append((f"the explanation of {q.id} ({lang})", text))
    for path in sorted(course.solutions.rglob("*.py")):
        inside = False
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped == stubs.BEGIN:
                inside = True
            elif stripped == stubs.END:
                inside = False
            elif inside and len(stripped) >= 40 and not stripped.startswith("#"):
                found.append((f"a solution line of {path.name}", stripped))
    return found



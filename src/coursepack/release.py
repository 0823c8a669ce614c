"""What students get, and what they hand back.

:func:`make_release` writes the student version of the course into a folder and a zip:
the generated stubs, the public tests with their expected values, the quiz banks as
students may see them (hashed pre-lecture answers, no post-lecture key), a
``course.toml`` that points at them, the ``course`` CLI itself, a student README and a
GitHub Actions workflow that runs the public checks on every push, and the notebook
version of each track (``notebooks/``). Solutions, hidden
tests and their expected values never enter it, and :func:`scan_release` proves it.

:func:`make_submission` zips a student's work with a manifest (every file with its
SHA-256, the chosen framework, versions, time), which ``course grade`` accepts as is.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import time
import zipfile
from pathlib import Path

from coursepack import __version__, build
from coursepack.course import stubs
from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.quiz.bank import load_bank
from coursepack.quiz.publish import student_copy
from coursepack.fileio import write_atomic

PACKAGE_ROOT = Path(__file__).resolve().parent
STUDENT_README = """\
# {title}: your assignment

Everything here is yours to read; the files to edit are in `assignments/course_torch/`
(PyTorch) or `assignments/course_tf/` (TensorFlow/Keras): replace each
`raise NotImplementedError(...)` following the docstrings, which are the contract.

```bash
bash scripts/setup.sh                 # once: creates .venv with the course tools
.venv/bin/course check                # public tests, points per task, a diagnostic per failure
.venv/bin/course check sdpa           # only one task
.venv/bin/course check --framework tf # the TensorFlow track
.venv/bin/course quiz pre             # pre-lecture quiz (--lang zh for Chinese)
.venv/bin/course quiz post            # post-lecture quiz, graded with your code
.venv/bin/course status               # what passes so far
.venv/bin/course submit               # the zip to hand in
```

`course status` shows each task's latest check (checking one task updates its row) and
flags the tasks whose file changed since. No terminal for the quiz? `course quiz pre
--sheet answers.json` writes your questions to a file; fill in each "answer" and run
`course quiz pre --answers answers.json`. `course submit` says which tasks still hold
their stub and whether a quiz is unfinished before you hand in.

Prefer Jupyter? `notebooks/` holds the same assignment as one notebook per track: the
answer cells are the functions to write and each task's test cell runs `course check`'s
tests on what you have run (start Jupyter from this folder's `.venv`, after
`.venv/bin/pip install notebook`). Only the definitions in answer cells count. Hand in
with `course submit --notebook notebooks/<name>.ipynb`: it puts your answer cells into
the track's files and zips them with your quiz answers.

Hidden tests run only when you are graded; `course check` tells how many there are
and how many points they carry. Do not edit `assignments/tests/`, `course.toml` or
`.github/`, and add no `conftest.py` or `pytest.ini`: grading never uses them, and a
submission that changed or added them is flagged, whatever its form (zip, repository,
folder or loose files).

The GitHub workflow in `.github/workflows/course-check.yml` runs the public tests on
every push and writes your progress to the run's summary page; it turns red only when
the checks cannot run at all (a broken setup), not while tasks are unfinished.
"""
PROTECTED = ("assignments/tests/", "course.toml", ".github/")


def student_workflow() -> str:
    """The students' GitHub Actions workflow: public checks on every push, progress in the job summary."""
    from coursepack.lms.templating import render

    return render("student/course-check.yml")


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
        bank = load_bank(config.bank)
        write_atomic(out / f"quizzes/{kind}.json", student_copy(bank, feedback=config.feedback == "immediate"))
    write_atomic(out / "course.toml", _release_course_toml(course))
    write_atomic(out / "README.md", STUDENT_README.format(title=course.title))
    write_atomic(out / ".github" / "workflows" / "course-check.yml", student_workflow())
    write_atomic(out / ".gitignore", ".venv/\n__pycache__/\n.course/\nsubmission-*.zip\n")
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
    from coursepack.nbcells import notebook_json, notebook_name

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
        bank = load_bank(config.bank)
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


def make_submission(course: Course, work: Path, framework: str, out: Path, student: str) -> Path:
    """Zip the student's work (tracks, shared files, quiz answers) with a manifest."""
    work = Path(work).resolve()
    files = []
    for package in sorted(course.package_dirs(framework)):
        files += [p for p in sorted((work / package).rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    files += [work / name for name in course.shared_files if (work / name).is_file()]
    files += sorted((work / "quiz_answers").glob("*.json")) if (work / "quiz_answers").is_dir() else []
    if not any(p.suffix == ".py" for p in files):
        raise CourseError(f"has no {framework} work to submit", path=work,
                          fix="run this in your course folder, or pass --framework")
    manifest = {
        "course": course.id, "student": student, "framework": framework,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": {"course-package": __version__, "python": platform.python_version(), **_library_versions()},
        "files": {p.relative_to(work).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
        "protected": _protected_digests(course.root),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(work).as_posix())
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
    tmp.replace(out)
    return out


def submission_warnings(course: Course, work: Path, framework: str, student: str) -> list[str]:
    """What a student should know before handing in ``work`` for ``framework``."""
    from coursepack.course.stubs import stub_marker
    from coursepack.quiz.progress import saved_progress

    def not_started(fw: str) -> tuple[list[str], list[str]]:
        stubbed, missing = [], []
        for task in course.tasks:
            source = Path(work) / task.files[fw]
            if not source.is_file():
                missing.append(task.id)
            elif stub_marker(task) in source.read_text(encoding="utf-8", errors="replace"):
                stubbed.append(task.id)
        return stubbed, missing

    warnings = []
    stubbed, missing = not_started(framework)
    if missing:
        warnings.append(f"the {framework} track's files of these tasks are missing: {', '.join(missing)}")
    if stubbed:
        warnings.append(f"not started in the {framework} track (the stub is still there): {', '.join(stubbed)}")
    if len(stubbed) + len(missing) == len(course.tasks):
        for other in course.frameworks:
            worked = len(course.tasks) - sum(map(len, not_started(other))) if other != framework else 0
            if worked:
                warnings.append(f"the {other} track has work in {worked} task(s): "
                                f"did you mean `course submit --framework {other}`?")
    for kind, config in course.quizzes.items():
        if not config.points:
            continue  # the formative quiz is for the student alone
        progress, problem = saved_progress(work, kind)
        if problem:
            warnings.append(f"the {kind}-lecture quiz's answers cannot be read ({problem})")
        elif progress is not None and progress.student != student:
            warnings.append(f"the {kind}-lecture quiz was drawn for {progress.student!r} and scores 0 in a "
                            f"submission for {student!r}: submit with `--student {progress.student}`")
        elif progress is None:
            warnings.append(f"the {kind}-lecture quiz ({config.points:g} points) is not started: `course quiz {kind}`")
        elif not progress.finished:
            warnings.append(f"the {kind}-lecture quiz has {len(progress.answers)} of {len(progress.questions)} "
                            f"questions answered: `course quiz {kind}` to finish it")
    return warnings


def _library_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for name in ("torch", "tensorflow-cpu", "tensorflow", "numpy", "keras"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _release_course_toml(course: Course) -> str:
    """The release's course.toml: the instructor's, with the banks replaced by the students' copies."""
    text = course.path.read_text(encoding="utf-8")
    for kind, config in course.quizzes.items():
        text = text.replace(f'"{config.bank.relative_to(course.root).as_posix()}"', f'"quizzes/{kind}.json"')
    return text


def release_protected(course: Course) -> dict[str, str]:
    """SHA-256 of every file a student must not change, as the release ships it."""
    digests = {"course.toml": _digest(_release_course_toml(course).encode("utf-8")),
               ".github/workflows/course-check.yml": _digest(student_workflow().encode("utf-8"))}
    for path in sorted(course.public_tests.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digests[path.relative_to(course.root).as_posix()] = _digest(path.read_bytes())
    return digests


def _protected_digests(root: Path) -> dict[str, str]:
    """SHA-256 of the protected files as they are in a student's copy."""
    digests = {}
    for prefix in PROTECTED:
        base = root / prefix
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        for path in paths:
            if "__pycache__" not in path.parts:
                digests[path.relative_to(root).as_posix()] = _digest(path.read_bytes())
    return digests


def protected_changes(course: Course, manifest: dict) -> list[str]:
    """Protected files the student changed or removed, according to their manifest."""
    theirs = manifest.get("protected") if isinstance(manifest, dict) else None
    if not isinstance(theirs, dict):
        return ["the manifest lists no protected files"]
    ours = release_protected(course)
    changed = [rel for rel, digest in ours.items() if theirs.get(rel) != digest]
    changed += [rel for rel in theirs if rel not in ours]  # e.g. an added conftest.py or workflow
    return sorted(changed)


PYTEST_CONFIG = ("conftest.py", "pytest.ini")
_NOT_WORK = {".git", ".venv", "venv", "node_modules", "__pycache__", ".course"}


def protected_changes_on_disk(course: Course, folder: Path) -> list[str]:
    """Protected files changed, removed or added in a submission as it lies on disk.

    ``folder`` is laid out like ``assignments/``; when it is the ``assignments/`` of a
    whole course repository, the repository's ``course.toml`` and ``.github/`` are
    compared too. A ``conftest.py`` or ``pytest.ini`` anywhere is flagged (grading never
    runs them, but an instructor should see them)."""
    folder = Path(folder)
    repo = folder.parent if folder.name == "assignments" and (folder.parent / "course.toml").is_file() else None
    if folder.resolve() == course.assignments.resolve():
        return []  # the instructor's own copy, not a submission
    ours = release_protected(course)
    changed: list[str] = []

    def compare(rel: str, path: Path, missing_counts: bool) -> None:
        if path.is_file() and not path.is_symlink():
            if _digest(path.read_bytes()) != ours[rel]:
                changed.append(f"{rel} (changed)")
        elif missing_counts:
            changed.append(f"{rel} (removed)")

    for rel in ours:
        if rel.startswith("assignments/"):
            compare(rel, folder / rel[len("assignments/"):], repo is not None)
        elif repo is not None:
            compare(rel, repo / rel, True)
    roots = [(folder, "assignments/")] + ([(repo, "")] if repo is not None else [])
    for base, prefix in roots:
        for parent, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if d not in _NOT_WORK and not (base == repo and d == "assignments")]
            for name in files:
                rel = prefix + (Path(parent) / name).relative_to(base).as_posix()
                protected_place = rel.startswith(("assignments/tests/", ".github/"))
                if rel not in ours and (protected_place or name in PYTEST_CONFIG):
                    changed.append(f"{rel} (added)")
    return sorted(set(changed))


def unpack_submission(archive: Path, dest: Path, max_bytes: int = 64 * 2**20) -> dict:
    """Extract a submission zip safely (no absolute paths, no '..', no links, bounded
    size) into ``dest``; return its manifest ({} if it has none)."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CourseError(f"is not a readable zip file ({exc})", path=archive,
                          fix="hand in the zip `course submit` wrote") from None
    with zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > max_bytes:
            raise CourseError("unpacks to more than 64 MiB", path=archive, fix="submit only your work")
        for info in infos:
            name = info.filename
            parts = Path(name).parts
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if name.startswith("/") or ".." in parts or is_link:
                raise CourseError(f"holds an unsafe entry {name!r}", path=archive, fix="submit only your work")
        zf.extractall(dest)
    return read_manifest(dest) or {}


def read_manifest(folder: Path) -> dict | None:
    """The ``manifest.json`` of an unpacked submission; None when there is none,
    ``{"invalid": True}`` when it is not a JSON object."""
    path = Path(folder) / "manifest.json"
    if not path.is_file() or path.is_symlink():
        return None
    try:
        if path.stat().st_size > 1_000_000:
            return {"invalid": True}
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {"invalid": True}
    return manifest if isinstance(manifest, dict) else {"invalid": True}


def declared_framework(path: Path) -> str | None:
    """The track a ``course submit`` zip declares (None for folders or foreign zips)."""
    if not (path.is_file() and path.suffix == ".zip"):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("manifest.json").file_size > 1_000_000:
                return None
            manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        return None
    framework = manifest.get("framework") if isinstance(manifest, dict) else None
    return framework if framework in ("torch", "tf") else None

"""Generate everything students get from the one source of truth, ``solutions/``.

:func:`build` writes the stubs (each solution file with its marked regions replaced and
a header naming its tasks, see :mod:`coursepack.course.stubs`) into ``assignments/`` and
records the expected values of every test from the reference solutions; ``check=True``
writes nothing and lists what has drifted instead.
"""

from __future__ import annotations

import ast
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from coursepack.judge import expected_values
from coursepack.course.config import Course
from coursepack.course.stubs import make_stub, stub_header
from coursepack.errors import CourseError
from coursepack.fileio import write_atomic
from coursepack.authoring import mistakes
from coursepack.course.mistakes import PUBLIC_INDEX, load_catalogue, public_index
from coursepack.grading.grader import grade
from coursepack.judge import fingerprints
from coursepack.quiz.grading import reference_answers
from coursepack.quiz.progress import answers_path

@dataclass
class BuildResult:
    written: list[Path] = field(default_factory=list)
    drifted: list[Path] = field(default_factory=list)   # check mode: files that differ
    recorded: int = 0                                   # expected values recorded
    mistakes: object = None                             # feedback.record.Summary, when recorded


def generated_files(course: Course) -> dict[Path, bytes]:
    """Every file ``assignments/`` must hold that comes from ``solutions/``, with its bytes."""
    if not course.solutions.is_dir():
        raise CourseError("there is no solutions/ folder here (a student release?)", path=course.solutions,
                          fix="build in the instructor's copy of the course")
    symbol_tasks = {s: t for t in course.tasks for s in t.symbols}
    files: dict[Path, bytes] = {}
    for fw in course.frameworks:
        for package in sorted(course.package_dirs(fw)):
            source_dir = course.solutions / package
            for source in sorted(source_dir.rglob("*")):
                if source.is_dir() or "__pycache__" in source.parts or source.suffix == ".pyc":
                    continue
                rel = source.relative_to(course.solutions)
                data = source.read_bytes()
                if source.suffix == ".py":
                    held = [t for t in course.tasks if t.files.get(fw) == rel.as_posix()]
                    data = (stub_header(held) + make_stub(data.decode("utf-8"), source, symbol_tasks)).encode("utf-8")
                files[course.assignments / rel] = data
    for name in course.shared_files:
        files[course.assignments / name] = (course.solutions / name).read_bytes()
    _check_symbols(course)
    files.update(reference_quiz_answers(course))

    catalogue = load_catalogue(course)
    if catalogue is not None:  # the names and hints of the known mistakes (no code)
        files[course.public_tests / expected_values.FOLDER / PUBLIC_INDEX] = public_index(catalogue)
    return files


def reference_quiz_answers(course: Course) -> dict[Path, bytes]:
    """All-correct quiz answers of the reference submission (solutions/ gets full marks)."""
    return {answers_path(course.solutions, kind): (json.dumps(reference_answers(course, kind), indent=2,
                                                              ensure_ascii=False) + "\n").encode("utf-8")
            for kind in course.quizzes}


def _check_symbols(course: Course) -> None:
    for task in course.tasks:
        for fw, rel in task.files.items():
            tree = ast.parse((course.solutions / rel).read_text(encoding="utf-8"))
            defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            for symbol in task.symbols:
                if symbol not in defined:
                    raise CourseError(f"task {task.id!r} lists symbol {symbol!r}, not defined in {rel}",
                                      path=course.path, fix="correct symbols or the solution file")


def build(course: Course, *, check: bool = False, record: bool = True) -> BuildResult:
    """Write (or, with ``check``, compare) the stubs and the recorded expected values."""
    result = BuildResult()
    for path, data in generated_files(course).items():
        if check:
            if not path.is_file() or path.read_bytes() != data:
                result.drifted.append(path)
        else:
            if not path.is_file() or path.read_bytes() != data:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_bytes(data)
                tmp.replace(path)  # atomic: a stub is never half written
                result.written.append(path)
    if check:
        result.drifted += stale_recordings(course)
        result.drifted += _stray_files(course)
        return result
    if record:
        result.recorded = record_expected(course, result)
    return result


def _stray_files(course: Course) -> list[Path]:
    """Python files in a track folder of assignments/ that no solution file generates."""
    expected = set(generated_files(course))
    stray = []
    for fw in course.frameworks:
        for package in course.package_dirs(fw):
            for path in (course.assignments / package).rglob("*.py"):
                if "__pycache__" not in path.parts and path not in expected:
                    stray.append(path)
    return stray


def _test_files(course: Course) -> list[tuple[Path, Path]]:
    """(test file, folder of its recordings) for every public and hidden test file."""
    pairs = []
    for base in (course.public_tests, course.hidden_tests):
        for path in sorted(base.glob("test_*.py")):
            pairs.append((path, base / expected_values.FOLDER))
    return pairs


def stale_recordings(course: Course) -> list[Path]:
    stale = []
    for test_file, folder in _test_files(course):
        meta = folder / f"{test_file.stem}.json"
        npz = folder / f"{test_file.stem}.npz"
        if not npz.is_file() or not meta.is_file() or meta.read_text(encoding="utf-8") != expected_values.meta_text(course, test_file):
            stale.append(npz)
    counts = course.public_tests / expected_values.FOLDER / expected_values.COUNTS_FILE
    if not counts.is_file():
        stale.append(counts)

    catalogue = load_catalogue(course)
    if catalogue is not None:
        for test_file, folder in _test_files(course):
            stem = fingerprints.file_stem(test_file.stem)
            meta, npz = folder / f"{stem}.json", folder / f"{stem}.npz"
            if not npz.is_file() or not meta.is_file() or \
                    meta.read_text(encoding="utf-8") != mistakes.meta_text(course, catalogue, test_file):
                stale.append(npz)
    return stale


def record_expected(course: Course, result: BuildResult) -> int:
    """Run every test on the reference solutions and store what they return."""

    if expected_values.RECORD_FRAMEWORK not in course.frameworks:
        raise CourseError(f"expected values are recorded with the {expected_values.RECORD_FRAMEWORK} solutions, "
                          "which this course does not offer", path=course.path,
                          fix=f"add {expected_values.RECORD_FRAMEWORK!r} to [course] frameworks")
    report, session = grade(course, course.solutions, frameworks=(expected_values.RECORD_FRAMEWORK,),
                            mode="record")
    failed = [t for t in report.tests if not t.passed]
    if failed or report.errors or not report.tests:
        lines = [f"{t.name}: {t.message}" for t in failed[:10]] + report.errors[:5]
        raise CourseError("the reference solutions fail their own tests, so nothing was recorded:\n  "
                          + "\n  ".join(lines or ["no test ran"]), path=course.solutions,
                          fix="correct the solution or the test, then run `course build` again")
    count = 0
    for test_file, folder in _test_files(course):
        visibility = "hidden" if folder.parent == course.hidden_tests else "public"
        values = session.recorded.get(f"{visibility}/{test_file.stem}", {})
        folder.mkdir(parents=True, exist_ok=True)
        npz = folder / f"{test_file.stem}.npz"
        data = expected_values.npz_bytes(values)
        if not npz.is_file() or npz.read_bytes() != data:
            tmp = npz.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(npz)
            result.written.append(npz)
        meta = folder / f"{test_file.stem}.json"
        write_atomic(meta, expected_values.meta_text(course, test_file))
        count += len(values)
    hidden = {}
    for t in report.tests:
        if t.visibility == "hidden":
            hidden[t.task] = hidden.get(t.task, 0) + 1
    write_atomic(course.public_tests / expected_values.FOLDER / expected_values.COUNTS_FILE,
                 json.dumps(dict(sorted(hidden.items())), indent=2) + "\n")
    result.mistakes = record_mistakes(course, result)
    return count


def record_mistakes(course: Course, result: BuildResult):
    """Record the fingerprints of the catalogue of known mistakes (see :mod:`coursepack.authoring.mistakes`)."""
    catalogue = load_catalogue(course)
    if catalogue is None:
        return None
    summary, prints = mistakes.record_fingerprints(course, catalogue)
    for test_file, folder in _test_files(course):
        visibility = "hidden" if folder.parent == course.hidden_tests else "public"
        stem = fingerprints.file_stem(test_file.stem)
        npz = folder / f"{stem}.npz"
        data = expected_values.npz_bytes(prints.get((visibility, test_file.stem), {}))
        if not npz.is_file() or npz.read_bytes() != data:
            tmp = npz.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(npz)
            result.written.append(npz)
        write_atomic(folder / f"{stem}.json", mistakes.meta_text(course, catalogue, test_file))
    return summary


def clean(course: Course) -> None:
    """Remove generated track folders (used before a full rebuild)."""
    for fw in course.frameworks:
        for package in course.package_dirs(fw):
            shutil.rmtree(course.assignments / package, ignore_errors=True)

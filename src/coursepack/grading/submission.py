"""A submission: made by ``course submit``, unpacked and read by the graders.

``course submit`` zips a student's track, shared files and quiz answers with a
``manifest.json`` (:func:`make_submission`; :func:`submission_warnings` says what looks
unfinished first). Graders open such a zip safely (:func:`unpack_submission`) and read
what it declares (:func:`read_manifest`, :func:`declared_framework`); nothing in a
manifest is trusted for the score. What a platform hands over may wrap the work in a
folder or a whole course repository: :func:`locate_submission` finds it and
:func:`detect_framework` says which track to grade.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
import zipfile
from pathlib import Path
from importlib import metadata

from coursepack import __version__
from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.grading.protected import protected_digests
from coursepack.course.stubs import stub_marker
from coursepack.quiz.progress import saved_progress

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
        "protected": protected_digests(course.root),
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

    versions = {}
    for name in ("torch", "tensorflow-cpu", "tensorflow", "numpy", "keras"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


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

"""Expected values, recorded once from the reference solutions.

``course build`` runs every test with the reference solutions as the submission and
stores what they returned, per test file, in ``<tests>/expected/<file>.npz``; a
``<file>.json`` beside it holds a digest of the test file and of the solutions it was
recorded from, so ``course build --check`` can tell a stale recording without running
anything. Public expected values ship with the public tests (they are public); hidden
ones stay in ``autograder/``. ``hidden_tests.json`` in the public folder tells a
student how many hidden tests each task has, and nothing else about them.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import zipfile

from coursepack.course.config import Course
from coursepack.errors import CourseError

FOLDER = "expected"
RECORD_FRAMEWORK = "torch"
COUNTS_FILE = "hidden_tests.json"


def load(folder: Path, stem: str) -> dict[str, np.ndarray]:
    path = folder / f"{stem}.npz"
    if not path.is_file():
        raise CourseError("the expected values of these tests are missing", path=path,
                          fix="run `course build` in the instructor's copy of the course")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def npz_bytes(values: dict[str, np.ndarray]) -> bytes:
    """Deterministic npz bytes (sorted keys, fixed timestamps) so rebuilds are byte-identical."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(values):
            item = io.BytesIO()
            np.lib.format.write_array(item, np.array(values[key], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, item.getvalue())
    return buf.getvalue()


def sources_digest(course: Course, test_file: Path) -> str:
    """Digest of everything a recording depends on: the test file and the solutions of
    the recording framework (plus the shared files they import)."""
    h = hashlib.sha256()
    h.update(test_file.read_bytes())
    files = [course.solutions / name for name in course.shared_files]
    for package in course.package_dirs(RECORD_FRAMEWORK):
        files += [p for p in (course.solutions / package).rglob("*.py") if "__pycache__" not in p.parts]
    files.sort()
    # The helpers tests build their inputs and weights with (the whole testing package)
    # are part of every recording.
    files += sorted((Path(__file__).resolve().parents[1] / "testing").glob("*.py"))
    for path in files:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def meta_text(course: Course, test_file: Path) -> str:
    return json.dumps({"recorded_from": f"solutions ({RECORD_FRAMEWORK})",
                       "sources_sha256": sources_digest(course, test_file)}, indent=2) + "\n"


def hidden_counts(course: Course) -> dict[str, int]:
    path = course.public_tests / FOLDER / COUNTS_FILE
    if not path.is_file():
        return {}
    return {k: int(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}

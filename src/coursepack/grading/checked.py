"""What `course status` knows: the latest public-test result of every task, per track.

Each `course check` (all tasks or a few) updates the tasks it ran, so checking one task
after fixing it moves that task alone; the others keep their last result. With each
result goes the SHA-256 of the task's file as it was when the check started, so a file
saved since (even within the same second) is flagged. The state lives in
``.course/checks.json`` beside ``course.toml``, per track and per folder checked:
checking another folder (``--path``) starts that track afresh. The file is only a
convenience: if it is damaged or cannot be written, status starts again from nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from coursepack.fileio import write_atomic
from coursepack.reports.results import Report

STATE_FILE = Path(".course") / "checks.json"
_NUMBERS = ("score", "public_points", "passed", "failed", "when")


@dataclass
class TaskState:
    id: str
    framework: str
    score: float
    public_points: float      # the points the public tests of this task are worth (one track)
    passed: int
    failed: int
    when: float               # time of the check, seconds since the epoch
    changed: bool = False     # the task's file differs from what was checked


def file_digest(path: Path) -> str | None:
    """SHA-256 of a regular file, None when there is none (missing, a folder, a link)."""
    try:
        return None if path.is_symlink() or not path.is_file() else hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def snapshot(course, folder: Path, frameworks) -> dict[str, dict[str, str | None]]:
    """Per framework and task: the digest of the task's file in ``folder``, now."""
    return {fw: {t.id: file_digest(Path(folder) / t.files[fw]) for t in course.tasks} for fw in frameworks}


def _load(course) -> dict:
    """The saved state, keeping only well-formed entries (a damaged file is no error)."""
    empty = {"version": 2, "tracks": {}}
    try:
        data = json.loads((course.root / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    tracks = data.get("tracks") if isinstance(data, dict) and data.get("version") == 2 else None
    if not isinstance(tracks, dict):
        return empty
    clean = {}
    for fw, track in tracks.items():
        if not (isinstance(track, dict) and isinstance(track.get("folder"), str) and isinstance(track.get("tasks"), dict)):
            continue
        tasks = {tid: raw for tid, raw in track["tasks"].items()
                 if isinstance(raw, dict) and all(isinstance(raw.get(k), (int, float)) and not isinstance(raw.get(k), bool)
                                                  for k in _NUMBERS)
                 and (raw.get("digest") is None or isinstance(raw.get("digest"), str))}
        clean[fw] = {"folder": track["folder"], "tasks": tasks}
    return {"version": 2, "tracks": clean}


def record(course, report: Report, folder: Path, digests: dict[str, dict[str, str | None]]) -> str | None:
    """Remember the tasks ``report`` (a check of ``folder``) ran; ``digests`` from
    :func:`snapshot` before the check. Returns a warning when the state cannot be saved."""
    data = _load(course)
    now = time.time()
    scale = len(report.frameworks)  # `--framework all` halves each track's points: store one track's
    for fw in report.frameworks:
        track = data["tracks"].get(fw)
        if track is None or track["folder"] != str(Path(folder).resolve()):
            track = data["tracks"][fw] = {"folder": str(Path(folder).resolve()), "tasks": {}}
        for s in report.tasks:
            if s.framework != fw or s.passed + s.failed == 0:
                continue  # a task this check did not run keeps its last result
            track["tasks"][s.id] = {"score": round(s.score * scale, 4),
                                    "public_points": round((s.max_score - s.hidden_points_not_run) * scale, 4),
                                    "passed": s.passed, "failed": s.failed, "when": now,
                                    "digest": digests.get(fw, {}).get(s.id)}
    try:
        write_atomic(course.root / STATE_FILE, json.dumps(data, indent=1))
    except OSError as exc:
        return f"`course status` cannot remember this check ({course.root / STATE_FILE}: {exc.strerror or exc})"
    return None


def tracks(course) -> dict[str, tuple[Path, list[TaskState | None]]]:
    """Per track checked: the folder, and each task's last result (None: never checked)."""
    out = {}
    for fw, track in _load(course)["tracks"].items():
        if fw not in course.frameworks:
            continue
        folder = Path(track["folder"])
        states = []
        for task in course.tasks:
            raw = track["tasks"].get(task.id)
            if raw is None:
                states.append(None)
                continue
            changed = file_digest(folder / task.files[fw]) != raw.get("digest")
            states.append(TaskState(id=task.id, framework=fw, score=raw["score"], public_points=raw["public_points"],
                                    passed=int(raw["passed"]), failed=int(raw["failed"]), when=raw["when"],
                                    changed=changed))
        out[fw] = (folder, states)
    return out

"""What `course status` knows: the latest public-test result of every task, per track.

Each `course check` (all tasks or a few) updates the tasks it ran, so checking one task
after fixing it moves that task alone; the others keep their last result. The state
lives in ``.course/checks.json`` beside ``course.toml`` and is remembered per track and
per folder checked: checking another folder (``--path``) starts that track afresh.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from .results import Report, write_atomic

STATE_FILE = Path(".course") / "checks.json"


@dataclass
class TaskState:
    id: str
    framework: str
    score: float
    public_points: float      # the points the public tests of this task are worth
    passed: int
    failed: int
    when: float               # time of the check, seconds since the epoch
    changed: bool = False     # a file of the task was saved after the check


def _load(course) -> dict:
    path = course.root / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": 1, "tracks": {}}  # none yet, or unreadable: start again
    return data if isinstance(data, dict) and data.get("version") == 1 else {"version": 1, "tracks": {}}


def record(course, report: Report, folder: Path) -> None:
    """Remember the tasks ``report`` (a check of ``folder``) ran."""
    data = _load(course)
    now = time.time()
    for fw in report.frameworks:
        track = data["tracks"].get(fw)
        if track is None or track.get("folder") != str(Path(folder).resolve()):
            track = data["tracks"][fw] = {"folder": str(Path(folder).resolve()), "tasks": {}}
        for s in report.tasks:
            if s.framework != fw or s.passed + s.failed == 0:
                continue  # a task this check did not run keeps its last result
            track["tasks"][s.id] = {"score": s.score, "public_points": round(s.max_score - s.hidden_points_not_run, 4),
                                    "passed": s.passed, "failed": s.failed, "when": now}
    write_atomic(course.root / STATE_FILE, json.dumps(data, indent=1))


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
            source = folder / task.files[fw]
            changed = source.is_file() and source.stat().st_mtime > raw["when"]
            states.append(TaskState(id=task.id, framework=fw, score=raw["score"], public_points=raw["public_points"],
                                    passed=raw["passed"], failed=raw["failed"], when=raw["when"], changed=changed))
        out[fw] = (folder, states)
    return out

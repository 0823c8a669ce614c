"""`course status`'s memory of checks: per task, per track, robust to a damaged file."""

from __future__ import annotations

import json

import pytest

from coursepack.grading import checked
from coursepack.course.config import load_course
from coursepack.reports.results import Report, TaskSummary


def check_report(course, frameworks, scores: dict[str, float]) -> Report:
    """What a check of some tasks returns: each task's public points, split over the tracks."""
    weight = 1 / len(frameworks)
    tasks = [TaskSummary(id=tid, title=tid, framework=fw, score=score * weight, max_score=10 * weight,
                         passed=int(score == 5), failed=int(score != 5), hidden_not_run=1,
                         hidden_points_not_run=5 * weight)
             for fw in frameworks for tid, score in scores.items()]
    return Report(course=course.id, submission="x", frameworks=list(frameworks), isolation="process",
                  mode="check", tasks=tasks)


@pytest.fixture
def course(course_copy):
    return load_course(course_copy / "course.toml")


def test_one_task_checked_again_moves_alone_and_edits_are_flagged(course):
    folder = course.assignments
    digests = checked.snapshot(course, folder, ["torch"])
    first = check_report(course, ["torch"], {"sdpa": 0, "additive": 0, "sinusoidal": 0})
    assert checked.record(course, first, folder, digests) is None
    assert checked.record(course, check_report(course, ["torch"], {"sdpa": 5}), folder, digests) is None
    (_, states), = checked.tracks(course).values()
    by_id = {s.id: s for s in states if s is not None}
    assert set(by_id) == {"sdpa", "additive", "sinusoidal"}
    assert (by_id["sdpa"].score, by_id["additive"].score) == (5, 0)
    assert not any(s.changed for s in by_id.values())
    # attention.py saved again with other content (even within the same second): its tasks
    # are flagged, the task of positional.py is not.
    path = folder / course.task("sdpa").files["torch"]
    path.write_text(path.read_text() + "\n# edited\n")
    changed = {s.id for s in checked.tracks(course)["torch"][1] if s is not None and s.changed}
    assert changed == {"sdpa", "additive"}


def test_a_check_of_both_tracks_stores_one_track_s_points(course):
    folder = course.assignments
    digests = checked.snapshot(course, folder, ["torch", "tf"])
    checked.record(course, check_report(course, ["torch", "tf"], {"sdpa": 5}), folder, digests)
    checked.record(course, check_report(course, ["torch"], {"additive": 5}), folder, digests)
    states = {s.id: s for s in checked.tracks(course)["torch"][1] if s is not None}
    assert states["sdpa"].score == states["additive"].score == 5
    assert states["sdpa"].public_points == states["additive"].public_points == 5


@pytest.mark.parametrize("damaged", [
    "not json", "[]", '{"version": 2}', '{"version": 2, "tracks": []}',
    '{"version": 2, "tracks": {"torch": {"tasks": {}}}}',
    '{"version": 2, "tracks": {"torch": {"folder": "x", "tasks": {"sdpa": {"score": "high"}}}}}',
    '{"version": 2, "tracks": {"torch": {"folder": "x", "tasks": {"sdpa": {"score": 1, "public_points": 2, '
    '"passed": 1, "failed": 0, "when": "yesterday"}}}}}',
])
def test_a_damaged_state_file_is_started_again(course, damaged):
    path = course.root / checked.STATE_FILE
    path.parent.mkdir(exist_ok=True)
    path.write_text(damaged)
    assert all(all(s is None for s in states) for _, states in checked.tracks(course).values())
    folder = course.assignments
    report = check_report(course, ["torch"], {"sdpa": 5})
    assert checked.record(course, report, folder, checked.snapshot(course, folder, ["torch"])) is None
    assert json.loads(path.read_text())["tracks"]["torch"]["tasks"]["sdpa"]["score"] == 5


def test_an_unwritable_state_is_a_note_not_a_crash(course):
    (course.root / ".course").write_text("a file where the folder should be")
    folder = course.assignments
    note = checked.record(course, check_report(course, ["torch"], {"sdpa": 5}), folder,
                             checked.snapshot(course, folder, ["torch"]))
    assert note and "cannot remember this check" in note

"""Two lanes (``judge/lanes.py``): the second worker plays the last tests ahead, and the
grade is exactly the one a single lane gives, with no call run twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursepack.grading.grader import grade
from coursepack.judge.lanes import call_key, lanes_wanted
from coursepack.judge.worker import Worker

from submissions import KINDS, edit, make_submission

# Two mistakes in different tasks, so that both lanes meet failing tests and their hints.
MIXED = [*KINDS["no-scale"][1], *KINDS["heads-split"][1]]


def _outcome(report):
    return [(t.name, t.passed, round(t.score, 9), t.message) for t in report.tests]


def _grade(course, sub, lanes, monkeypatch):
    monkeypatch.setenv("COURSE_LANES", str(lanes))
    report, session = grade(course, sub, frameworks=("torch",))
    calls = dict(zip(("first", "second"), session.lane_calls))
    return report, session, calls


def test_two_lanes_give_the_grade_of_one_and_run_no_call_twice(course, tmp_path, monkeypatch):
    sub = make_submission(course, tmp_path / "s")
    for file, old, new in MIXED:
        edit(sub / "course_torch" / file, old, new)
    one, _, calls_one = _grade(course, sub, 1, monkeypatch)
    two, session, calls_two = _grade(course, sub, 2, monkeypatch)

    assert _outcome(two) == _outcome(one)
    assert 0 < two.score < 100 and any("scale" in t.message for t in two.tests if not t.passed)
    # The lane really worked: it played tests from the end and pytest took its results...
    assert session._lane is not None and session._lane.played > 0
    assert calls_two["second"] > 0 and calls_one["second"] == 0
    # ...and between them the two workers made exactly the calls one worker makes alone.
    assert calls_two["first"] + calls_two["second"] == calls_one["first"]


def test_the_key_of_a_call_covers_request_inputs_and_limit():
    import numpy as np

    request = {"framework": "torch", "steps": [{"call": "m:f", "args": {"x": "@x"}}]}
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    base = call_key("torch", request, {"x": x}, 60)
    assert base == call_key("torch", dict(request), {"x": x.copy()}, 60.0)
    assert base != call_key("tf", request, {"x": x}, 60)
    assert base != call_key("torch", {**request, "seed": 1}, {"x": x}, 60)
    assert base != call_key("torch", request, {"x": x.reshape(3, 2)}, 60)        # same bytes, other shape
    assert base != call_key("torch", request, {"x": x.astype(np.float64)}, 60)
    assert base != call_key("torch", request, {"x": x}, 6)                         # a shorter limit


def test_a_retired_worker_starts_nothing(course):
    worker = Worker(framework="torch", submission=course.solutions, packages=course.package_dirs("torch"),
                    shared_files={})
    worker.retire()
    result = worker.call({"framework": "torch", "import": "course_torch"}, {}, 5)
    assert not result.ok and result.failure == "crash" and worker.starts == 0


@pytest.mark.parametrize("value, wanted", [("1", 1), ("2", 2)])
def test_course_lanes_decides(monkeypatch, value, wanted):
    monkeypatch.setenv("COURSE_LANES", value)
    assert lanes_wanted() == wanted

"""Two lanes (``judge/lanes.py``): the second worker plays the last tests ahead, and the
grade is exactly the one a single lane gives, with no call run twice."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from submissions import KINDS, edit, make_submission

from coursepack.grading.grader import grade
from coursepack.judge.lanes import AheadLane, call_key, lanes_wanted
from coursepack.judge.worker import CallResult, Worker, close_pool

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
    assert 0 < two.score < 100 and any("not divided by sqrt(d_k)" in t.message for t in two.tests if not t.passed)
    # The lane really worked: it played tests from the end and pytest took its results...
    assert session._lane is not None and session._lane.played > 0
    assert calls_two["second"] > 0 and calls_one["second"] == 0
    # ...and between them the two workers made exactly the calls one worker makes alone.
    assert calls_two["first"] + calls_two["second"] == calls_one["first"]


@pytest.mark.parametrize("task, second_lane", [("pretraining", True), ("sdpa", False)])
def test_a_check_of_one_task_gets_a_second_lane_only_for_a_slow_test(course, monkeypatch, task, second_lane):
    # One task is not worth a second framework import, unless it has a training
    # experiment: the lane plays that while pytest runs the task's other tests.
    monkeypatch.setenv("COURSE_LANES", "2")
    report, session = grade(course, course.solutions, frameworks=("torch",), mode="check", tasks={task})
    assert report.tests and all(t.passed for t in report.tests)
    # Whether the lane then takes a call first depends on the machine's load; that it ran is the decision.
    assert (session._lane is not None) is second_lane and bool(session._lane_workers) is second_lane


def test_a_worker_retired_in_a_kept_pool_is_replaced(course, monkeypatch):
    # A notebook kernel keeps its lane's workers; one retired because a lane was stopped in
    # the middle of a call (Ctrl-C in a training experiment) must not break the next check.
    monkeypatch.setenv("COURSE_LANES", "2")
    retired = Worker(framework="torch", submission=course.solutions, packages=course.package_dirs("torch"),
                     shared_files={})
    retired.retire()
    lane_pool = {"torch": retired}
    pool: dict = {}
    try:
        report, session = grade(course, course.solutions, frameworks=("torch",), mode="check",
                                tasks={"pretraining"}, pool=pool, lane_pool=lane_pool)
        assert report.tests and all(t.passed for t in report.tests) and report.errors == []
        assert lane_pool["torch"] is not retired and not lane_pool["torch"].retired
    finally:
        close_pool(pool, lane_pool)


def test_the_key_of_a_call_covers_request_inputs_and_limit():
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


# -- the lane on its own, with a stand-in session whose "worker" answers at once ----------

class _Session:
    """Just what AheadLane uses of a GradingSession; a call doubles its input ``x`` and
    numbers itself, so a result shows which call produced it."""

    def __init__(self, delay: float = 0.0):
        self.delay, self.made = delay, 0
        self.first_ready = threading.Event()
        self.first_ready.set()  # the first lane's worker is ready: the lane may play
        self.course = SimpleNamespace(task=lambda task_id: SimpleNamespace(id=task_id, time_limit=60.0))

    def _framework_of(self, item):
        return "torch"

    def visibility(self, item):
        return "public"

    def expected_key(self, item):
        return f"public/t::{item.nodeid}"

    def load_expected(self, item):
        pass

    def call_on(self, workers, framework, request, arrays, timeout):
        time.sleep(self.delay)
        self.made += 1
        return CallResult({"out": np.asarray(arrays["x"]) * 2, "n": np.asarray(self.made)})


def _item(nodeid, *xs, slow=False, shared=False):
    def body(judge):
        for x in xs:
            judge.run(steps=[{"call": "m:f", "args": {"x": "@x"}, "save": "out"}],
                      returns={"out": "out", "n": "n"}, arrays={"x": np.asarray(x)}, shared=shared)
    marker = SimpleNamespace(args=("t",), kwargs={"slow": True} if slow else {})  # @task("t", slow=...)
    return SimpleNamespace(nodeid=nodeid, obj=body, user_properties=[("task", "t")],
                           get_closest_marker=lambda name: marker if name == "task" else None)


def _key(x):
    request = {"framework": "torch", "seed": 0, "build": None, "returns": {"out": "out", "n": "n"}, "grad": None,
               "steps": [{"call": "m:f", "args": {"x": "@x"}, "save": "out"}]}
    return call_key("torch", request, {"x": np.asarray(x)}, 60.0)


def _played(lane, count):
    deadline = time.monotonic() + 30
    while lane.played < count:
        assert time.monotonic() < deadline, "the lane did not play its tests"
        time.sleep(0.01)


def test_kept_results_follow_the_inputs_and_the_order_of_the_calls():
    session = _Session()
    lane = AheadLane(session, {})
    # Two tests make the same request on other inputs; the second makes one call twice.
    lane.start([_item("first", 1.0), _item("second", 2.0, 2.0)])
    _played(lane, 2)
    first = lane.take(_key(1.0))
    assert first is not None and first.outputs["out"] == 2.0
    again = [lane.take(_key(2.0)), lane.take(_key(2.0))]
    assert [r.outputs["out"] for r in again] == [4.0, 4.0]
    assert again[0].outputs["n"] < again[1].outputs["n"]  # first made, first taken
    assert lane.take(_key(2.0)) is None and session.made == 3
    lane.stop()


def test_pytest_waits_for_the_test_the_lane_is_playing():
    session = _Session(delay=0.2)
    lane = AheadLane(session, {})
    lane.start([_item("only", 1.0, 2.0, 3.0)])
    deadline = time.monotonic() + 10
    while "only" not in lane._playing:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    lane.reached("only")  # returns once the lane has made all three calls
    assert lane.played == 1 and session.made == 3
    assert all(lane.take(_key(x)) is not None for x in (1.0, 2.0, 3.0))
    lane.stop()


def test_the_lane_stops_before_a_test_pytest_has_reached():
    session = _Session()
    session.first_ready.clear()  # the lane waits for the first worker before it plays
    lane = AheadLane(session, {})
    lane.start([_item("a", 1.0), _item("b", 2.0), _item("c", 3.0)])
    lane.reached("b")  # pytest is already at the second of three tests
    session.first_ready.set()
    _played(lane, 1)
    lane.stop()
    assert lane.played == 1 and session.made == 1 and lane.take(_key(3.0)) is not None


def test_the_lane_starts_with_the_slow_tests_then_plays_from_the_end():
    session = _Session()
    lane = AheadLane(session, {})
    lane.start([_item("a", 1.0), _item("b", 2.0, slow=True), _item("c", 3.0), _item("d", 4.0, slow=True),
                _item("e", 5.0)])
    _played(lane, 5)
    lane.stop()
    order = {x: int(lane.take(_key(x)).outputs["n"]) for x in (1.0, 2.0, 3.0, 4.0, 5.0)}
    assert sorted(order, key=order.get) == [2.0, 4.0, 5.0, 3.0, 1.0]  # b, d (slow), then e, c, a
    assert session.made == 5  # each played once


def test_a_slow_test_pytest_has_reached_is_left_to_pytest():
    session = _Session()
    session.first_ready.clear()
    lane = AheadLane(session, {})
    lane.start([_item("a", 1.0), _item("b", 2.0, slow=True), _item("c", 3.0)])
    lane.reached("b")
    session.first_ready.set()
    _played(lane, 1)
    lane.stop()
    assert lane.played == 1 and lane.take(_key(2.0)) is None and lane.take(_key(3.0)) is not None


def test_a_shared_call_is_made_once_by_the_lane():
    session = _Session()
    lane = AheadLane(session, {})
    # Two tests look at one run (Judge.run(shared=True)); a third makes the same call unshared.
    lane.start([_item("a", 1.0, shared=True), _item("b", 1.0, shared=True), _item("c", 1.0)])
    _played(lane, 3)
    lane.stop()
    assert session.made == 2


def test_a_shared_call_is_made_once_per_grading_unless_it_failed(course, monkeypatch):
    from coursepack.judge.session import GradingSession

    session = GradingSession(course, course.solutions, ("torch",), "check")
    made = []

    def call_on(workers, framework, request, arrays, timeout):
        made.append(request)
        return CallResult({"n": np.asarray(len(made))}) if len(made) != 3 else CallResult(None, failure="crash")
    monkeypatch.setattr(session, "call_on", call_on)
    request, arrays = {"steps": []}, {"x": np.ones(2)}
    first = session.call("torch", request, arrays, 60.0, shared=True)
    assert session.call("torch", request, arrays, 60.0, shared=True) is first and len(made) == 1
    session.call("torch", request, arrays, 60.0)  # not shared: made again
    assert len(made) == 2
    other = {"x": np.zeros(2)}
    assert session.call("torch", request, other, 60.0, shared=True).failure == "crash"  # other inputs
    assert session.call("torch", request, other, 60.0, shared=True).ok and len(made) == 4  # a crash is not kept


def test_a_lane_stopped_while_its_worker_starts_leaves_no_traceback(course, monkeypatch):
    """A short run can end before the lane's worker is ready: the lane just stops."""
    escaped = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    session = _Session()
    worker = Worker(framework="torch", submission=course.solutions, packages=course.package_dirs("torch"),
                    shared_files={n: course.shared_source(n) for n in course.shared_files})
    worker.start(wait=False)
    lane = AheadLane(session, {"torch": worker})
    lane.start([_item("a", 1.0)])
    time.sleep(0.3)  # the lane now waits for its worker's ready line
    lane.stop()
    assert not lane._thread.is_alive() and lane.played == 0 and worker.starts == 1
    assert escaped == []  # no exception left the lane's thread


def test_a_timeout_in_the_lane_is_not_kept():
    """How long a call takes depends on how busy the machine is: pytest makes it again."""
    session = _Session()
    session.call_on = lambda *a: CallResult(None, "timeout", "no result within 60 s")
    lane = AheadLane(session, {})
    lane.start([_item("a", 1.0)])
    _played(lane, 1)
    assert lane.take(_key(1.0)) is None
    lane.stop()

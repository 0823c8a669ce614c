"""A second lane: tests of a grading played ahead on a second worker.

pytest runs a grading's tests one after another, and nearly all of the time goes into
waiting for the worker. On a machine with a spare core, :class:`AheadLane` starts a
second worker and, in a thread, works through the tests marked slow, then from the last
test backwards, while pytest works from the first one forwards. It runs each test's body once with a
judge whose calls go to its own worker, and keeps every result under a key of all that
defines the call: the framework, the request, the input arrays and the time limit.

Nothing the lane decides counts. Its assertions are ignored, and pytest still runs every
test itself; when one of pytest's calls has the key of a kept result, that result is
taken instead of running the call again. Any other call runs on the first worker as
usual. A grade is therefore the same with one lane or two; only the waiting changes.
The import step is shared (:meth:`GradingSession._import_step`), so a file whose top
level never ends still costs one import limit, not one per lane.

The lanes meet in the middle: the second lane skips every test that pytest has reached,
and pytest waits for a test that the second lane is still playing. Tests marked slow
(``task(..., slow=True)``: the training experiments) are the second lane's first: it
starts them while pytest works through the short tests before them. Each worker
runs one call at a time, as always, under the same isolation; the two workers' folders
are private to each (see :mod:`coursepack.judge.sandbox`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import threading
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import psutil

from coursepack.judge.worker import CallResult, Worker
from coursepack.testing import Expected, Judge

LANES_ENV = "COURSE_LANES"   # "1" turns the second lane off; "2" asks for it


def lanes_wanted(memory_mb: int = 0) -> int:
    """2 when this process may use two cores (and, given ``memory_mb`` per worker, the
    memory for two workers), else 1; ``COURSE_LANES`` decides if set."""
    wanted = os.environ.get(LANES_ENV, "").strip()
    if wanted in ("1", "2"):
        return int(wanted)
    if usable_cores() < 2:
        return 1
    # Each worker's calls may grow to memory_mb: two lanes need room for both.
    if memory_mb and psutil.virtual_memory().available < 2 * memory_mb * 2**20:
        return 1
    return 2


def usable_cores() -> float:
    """The cores this process may run on: its CPU affinity, capped by a cgroup v2 quota
    (a container limited to one CPU still sees every core of its host)."""
    try:
        cores: float = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    return cores


def call_key(framework: str, request: dict, arrays: dict[str, np.ndarray], timeout: float) -> str:
    """A digest of everything that defines one worker call."""
    h = hashlib.sha256()
    h.update(json.dumps([framework, request, float(timeout)], sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{value.dtype.str}\0{value.shape}\0".encode())
        h.update(value.tobytes())
    return h.hexdigest()


def is_slow(item) -> bool:
    """Whether a collected test is marked ``task(..., slow=True)`` (a training experiment)."""
    marker = item.get_closest_marker("task")
    return marker is not None and bool(marker.kwargs.get("slow"))


class AheadLane:
    """Plays tests ahead of pytest on its own worker; see the module doc."""

    def __init__(self, session, workers: dict[str, Worker], keep_workers: bool = False):
        self._session = session
        self.workers = workers        # one per framework, already started by the session
        self._keep_workers = keep_workers  # the caller keeps them warm for its next grading
        self._lock = threading.Lock()
        self._kept: dict[str, list[Future]] = defaultdict(list)
        self._shared: dict[str, Future] = {}  # shared calls (testing.Judge.run) by key: made once
        self._playing: dict[str, threading.Event] = {}
        self._reached = -1            # the index of the test pytest runs now
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.played = 0               # tests played ahead (for the figures in bench/)
        # The lane's own record of tasks that timed out (testing.Judge shortens their limit).
        self.timeouts: dict = {}

    # -- pytest's side (the main thread) --------------------------------------------
    def start(self, items: list) -> None:
        self._items = list(items)
        self._index = {item.nodeid: i for i, item in enumerate(self._items)}
        self._thread = threading.Thread(target=self._run, name="course-ahead-lane", daemon=True)
        self._thread.start()

    def reached(self, nodeid: str) -> None:
        """pytest starts test ``nodeid``: the lane leaves it and every test before it, and
        if the lane is playing it now, pytest waits until it is done (its calls are then
        all kept)."""
        with self._lock:
            self._reached = self._index.get(nodeid, 0)
            playing = self._playing.get(nodeid)
        if playing is not None:
            playing.wait()

    def take(self, key: str) -> CallResult | None:
        """The kept result of a call with this key (waiting for it if it is running), or
        None when the lane made no such call."""
        with self._lock:
            queue = self._kept.get(key)
            future = queue.pop(0) if queue else None
        return future.result() if future is not None else None

    def stop(self) -> None:
        """End the lane and its worker (unless the caller keeps it warm and the lane has
        finished its last call); what it kept is dropped."""
        self._stopped.set()
        if not self._keep_workers:
            for worker in self.workers.values():
                worker.retire()
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():  # still in a call: end it, whoever keeps the worker
                for worker in self.workers.values():
                    worker.retire()
                self._thread.join(timeout=10)

    # -- the lane's thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._play_from_the_end()
        except BaseException:  # whatever stops the lane, pytest runs the tests itself
            if not self._stopped.is_set():
                raise

    def _play_from_the_end(self) -> None:
        # Claim no test before both workers are ready, or pytest could reach that test and
        # wait for a framework import instead of running the test itself.
        while not self._session.first_ready.wait(0.1):
            if self._stopped.is_set():
                return
        for worker in self.workers.values():
            if not worker.ensure_ready():
                return
        for index in self._order():
            item = self._items[index]
            with self._lock:
                if self._stopped.is_set():
                    return
                if index <= self._reached or item.nodeid in self._playing:
                    continue
                done = self._playing[item.nodeid] = threading.Event()
            try:
                self._play(item)
            except Exception:  # noqa: BLE001, S110 - a failing test body is pytest's business
                pass
            finally:
                self.played += 1
                done.set()

    def _order(self) -> list[int]:
        """The tests marked slow first, in the order pytest will reach them (so the one it
        needs first is started first), then every test from the last one backwards."""
        slow = [i for i, item in enumerate(self._items) if is_slow(item)]
        return slow + list(range(len(self._items) - 1, -1, -1))

    def _play(self, item) -> None:
        session = self._session
        task = session.course.task(dict(item.user_properties)["task"])
        framework = session._framework_of(item)
        visibility = session.visibility(item)
        stand_in = _StandIn(self, session, item)
        params = getattr(getattr(item, "callspec", None), "params", {})
        kwargs = {}
        for name in inspect.signature(item.obj).parameters:
            if name == "judge":
                kwargs[name] = Judge(stand_in, framework, visibility, task.time_limit, task.id)
            elif name == "expected":
                kwargs[name] = Expected(stand_in, session.expected_key(item))
            elif name in params:
                kwargs[name] = params[name]
            else:
                return  # a fixture this lane cannot give: pytest runs the test alone
        item.obj(**kwargs)

    def _call(self, framework: str, request: dict, arrays: dict, timeout: float, shared: bool = False) -> CallResult:
        if self._stopped.is_set():
            raise _LaneStopped
        key = call_key(framework, request, arrays, timeout)
        future: Future = Future()
        with self._lock:
            made = self._shared.get(key) if shared else None
            if made is None:
                self._kept[key].append(future)
                if shared:
                    self._shared[key] = future
        if made is not None:  # a shared call this lane made for another test: made once
            result = made.result()
            if result is None:
                raise _NotKept
            return result
        try:
            result = self._session.call_on(self.workers, framework, request, arrays, timeout)
        except BaseException:
            future.set_result(None)  # pytest makes this call itself
            raise
        # pytest makes a call that is not shareable again itself, so that two lanes never
        # turn a slow call into a failure.
        kept = not self._stopped.is_set() and result.shareable
        future.set_result(result if kept else None)
        return result


class _LaneStopped(Exception):
    """The grading ended while the lane was still playing a test."""


class _NotKept(Exception):
    """A shared call this lane made for another test was not kept (it timed out or
    crashed): the lane leaves the test, and pytest makes the call itself."""


class _StandIn:
    """What the lane's Judge and Expected see instead of the session: calls go to the
    lane's worker, nothing is recorded, and a timeout slows down only the lane's own calls."""

    def __init__(self, lane: AheadLane, session, item):
        self._lane, self._session = lane, session
        self.timeouts = lane.timeouts
        session.load_expected(item)

    def __getattr__(self, name):
        return getattr(self._session, name)

    def call(self, framework: str, request: dict, arrays: dict, timeout: float, shared: bool = False) -> CallResult:
        return self._lane._call(framework, request, arrays, timeout, shared)

    def note_tolerance(self, atol: float, rtol: float) -> None:
        pass

    def record(self, key: str, value) -> None:
        pass

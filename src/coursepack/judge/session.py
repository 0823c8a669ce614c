"""One grading run inside pytest: the plugin that gives tests their ``judge`` and ``expected``.

:class:`GradingSession` is handed to ``pytest.main`` as a plugin by
:func:`coursepack.grading.grader.grade`. For each test it provides the ``judge`` fixture
(calls into the submission, run by a :class:`~coursepack.judge.worker.Worker` per
framework) and the ``expected`` fixture (values recorded from the reference solutions),
keeps each test's outcome as a :class:`~coursepack.reports.results.TestResult`, and, when
a test fails, compares what the submission returned with the fingerprints of the task's
catalogued mistakes so the message can name the mistake. In ``record`` mode (the
reference solutions as the submission) it keeps what was returned instead, which
``course build`` stores as the expected values.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import importlib.util

from coursepack.judge import expected_values
from coursepack.course.config import Course
from coursepack.testing.diagnose import ATOL, RTOL, GradingFailure
from coursepack.errors import CourseError
from coursepack.judge import fingerprints, lanes
from coursepack.course.mistakes import PUBLIC_INDEX
from coursepack.reports.results import TestResult
from coursepack.testing import Expected, Judge
from coursepack.judge.worker import CallResult, Worker

MODES = ("check", "grade", "record")
# Seconds the import of one module of a submission may take (never more than the test's
# own limit). With the framework already loaded a correct module imports in well under a
# second; code at the top level of a file that never ends costs this, once per module.
IMPORT_TIME_LIMIT = 10.0
# A run of fewer tasks than this keeps one lane, unless one of its tests is marked slow
# (see GradingSession._worth_a_second_lane and pytest_collection_finish).
MIN_TASKS_FOR_TWO_LANES = 3


class GradingSession:
    """A pytest plugin object: fixtures, collection rules and result capture."""
    def __init__(self, course: Course, submission: Path, frameworks: tuple[str, ...], mode: str,
                 tasks: set[str] | None = None, hide: list[Path] | None = None,
                 pool: dict[str, Worker] | None = None, progress: Callable[[str, dict], None] | None = None,
                 lane_pool: dict[str, Worker] | None = None):
        assert mode in MODES
        self._progress = progress
        self.course, self.submission, self.frameworks, self.mode = course, submission, frameworks, mode
        self.only_tasks = tasks
        self.hide = hide or []
        self.results: list[TestResult] = []
        self.errors: list[str] = []
        self.recorded: dict[str, dict[str, np.ndarray]] = {}
        # Workers by framework; a batch passes its own dict to keep them warm across submissions.
        self._pool = pool
        self._workers: dict[str, Worker] = pool if pool is not None else {}
        self._expected: dict[str, dict[str, np.ndarray]] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._hidden_dir: Path | None = None
        self._public_dir: Path | None = None
        self._symbols = {s: t for t in course.tasks for s in t.symbols}
        self._shared: dict[str, object] = {}
        self.worker_peak_mb = 0.0
        self.timeouts: dict[tuple[str, str], float] = {}  # (framework, task) -> the limit it hit
        self._imports: dict[tuple[str, str], CallResult | None] = {}  # (framework, module) -> failure
        self._shared_results: dict[str, CallResult] = {}  # call key -> result, for shared calls
        # What each test received from the worker, call by call, keyed by (visibility, test
        # file stem, test name, framework): matched against the fingerprints of known mistakes.
        self.calls: dict[tuple[str, str, str, str], list[dict[str, np.ndarray]]] = {}
        self._current: tuple[str, str, str, str] | None = None
        self._tolerance: dict[tuple[str, str, str, str], tuple[float, float]] = {}
        self.mistakes = fingerprints.Index(course.public_tests / expected_values.FOLDER / PUBLIC_INDEX)
        self._import_lock = threading.Lock()
        self._load_lock = threading.Lock()     # files read once, whichever lane asks first
        self._lane_workers: dict[str, Worker] = {}   # the second lane's, once they are started
        self._lanes_allowed = False
        # The second lane's workers kept warm by the caller across gradings (warm checks).
        self._lane_pool = lane_pool
        for kept in (pool, lane_pool):
            # A pooled worker that an earlier grading retired (its lane stopped in the middle
            # of a call) never starts again: a new one takes its place. (One retired during
            # this grading stays retired: that grading is being ended.)
            for framework in [fw for fw, w in (kept or {}).items() if w.retired]:
                del kept[framework]
        self._lane: lanes.AheadLane | None = None
        self.lane_calls = (0, 0)
        self.first_ready = threading.Event()   # a worker of the first lane has taken a call

    # -- used by testing.Judge / testing.Expected ---------------------------------
    @property
    def recording(self) -> bool:
        return self.mode == "record"

    def target(self, symbol: str, framework: str) -> str:
        task = self._symbols.get(symbol)
        if task is None:
            raise CourseError(f"a test asks for {symbol!r}, which no task of course.toml lists in its symbols",
                              path=self.course.path, fix="add it to the task's symbols")
        return f"{task.module(framework)}:{symbol}"

    def call(self, framework: str, request: dict, arrays: dict, timeout: float, shared: bool = False) -> CallResult:
        """Run one request of the current test: the second lane's kept result if it made
        this very call, else on this session's own worker. A ``shared`` call that an
        earlier test made already gets that test's result (testing.Judge.run)."""
        key = lanes.call_key(framework, request, arrays, timeout)
        result = self._shared_results.get(key) if shared else None
        if result is None and self._lane is not None:
            result = self._lane.take(key)
        if result is None:
            result = self.call_on(self._workers, framework, request, arrays, timeout)
        if shared and result.shareable:
            self._shared_results[key] = result
        if self._current is not None:
            self.calls[self._current].append(fingerprints.observed(result))
        return result

    def call_on(self, workers: dict[str, Worker], framework: str, request: dict, arrays: dict,
                timeout: float) -> CallResult:
        """Run one request on the worker for ``framework`` in ``workers`` (started if needed)."""
        worker = self._worker(workers, framework)
        worker.load(self.submission, self.worker_files(framework))
        worker.ensure_ready()  # before the shared import step: never hold it while a framework loads
        if workers is self._workers:
            self.first_ready.set()
        for module in modules_of(request):
            failure = self._import_step(worker, framework, module, timeout)
            if failure is not None:
                return failure
        return worker.call(request, arrays, timeout)

    def _worker(self, workers: dict[str, Worker], framework: str) -> Worker:
        worker = workers.get(framework)
        if worker is None:
            worker = Worker(
                framework=framework, submission=self.submission,
                packages=self.course.package_dirs(framework),
                shared_files=self.worker_files(framework), hide=self.hide, memory_mb=self.course.memory_mb)
            workers[framework] = worker
        return worker

    def warm_up(self, lanes_allowed: int = 1) -> None:
        """Start the workers now, without waiting for them: each imports its framework
        while pytest collects the tests. With two lanes allowed and no batch pool, a second
        worker per framework is started too, for the :class:`~coursepack.judge.lanes.AheadLane`
        (both import their framework at once: the first test waits a little longer, and the
        second lane has the rest of the run to play). A batch pool keeps one lane per
        submission; a ``lane_pool`` keeps the second lane's workers warm too. A run that
        is not worth a second lane from its tasks alone gets one once its tests are
        collected if one of them is slow (:meth:`pytest_collection_finish`)."""
        for framework in self.frameworks:
            self._start(self._workers, framework)
        self._lanes_allowed = lanes_allowed >= 2 and (self._pool is None or self._lane_pool is not None)
        if self._lanes_allowed and self._worth_a_second_lane():
            self._start_second_lane()

    def _start_second_lane(self) -> None:
        self._lane_workers = self._lane_pool if self._lane_pool is not None else {}
        for framework in self.frameworks:
            self._start(self._lane_workers, framework)

    def _start(self, workers: dict[str, Worker], framework: str) -> None:
        worker = self._worker(workers, framework)
        worker.load(self.submission, self.worker_files(framework))
        if not worker.running:
            worker.start(wait=False)

    def _worth_a_second_lane(self) -> bool:
        """A run of a few tasks ends about when a second worker would be ready: there the
        second framework import would only compete with the first (``bench/grading.py``).
        Workers already warm in a lane pool cost nothing to use."""
        if self.only_tasks is None or len(self.only_tasks) >= MIN_TASKS_FOR_TWO_LANES:
            return True
        pooled = self._lane_pool or {}
        return all(fw in pooled and pooled[fw].running for fw in self.frameworks)

    def note_tolerance(self, atol: float, rtol: float) -> None:
        """The tolerance the running test compares with (the loosest, if it compares twice)."""
        if self._current is not None:
            old = self._tolerance.get(self._current, (atol, rtol))
            self._tolerance[self._current] = (max(old[0], atol), max(old[1], rtol))

    def worker_files(self, framework: str) -> dict[str, Path]:
        """The trusted files copied in beside the submission (``course.toml``'s shared files)."""
        return {n: self.course.shared_source(n) for n in self.course.shared_files}

    def _import_step(self, worker: Worker, framework: str, module: str, timeout: float) -> CallResult | None:
        """Import ``module`` of the submission on its own, once per grading; the failure
        (None if it imported) that every call needing it then gets at once.

        Every call still imports the module again in its own fresh child: this step only
        makes code at a file's top level that hangs, crashes or exhausts the memory cost
        one short limit, instead of a test's full limit in every test. The two lanes share
        the verdict: whichever needs a module first imports it, the other waits for that."""
        key = (framework, module)
        with self._import_lock:
            if key not in self._imports:
                result = worker.call({"framework": framework, "import": module}, {},
                                     min(IMPORT_TIME_LIMIT, timeout))
                path = module.replace(".", "/")
                file = f"{path}/__init__.py" if (self.submission / path).is_dir() else f"{path}.py"
                self._imports[key] = None if result.ok else dataclasses.replace(result, during_import=file)
            return self._imports[key]

    def shared_module(self, name: str):
        """Import a trusted shared file (e.g. toylang) into the grader, once."""
        with self._load_lock:
            if name not in self._shared:
                path = self.course.shared_source(f"{name}.py")
                spec = importlib.util.spec_from_file_location(f"_course_shared_{name}", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._shared[name] = module
            return self._shared[name]

    def record(self, key: str, value: np.ndarray) -> None:
        stem, _, rest = key.partition("::")
        self.recorded.setdefault(stem, {})[rest] = np.asarray(value)

    def expected_value(self, key: str) -> np.ndarray:
        stem, _, rest = key.partition("::")
        values = self._expected.get(stem)
        if values is None:
            raise RuntimeError(f"no recorded expected values for {stem}: run `course build`")
        if rest not in values:
            raise RuntimeError(f"no recorded expected value {rest!r} in {stem}: run `course build`")
        return values[rest]

    def expected_names(self, prefix: str) -> list[str]:
        """Output names recorded under ``prefix`` (``stem::test/[label/]``)."""
        stem, _, rest = prefix.partition("::")
        values = self._expected.get(stem, {})
        return sorted(k[len(rest):] for k in values if k.startswith(rest) and "/" not in k[len(rest):])

    def close(self) -> None:
        if self._lane is not None:
            self._lane.stop()
        # Calls made by each lane's workers (bench/ prints them; the lanes' tests count them).
        self.lane_calls = (sum(w.calls for w in self._workers.values()),
                           sum(w.calls for w in self._lane_workers.values()))
        for worker in self._lane_workers.values():  # started before the tests, even if no lane ran
            if self._lane_pool is None:
                worker.retire()
            self.worker_peak_mb = max(self.worker_peak_mb, worker.peak_mb)
        for worker in self._workers.values():
            self.worker_peak_mb = max(self.worker_peak_mb, worker.peak_mb)
            if self._pool is None:
                worker.close()
        if self._pool is None:
            self._workers.clear()

    # -- pytest hooks ---------------------------------------------------------------
    def pytest_configure(self, config):
        config.addinivalue_line("markers", "task(id, slow=False): the course.toml task this test belongs to; "
                                           "slow: a second lane starts it first")

    def pytest_generate_tests(self, metafunc):
        if "framework" in metafunc.fixturenames:
            metafunc.parametrize("framework", list(self.frameworks))

    def pytest_collection_modifyitems(self, session, config, items):
        keep = []
        for item in items:
            marker = item.get_closest_marker("task")
            if marker is None or not marker.args:
                self.errors.append(f"{item.nodeid}: test has no @task(...) marker; it was not run")
                continue
            task_id = marker.args[0]
            if task_id not in {t.id for t in self.course.tasks}:
                self.errors.append(f"{item.nodeid}: unknown task {task_id!r}; it was not run")
                continue
            if self.only_tasks and task_id not in self.only_tasks:
                continue
            item.user_properties.append(("task", task_id))
            keep.append(item)
        items[:] = keep
        for item in items:
            key = (dict(item.user_properties)["task"], self._framework_of(item))
            self._counts[key] = self._counts.get(key, 0) + 1

    def pytest_collection_finish(self, session):
        if self._progress:
            self._progress("collected", {"total": len(session.items)})
        if (not self._lane_workers and self._lanes_allowed and len(session.items) >= 2
                and any(map(lanes.is_slow, session.items))):
            # A training experiment outlasts a framework import: worth a second worker
            # even in a check of its one task (the lane plays it while pytest runs the rest).
            self._start_second_lane()
        if self._lane_workers and len(session.items) >= 2:
            self._lane = lanes.AheadLane(self, self._lane_workers, keep_workers=self._lane_pool is not None)
            self._lane.start(session.items)

    def _test_key(self, item) -> tuple[str, str, str, str]:
        return (self.visibility(item), Path(str(item.fspath)).stem, item.originalname, self._framework_of(item))

    def pytest_runtest_setup(self, item):
        if self._lane is not None:
            self._lane.reached(item.nodeid)
        self._current = self._test_key(item)
        self.calls[self._current] = []
        if self._progress:
            self._progress("start", {"task": dict(item.user_properties)["task"], "framework": self._framework_of(item),
                                     "test": item.name})

    def _framework_of(self, item) -> str:
        callspec = getattr(item, "callspec", None)
        if callspec and "framework" in callspec.params:
            return callspec.params["framework"]
        return self.frameworks[0]

    def visibility(self, item) -> str:
        path = Path(str(item.fspath)).resolve()
        return "hidden" if self._hidden_dir and self._hidden_dir in path.parents else "public"

    @pytest.fixture
    def judge(self, request, framework):
        task = self.course.task(dict(request.node.user_properties)["task"])
        return Judge(self, framework, self.visibility(request.node), task.time_limit, task.id)

    @pytest.fixture
    def expected(self, request):
        self.load_expected(request.node)
        return Expected(self, self.expected_key(request.node))

    def expected_key(self, item) -> str:
        """``visibility/stem::test``: where the test's recorded values live."""
        return f"{self.visibility(item)}/{Path(str(item.fspath)).stem}::{item.originalname}"

    def load_expected(self, item) -> None:
        """Read the recorded values of ``item``'s test file, once (not when recording)."""
        stem = self.expected_key(item).partition("::")[0]
        with self._load_lock:
            if not self.recording and stem not in self._expected:
                self._expected[stem] = expected_values.load(self._expected_dir(item), Path(str(item.fspath)).stem)

    def _expected_dir(self, item) -> Path:
        if self.visibility(item) == "hidden":
            return self.course.hidden_tests / expected_values.FOLDER
        return self.course.public_tests / expected_values.FOLDER

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            self._capture(item, call, report)

    def _capture(self, item, call, report) -> None:
        task = self.course.task(dict(item.user_properties)["task"])
        framework = self._framework_of(item)
        visibility = self.visibility(item)
        n = self._counts.get((task.id, framework), 1) + self._hidden_not_collected(task.id)
        max_score = task.points * self._weight / n
        message = ""
        if report.failed:
            exc = call.excinfo.value if call.excinfo else None
            if isinstance(exc, GradingFailure):
                message = str(exc)
            elif isinstance(exc, CourseError):
                message = str(exc)
            elif visibility == "hidden" and self.mode != "record":
                message = f"the test could not complete ({type(exc).__name__}); tell your instructor"
            else:
                message = f"{type(exc).__name__}: {exc}"
            named = self._known_mistake(item, task.id)
            if named:
                message = f"{message} {named}".strip()
        name = item.nodeid.split("/")[-1]
        self.results.append(TestResult(
            name=name, task=task.id, framework=framework, visibility=visibility,
            passed=report.passed, score=max_score if report.passed else 0.0, max_score=max_score,
            message=message, seconds=round(report.duration, 3)))
        if self._progress:
            self._progress("done", {"task": task.id, "framework": framework, "test": item.name,
                                    "passed": report.passed, "seconds": report.duration})

    def _known_mistake(self, item, task_id: str) -> str:
        """The names of the catalogued mistakes whose fingerprint this failed test matches."""
        if self.mode == "record":
            return ""
        key = self._test_key(item)
        visibility, stem, test, framework = key
        path = self._expected_dir(item) / f"{fingerprints.file_stem(stem)}.npz"
        atol, rtol = self._tolerance.get(key, (ATOL, RTOL))
        return self.mistakes.describe(
            self.mistakes.match(path, task_id, test, framework, self.calls.get(key, []), atol, rtol))

    @property
    def task_ids(self) -> set[str]:
        return {t.id for t in self.course.tasks}

    @property
    def task_files(self) -> set[str]:
        """The task files of the tracks graded (``course_torch/attention.py``, ...)."""
        return {t.files[fw] for t in self.course.tasks for fw in self.frameworks}

    # -- counts for check mode -------------------------------------------------------
    hidden_counts: dict[str, int] = {}

    @property
    def _weight(self) -> float:
        return 1.0 / len(self.frameworks)

    def _hidden_not_collected(self, task_id: str) -> int:
        return self.hidden_counts.get(task_id, 0) if self.mode == "check" else 0


def modules_of(request: dict) -> list[str]:
    """The submission's modules a worker request imports, each package before its modules
    (``course_torch``, ``course_torch.attention``)."""
    targets = [request["build"]["target"]] if request.get("build") else []
    targets += [step["call"] for step in request.get("steps", []) if ":" in step.get("call", "")]
    modules: list[str] = []
    for target in targets:
        parts = target.partition(":")[0].split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name not in modules:
                modules.append(name)
    return modules

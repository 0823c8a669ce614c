"""What a test file uses: the ``task`` marker, the ``judge`` and the ``expected`` values.

Tests are written once for every framework. A test builds its inputs with NumPy,
asks the ``judge`` to run a piece of the submission on them (in the sandboxed worker,
never in this process), and compares the arrays that come back with ``expected``
values recorded from the reference solution by ``course build``::

    @task("sdpa")
    def test_weights_sum_to_one(judge, expected):
        rng = np.random.default_rng(0)
        q = rng.standard_normal((2, 3, 4, 8), dtype=np.float32)
        out = judge.function("scaled_dot_product_attention")(
            query=q, key=q, value=q, returns=("output", "weights"))
        expected.check(out)

``judge.function(name)`` calls a function of the submission; ``judge.module(name,
init=..., weights=...)`` builds a module, loads canonical weights into it and calls it.
Canonical weights are NumPy arrays in the layout described in
:mod:`coursepack.testing.layouts`.

Everything a test file may import lives in this package, and nothing here runs student
code: :mod:`.layouts` (canonical weights), :mod:`.masking` (properties of an MLM masking),
:mod:`.toyeval` (the toy-language experiment's settings and evaluation sets) and
:mod:`.diagnose` (the comparison and the hints it gives). The package is part of every
recording's digest: changing it means running ``course build``.
"""

from __future__ import annotations

import builtins
import re

import numpy as np
import pytest

from coursepack.course.stubs import STUB_PREFIX
from coursepack.testing.diagnose import ATOL, RTOL, GradingFailure, compare

__all__ = ["task", "GradingFailure", "ATOL", "RTOL", "require", "key_mask", "Judge", "Expected"]


def task(task_id: str, *, slow: bool = False):
    """Mark a test as part of a task of ``course.toml`` (its points come from there).

    ``slow=True`` marks a test that takes far longer than the others (a training
    experiment): a second grading lane starts such tests first, while the first lane
    works through the short ones. It changes when a test runs, never its result. (The
    project's own suite has a ``slow`` pytest marker of its own, unrelated.)
    """
    return pytest.mark.task(task_id, slow=slow) if slow else pytest.mark.task(task_id)


def key_mask(lengths, length: int) -> np.ndarray:
    """(B, length) bool: True for the first ``lengths[b]`` positions of row b (real tokens)."""
    return np.arange(length)[None, :] < np.asarray(lengths)[:, None]


def require(condition: bool, message: str) -> None:
    """Fail the test with ``message`` (shown to the student) unless ``condition`` holds."""
    if not condition:
        raise GradingFailure(message)


class Judge:
    """Runs pieces of the submission in the worker and returns plain NumPy arrays."""

    def __init__(self, session, framework: str, visibility: str, timeout: float, task: str = ""):
        self._session = session
        self.framework = framework
        self.visibility = visibility
        self.timeout = timeout
        self.task = task

    def shared(self, name: str):
        """The course's trusted copy of a shared module (e.g. ``toylang``), for the test's own use."""
        return self._session.shared_module(name)

    def target(self, name: str) -> str:
        """``module:symbol`` of the submission's ``name`` in this framework (for :meth:`run`)."""
        return self._session.target(name, self.framework)

    def function(self, name: str):
        """A callable that runs the submission's function ``name`` on keyword arguments."""
        target = self._session.target(name, self.framework)

        def call(*, returns=("output",), grad_inputs=(), cotangents=None, seed=0, **kwargs):
            arrays, args = _split(kwargs)
            return self.run(steps=[{"call": target, "args": args, "save": "out"}],
                            returns=_returns(returns), arrays=arrays,
                            grad=_grad(grad_inputs, cotangents, False, arrays), seed=seed)
        return call

    def module(self, name: str, *, init: dict, weights: dict[str, np.ndarray] | None = None,
               mode: str = "eval", seed: int = 0) -> "ModuleHandle":
        """A handle on ``name(**init)`` with canonical ``weights`` loaded (eval mode by default)."""
        return ModuleHandle(self, self._session.target(name, self.framework), init, weights or {}, mode, seed)

    def run(self, *, steps: list[dict], returns: dict[str, str], arrays: dict[str, np.ndarray],
            build: dict | None = None, grad: dict | None = None, seed: int = 0,
            timeout: float | None = None, shared: bool = False) -> dict[str, np.ndarray]:
        """Low-level call: the request format of the worker (see judge/runtime/driver.py).

        ``shared=True``: tests that look at one run from different sides make the same
        call, and each gets the result of the first one made (once per grading lane: if
        both lanes reach it at the same moment, both make it). A call that timed out or
        crashed is not shared: the next test makes it again.
        """
        request = {"framework": self.framework, "seed": seed, "build": build, "steps": steps,
                   "returns": returns, "grad": grad}
        limit = timeout or self.timeout
        # One endless loop must not cost the full limit once per test: after a timeout in a
        # task, its other tests get a tenth of the limit (at least 3 s), which still lets
        # the tests that do not reach the loop pass.
        if (self.framework, self.task) in self._session.timeouts:
            limit = min(limit, max(3.0, limit / 10))
        result = self._session.call(self.framework, request, arrays, limit, shared=shared)
        if not result.ok:
            if result.failure == "timeout" and self.task and not result.during_import:
                self._session.timeouts[(self.framework, self.task)] = limit
            raise GradingFailure(_explain(result, self.visibility, self.task, self._session))
        # Exactly the arrays asked for: a worker that returns fewer (or others) gains nothing.
        wanted = set(returns)
        if grad:
            wanted |= {f"grad:{n}" for n in grad["inputs"]}
        missing = sorted(wanted - set(result.outputs))
        if missing:  # (parameter gradients are checked by name against the recording)
            raise GradingFailure(f"your code's result lacks {', '.join(missing)}")
        return result.outputs


class ModuleHandle:
    def __init__(self, judge: Judge, target: str, init: dict, weights: dict, mode: str, seed: int):
        self.judge, self.target, self.init, self.weights = judge, target, init, weights
        self.mode, self.seed = mode, seed

    def __call__(self, *, returns=("output",), method: str | None = None, grad_inputs=(),
                 grad_params: bool = False, cotangents: dict | None = None, **kwargs):
        arrays, args = _split(kwargs)
        arrays.update({f"w:{k}": np.asarray(v) for k, v in self.weights.items()})
        call = "model" if method is None else f"model.{method}"
        return self.judge.run(
            build={"target": self.target, "kwargs": self.init, "mode": self.mode},
            steps=[{"call": call, "args": args, "save": "out"}],
            returns=_returns(returns), arrays=arrays,
            grad=_grad(grad_inputs, cotangents, grad_params, arrays), seed=self.seed)


    def calls(self, *, grad_inputs=(), grad_params: bool = False, cotangents: dict | None = None,
              **named):
        """Several method calls on one module, each result saved under its name and returned.

        ``named`` maps a result name to ``(method, kwargs)``; a kwarg ``"$name"`` passes an
        earlier result, e.g. ``logits=("mlm_logits", {"hidden": "$hidden"})``.
        """
        arrays = {f"w:{k}": np.asarray(v) for k, v in self.weights.items()}
        steps = []
        for name, (method, kwargs) in named.items():
            step_arrays, args = _split(kwargs)
            for key, value in step_arrays.items():
                arrays[f"{name}.{key}"] = value
                args[key] = f"@{name}.{key}"
            call = "model" if method in (None, "forward") else f"model.{method}"
            steps.append({"call": call, "args": args, "save": name})
        return self.judge.run(
            build={"target": self.target, "kwargs": self.init, "mode": self.mode},
            steps=steps, returns={name: name for name in named}, arrays=arrays,
            grad=_grad(grad_inputs, cotangents, grad_params, arrays), seed=self.seed)


class Expected:
    """Reference values for one test, recorded by ``course build`` from the solutions."""

    def __init__(self, session, key: str):
        self._session = session
        self._key = key

    def check(self, outputs: dict[str, np.ndarray], *, label: str = "", names=None,
              atol: float = ATOL, rtol: float = RTOL) -> None:
        """Fail with a diagnostic unless every output matches its recorded reference."""
        prefix = f"{self._key}/{label}/" if label else f"{self._key}/"
        self._session.note_tolerance(atol, rtol)  # a known mistake is matched within it too
        if self._session.recording:
            for name in list(names or outputs):
                self._session.record(prefix + name, outputs[name])
            return
        # The names to compare come from the recording, never from what the worker sent.
        names = list(names) if names else self._session.expected_names(prefix)
        if not names:
            raise RuntimeError(f"no recorded expected values under {prefix}: run `course build`")
        problems = []
        hidden = self._key.startswith("hidden/")  # a hidden test's hints name no index or value
        for name in names:
            want = self._session.expected_value(prefix + name)
            problem = compare(name, outputs.get(name), want, atol=atol, rtol=rtol, hidden=hidden)
            if problem:
                problems.append(problem)
        if problems:
            raise GradingFailure(" ".join(problems))

    def value(self, name: str, *, label: str = "", compute=None) -> np.ndarray:
        """A recorded reference array (``compute()`` supplies it when recording)."""
        key = f"{self._key}/{label}/{name}" if label else f"{self._key}/{name}"
        if self._session.recording:
            value = compute()
            self._session.record(key, value)
            return value
        return self._session.expected_value(key)


def _split(kwargs: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays go to the worker as npz entries (@name); everything else as JSON."""
    arrays, args = {}, {}
    for key, value in kwargs.items():
        if isinstance(value, np.ndarray):
            arrays[key] = value
            args[key] = "@" + key
        else:
            args[key] = value
    return arrays, args


def _returns(returns) -> dict[str, str]:
    if isinstance(returns, str):
        return {returns: "out"}
    if len(returns) == 1:
        return {returns[0]: "out"}
    return {name: f"out.{i}" for i, name in enumerate(returns) if name is not None}


def _grad(inputs, cotangents, params: bool, arrays: dict) -> dict | None:
    if not (inputs or params):
        return None
    if not cotangents:
        raise ValueError("gradient checks need cotangents={output_name: array}")
    cots = {}
    for name, value in cotangents.items():
        arrays[f"cot:{name}"] = value
        cots[name] = f"cot:{name}"
    return {"inputs": list(inputs), "params": params, "cotangents": cots}


_FAILURE_TEXT = {
    "timeout": "your code did not finish in time ({message}); look for an endless loop or a "
               "Python loop over tensor elements",
    "crash": "the process running your code crashed: {message} (out of memory, or a native crash)",
    "exit": "your code ended the process: {message}; remove sys.exit/os._exit/quit calls",
    "invalid": "your code's result was not plain numeric arrays: {message}",
    "contract": "{message}",
}


# What the worker reports is written by the student's process. Public tests show it as
# it is (their inputs are public). Hidden tests let through only what cannot spell out
# a hidden input: the name of a built-in exception and which task file it came from
# (no line number, no function name, no message: each could be chosen by code that has
# seen the input).
_WHERE = re.compile(r'^File "(course_\w+(?:/\w+)*\.py)", line \d{1,6}, in [\w<>]{1,80}$')
_TYPE = re.compile(r"^[A-Za-z_]\w{0,60}$")
_BUILTIN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                                if isinstance(value, type) and issubclass(value, BaseException))
_STUB_TASK = re.compile("^" + STUB_PREFIX.format(task=r"(\w+)"))  # what a stub raises (stubs.stub_marker)


def _hidden_where(where: str | None, session) -> str | None:
    match = _WHERE.match(where or "")
    return f'File "{match.group(1)}"' if match and match.group(1) in session.task_files else None


def _explain(result, visibility: str, task: str | None = None, session=None) -> str:
    if result.during_import:  # the import step failed: every test of that file says so at once
        if result.failure == "timeout":
            return (f"importing {result.during_import} did not finish in time ({result.message}): code at "
                    "the top level of that file (or of a file it imports) never ends; keep only imports "
                    "and definitions there, and run code inside functions")
        return f"importing {result.during_import} failed: {_explain_call(result, visibility, task, session)}"
    return _explain_call(result, visibility, task, session)


def _explain_call(result, visibility: str, task: str | None = None, session=None) -> str:
    hidden = visibility == "hidden"
    if result.failure == "exception":
        if hidden:
            where = _hidden_where(result.where, session) if session is not None else None
            kind = result.exception_type if result.exception_type in _BUILTIN_EXCEPTIONS else "an exception"
        else:
            where = result.where or None
            kind = result.exception_type if _TYPE.match(result.exception_type or "") else "an exception"
        where = f" at {where}" if where else ""
        if kind == "NotImplementedError":
            # A public test that reaches another task's stub (pretraining builds a MiniBert)
            # says which task to write first.
            stub = None if hidden or session is None else _STUB_TASK.match(result.message or "")
            other = stub.group(1) if stub and stub.group(1) != task and stub.group(1) in session.task_ids else None
            if other:
                return f"needs task {other} first (`course check {other}`): not implemented yet{where}"
            return f"not implemented yet{where}"
        if hidden:
            return f"your code raised {kind}{where}"
        return f"your code raised {kind}: {result.message}{where}"
    if hidden and result.failure in ("contract", "invalid"):
        return ("your code does not follow the interface its docstring describes (names, types or "
                "shapes); the public tests show the details")
    return _FAILURE_TEXT.get(result.failure, "{message}").format(message=result.message)

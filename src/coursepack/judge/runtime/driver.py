"""Carry out one request on student code, whatever the framework.

Runs in the worker's child process, next to student code; the grader re-checks
everything it returns. A request is JSON::

    {"seed": 0,
     "build": {"target": "course_torch.multihead:MultiHeadAttention",
               "kwargs": {"d_model": 8, "num_heads": 2}, "mode": "eval"} | null,
     "steps": [{"call": "model", "args": {"x": "@x", "key_mask": "@key_mask"}, "save": "out"},
               {"mode": "eval"},
               {"call": "model.mlm_logits", "args": {"hidden": "$out"}, "save": "logits"}],
     "returns": {"output": "out.0", "weights": "out.1"},
     "grad": {"inputs": ["x"], "params": true, "cotangents": {"output": "cot:output"}} | null}

``{"import": "course_torch.attention"}`` only imports that module (the grader's import
step). ``"@name"`` is an array of ``inputs.npz`` (turned into a framework tensor), ``"$name"``
an earlier result (``"$out.0"`` its first element), anything else a JSON literal.
Arrays named ``w:<canonical name>`` are canonical weights loaded into the built
module (see ``coursepack/testing/layouts.py`` for the layout). With ``grad``, the loss
``sum(output * cotangent)`` is differentiated with respect to the listed inputs and,
with ``params``, every canonical weight; results come back as ``grad:<name>``.

Each framework adapter (``torch_adapter.py``, ``tf_adapter.py``) supplies the few
framework-specific pieces used here.
"""

from __future__ import annotations

import importlib

import numpy as np


class ContractError(Exception):
    """The submission does not follow the documented interface (names, types, shapes)."""


def handle(adapter, request: dict, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if request.get("import"):
        # The grader's import step: only import one module of the submission, so that code
        # at its top level that never ends, ends the process or eats the memory is met once,
        # under a short limit of its own, rather than by every test.
        importlib.import_module(request["import"])
        return {}
    seed = int(request.get("seed", 0))
    grad = request.get("grad") or {}
    weights = {k[2:]: v for k, v in arrays.items() if k.startswith("w:")}
    model = None
    build = request.get("build")
    if build:
        adapter.seed(seed)
        model = adapter.build(symbol(build["target"]), build.get("kwargs", {}), build["target"])
        adapter.set_mode(model, build.get("mode", "eval"))
        if weights and adapter.NEEDS_WARMUP:
            # Frameworks that create weights on the first call (Keras) run the steps once
            # to build every layer, then load the weights and run again for real. The
            # warm-up ends before a call of anything but the model (a training loop) when
            # calls of the model came first: those built the layers, and training twice
            # would only cost time.
            _run_steps(adapter, request, arrays, model, grad_inputs=set(), tape=None, warmup=True)
        if weights:
            adapter.load_canonical(model, weights)

    adapter.seed(seed)
    with adapter.gradient_tape(bool(grad)) as tape:
        env = _run_steps(adapter, request, arrays, model, set(grad.get("inputs", [])), tape)
        outputs = {name: lookup(env, ref) for name, ref in request.get("returns", {}).items()}
        loss = None
        if grad:
            loss = sum(adapter.weighted_sum(outputs[name], arrays[cot])
                       for name, cot in grad.get("cotangents", {}).items())

    result = {name: adapter.to_numpy(value, name) for name, value in outputs.items()}
    if grad:
        inputs = {name: env["@" + name] for name in grad.get("inputs", [])}
        params = adapter.canonical_parameters(model) if grad.get("params") and model is not None else {}
        for name, array in adapter.gradients(tape, loss, inputs, params).items():
            result["grad:" + name] = array
    return result


def _run_steps(adapter, request, arrays, model, grad_inputs, tape, warmup: bool = False) -> dict:
    env: dict[str, object] = {}
    called: set[str] = set()
    if model is not None:
        env["model"] = model

    def resolve(value):
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:]
            tensor = adapter.to_tensor(arrays[name], watch=name in grad_inputs, tape=tape)
            if name in grad_inputs:
                env["@" + name] = tensor
            return tensor
        if isinstance(value, str) and value.startswith("$"):
            return lookup(env, value[1:])
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    for step in request["steps"]:
        if "mode" in step:
            adapter.set_mode(env["model"], step["mode"])
            continue
        target = step["call"]
        on_model = target.split(".")[0] == "model"
        if warmup and not on_model and "model" in called:
            break
        if on_model:
            called.add("model")
        fn = lookup(env, target) if target.split(".")[0] in env else symbol(target)
        args = {k: resolve(v) for k, v in step.get("args", {}).items()}
        result = adapter.call(fn, args)
        if step.get("save"):
            env[step["save"]] = result
    return env


def symbol(target: str):
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ContractError(f"{module_name.replace('.', '/')}.py defines no {attr!r}; keep the "
                            f"name and signature from the stub") from None


def lookup(env: dict, ref: str):
    head, *rest = ref.split(".")
    value = env[head]
    for part in rest:
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


def plain_numbers(value, name: str) -> np.ndarray:
    """A Python float or a list of numbers (e.g. a list of losses) as float64."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                for v in value):
        return np.asarray(value, dtype=np.float64)
    if type(value) is float:
        return np.asarray(value, dtype=np.float64)
    raise ContractError(f"{name}: expected a tensor, got {type(value).__name__}")


def layout_mismatch(expected: set[str], found: set[str], spell=None) -> ContractError | None:
    """The message for canonical names the module lacks or has beyond the layout;
    ``spell`` turns a canonical name into the one the track's module uses."""
    spell = spell or (lambda name: name)
    missing = sorted(spell(n) for n in expected - found)
    extra = sorted(spell(n) for n in found - expected)
    if not (missing or extra):
        return None
    lines = []
    if missing:
        lines.append("the docstring's layout has parameters your module lacks: " + ", ".join(missing[:8]))
    if extra:
        lines.append("your module has parameters the layout does not: " + ", ".join(extra[:8]))
    return ContractError("; ".join(lines) + ". Name the layers exactly as the docstring says and "
                         "create no other weights.")

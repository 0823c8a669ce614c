"""PyTorch adapter: turns a framework-neutral request into calls on student code.

Runs inside the worker's child process, next to student code, so it is written to be
simple rather than trusted: whatever it returns is re-checked by the grader.

Canonical weights (one layout for every framework, NumPy float32 arrays), named
``<attribute path>.<leaf>``:

=============  ===================  =====================================
module         leaf                 layout
=============  ===================  =====================================
nn.Linear      ``kernel``           (in_features, out_features) = weight.T
nn.Linear      ``bias``             (out_features,)
nn.Embedding   ``embeddings``       (num_embeddings, dim) = weight
nn.LayerNorm   ``gamma``, ``beta``  (dim,) = weight, bias
nn.Parameter   its attribute name   as stored
=============  ===================  =====================================

So ``MultiHeadAttention.w_q`` holds ``w_q.kernel`` and ``w_q.bias``, and block 0 of a
mini-BERT holds ``blocks.0.attention.w_q.kernel``.
"""

from __future__ import annotations

import importlib

import numpy as np

torch = None  # imported in setup(), before any student code runs


class ContractError(Exception):
    """The submission does not follow the documented interface (names, types, shapes)."""


def setup() -> None:
    global torch
    import torch as _torch

    torch = _torch
    torch.set_num_threads(1)


def handle(request: dict, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    torch.manual_seed(int(request.get("seed", 0)))
    grad = request.get("grad") or {}
    grad_inputs = set(grad.get("inputs", []))
    env: dict[str, object] = {}

    def resolve(value):
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:]
            return _to_tensor(arrays[name], requires_grad=name in grad_inputs, env=env, name=name)
        if isinstance(value, str) and value.startswith("$"):
            return _lookup(env, value[1:])
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    build = request.get("build")
    if build:
        cls = _symbol(build["target"])
        try:
            model = cls(**build.get("kwargs", {}))
        except NotImplementedError:
            raise
        if not isinstance(model, torch.nn.Module):
            raise ContractError(f"{build['target']}(...) did not create a torch.nn.Module "
                                f"(got {type(model).__name__})")
        weights = {k[2:]: v for k, v in arrays.items() if k.startswith("w:")}
        if weights:
            load_canonical(model, weights)
        model.train(build.get("mode", "eval") == "train")
        env["model"] = model

    for step in request["steps"]:
        target = step["call"]
        fn = _lookup(env, target) if target.split(".")[0] in env else _symbol(target)
        args = {k: resolve(v) for k, v in step.get("args", {}).items()}
        result = fn(**args)
        if step.get("save"):
            env[step["save"]] = result

    outputs = {name: _lookup(env, ref) for name, ref in request.get("returns", {}).items()}
    arrays_out: dict[str, np.ndarray] = {}
    for name, value in outputs.items():
        arrays_out[name] = _to_numpy(value, name)

    if grad:
        loss = 0
        for name, cot in grad.get("cotangents", {}).items():
            value = outputs[name]
            loss = loss + (value * torch.from_numpy(arrays[cot])).sum()
        loss.backward()
        for name in grad_inputs:
            tensor = env["@" + name]
            g = tensor.grad if tensor.grad is not None else torch.zeros_like(tensor)
            arrays_out["grad:" + name] = g.detach().numpy().copy()
        if grad.get("params") and "model" in env:
            for key, (param, transpose) in canonical_parameters(env["model"]).items():
                g = param.grad if param.grad is not None else torch.zeros_like(param)
                g = g.detach().numpy()
                arrays_out["grad:" + key] = (g.T if transpose else g).copy()
    return arrays_out


def canonical_parameters(model) -> dict:
    """Map canonical names to (parameter, stored transposed?) for a module tree."""
    nn = torch.nn
    found: dict[str, tuple] = {}
    seen: set[int] = set()
    for mod_name, mod in model.named_modules():
        prefix = f"{mod_name}." if mod_name else ""
        for pname, param in mod.named_parameters(recurse=False):
            if id(param) in seen:  # a tied weight is loaded once, under its first name
                continue
            seen.add(id(param))
            transpose = False
            if isinstance(mod, nn.Linear) and pname == "weight":
                leaf, transpose = "kernel", True
            elif isinstance(mod, nn.Embedding) and pname == "weight":
                leaf = "embeddings"
            elif isinstance(mod, nn.LayerNorm):
                leaf = {"weight": "gamma", "bias": "beta"}.get(pname, pname)
            else:
                leaf = pname
            found[prefix + leaf] = (param, transpose)
    return found


def load_canonical(model, weights: dict[str, np.ndarray]) -> None:
    params = canonical_parameters(model)
    missing = sorted(set(weights) - set(params))
    extra = sorted(set(params) - set(weights))
    if missing or extra:
        lines = []
        if missing:
            lines.append("the docstring's layout has parameters your module lacks: " + ", ".join(missing[:8]))
        if extra:
            lines.append("your module has parameters the layout does not: " + ", ".join(extra[:8]))
        raise ContractError("; ".join(lines) + ". Name the layers exactly as the docstring says "
                            "(e.g. self.w_q = nn.Linear(...)) and create no other parameters.")
    with torch.no_grad():
        for key, array in weights.items():
            param, transpose = params[key]
            value = torch.from_numpy(array.T.copy() if transpose else array.copy())
            if tuple(param.shape) != tuple(value.shape):
                shown = tuple(array.T.shape) if transpose else tuple(array.shape)
                raise ContractError(f"parameter for {key} has shape {tuple(param.shape)}, the layout "
                                    f"needs {shown}; check the layer's in/out sizes")
            param.copy_(value)


def _symbol(target: str):
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ContractError(f"{module_name.replace('.', '/')}.py defines no {attr!r}; keep the "
                            f"name and signature from the stub") from None


def _lookup(env: dict, ref: str):
    head, *rest = ref.split(".")
    value = env[head]
    for part in rest:
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


def _to_tensor(array: np.ndarray, requires_grad: bool, env: dict, name: str):
    tensor = torch.from_numpy(array.copy())
    if requires_grad:
        tensor.requires_grad_(True)
        env["@" + name] = tensor
    return tensor


def _to_numpy(value, name: str) -> np.ndarray:
    if type(value) is torch.Tensor:  # exactly a tensor: subclasses could lie
        return value.detach().cpu().numpy().copy()
    if isinstance(value, torch.Tensor):
        raise ContractError(f"{name}: returned a {type(value).__name__}, a subclass of torch.Tensor; "
                            "return a plain torch.Tensor")
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                for v in value):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, float) and type(value) is float:
        return np.asarray(value, dtype=np.float64)
    raise ContractError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")

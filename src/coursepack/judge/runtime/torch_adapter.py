"""PyTorch pieces of the request driver (see driver.py).

Canonical weights map onto ``nn.Module`` parameters by attribute path: ``nn.Linear``
holds ``kernel`` = weight.T and ``bias``; ``nn.Embedding`` holds ``embeddings`` =
weight; ``nn.LayerNorm`` holds ``gamma``/``beta`` = weight/bias; any other parameter
keeps its attribute name (``mlm_bias``). Messages about the layout name parameters as
the student's module has them (``w_q.weight``), not by their canonical names.
"""

from __future__ import annotations

import contextlib

import numpy as np

from driver import ContractError, layout_mismatch, plain_numbers

torch = None  # imported in setup(), before any student code runs
NEEDS_WARMUP = False


def setup() -> None:
    global torch
    import torch as _torch

    torch = _torch
    torch.set_num_threads(1)
    # Every call runs in a fresh child forked from this process, so whatever PyTorch loads
    # lazily would be loaded again by every call. The first optimiser alone imports
    # torch._dynamo (about 1.5 s): load it here, once, with no student code around.
    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.AdamW([weight], lr=0.1)
    (weight * weight).sum().backward()
    optimizer.step()


def seed(value: int) -> None:
    torch.manual_seed(value)


def build(cls, kwargs: dict, target: str):
    model = cls(**kwargs)
    if not isinstance(model, torch.nn.Module):
        raise ContractError(f"{target}(...) did not create a torch.nn.Module (got {type(model).__name__})")
    return model


def set_mode(model, mode: str) -> None:
    model.train(mode == "train")


def call(fn, args: dict):
    return fn(**args)


def to_tensor(array: np.ndarray, watch: bool, tape):
    tensor = torch.from_numpy(array.copy())
    if watch:
        tensor.requires_grad_(True)
    return tensor


def to_numpy(value, name: str) -> np.ndarray:
    if type(value) is torch.Tensor:  # exactly a tensor: a subclass could lie
        return value.detach().cpu().numpy().copy()
    if isinstance(value, torch.Tensor):
        raise ContractError(f"{name}: returned a {type(value).__name__}, a subclass of torch.Tensor; "
                            "return a plain torch.Tensor")
    return plain_numbers(value, name)


@contextlib.contextmanager
def gradient_tape(enabled: bool):
    yield None  # autograd records by itself


def weighted_sum(value, cotangent: np.ndarray):
    if not isinstance(value, torch.Tensor):
        raise ContractError("expected a tensor to differentiate")
    return (value * torch.from_numpy(cotangent)).sum()


def gradients(tape, loss, inputs: dict, params: dict) -> dict[str, np.ndarray]:
    loss.backward()
    out = {}
    for name, tensor in inputs.items():
        g = tensor.grad if tensor.grad is not None else torch.zeros_like(tensor)
        out[name] = g.detach().numpy().copy()
    for key, (param, transpose) in params.items():
        g = param.grad if param.grad is not None else torch.zeros_like(param)
        g = g.detach().numpy()
        out[key] = (g.T if transpose else g).copy()
    return out


# The leaf of a canonical name as PyTorch spells it (messages name the module's own parameters).
_TORCH_LEAF = {"kernel": "weight", "embeddings": "weight", "gamma": "weight", "beta": "bias"}


def _parameters(model):
    """(canonical name, the parameter's own name, parameter, stored transposed?) of a module
    tree, each parameter once (a tied weight under its first name)."""
    nn = torch.nn
    seen: set[int] = set()
    for mod_name, mod in model.named_modules():
        prefix = f"{mod_name}." if mod_name else ""
        for pname, param in mod.named_parameters(recurse=False):
            if id(param) in seen:
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
            yield prefix + leaf, prefix + pname, param, transpose


def canonical_parameters(model) -> dict:
    """Canonical name -> (parameter, stored transposed?) for a module tree."""
    return {canonical: (param, transpose) for canonical, _, param, transpose in _parameters(model)}


def _spelled(canonical: str) -> str:
    """How a module would name the parameter of a canonical name (``w_q.kernel`` is ``w_q.weight``)."""
    head, _, leaf = canonical.rpartition(".")
    return f"{head}.{_TORCH_LEAF[leaf]}" if head and leaf in _TORCH_LEAF else canonical


def load_canonical(model, weights: dict[str, np.ndarray]) -> None:
    own = {canonical: name for canonical, name, _, _ in _parameters(model)}
    params = canonical_parameters(model)
    problem = layout_mismatch(set(weights), set(params), spell=lambda n: own.get(n) or _spelled(n))
    if problem:
        raise problem
    with torch.no_grad():
        for key, array in weights.items():
            param, transpose = params[key]
            value = torch.from_numpy(array.T.copy() if transpose else array.copy())
            if tuple(param.shape) != tuple(value.shape):
                shown = tuple(array.T.shape) if transpose else tuple(array.shape)
                raise ContractError(f"parameter for {own[key]} has shape {tuple(param.shape)}, the layout "
                                    f"needs {shown}; check the layer's in/out sizes")
            param.copy_(value)

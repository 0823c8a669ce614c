"""The same canonical weights in the PyTorch and the TensorFlow solution give the same
outputs and gradients: max abs difference <= 1e-5 per component, 1e-4 for mini-BERT.

Both solutions run in this process through the very request driver the worker uses, so
the weight layouts of both adapters are checked too.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

from conftest import REPO
from coursepack.testing import layouts

pytest.importorskip("tensorflow")
sys.path[:0] = [str(REPO / "src" / "coursepack" / "judge" / "runtime"), str(REPO / "solutions")]
driver = importlib.import_module("driver")
ADAPTERS = {}
for name in ("torch", "tf"):
    ADAPTERS[name] = importlib.import_module(f"{name}_adapter")
    ADAPTERS[name].setup()


def run(framework, *, target, steps, returns, arrays, init=None, weights=None, grad=None):
    module, symbol = target
    request = {"seed": 0, "steps": steps, "returns": returns, "grad": grad,
               "build": {"target": f"course_{framework}.{module}:{symbol}", "kwargs": init, "mode": "eval"}
               if init is not None else None}
    if init is None:
        for step in steps:
            if step.get("call") == "fn":
                step["call"] = f"course_{framework}.{module}:{symbol}"
    data = dict(arrays)
    data.update({f"w:{k}": v for k, v in (weights or {}).items()})
    return driver.handle(ADAPTERS[framework], request, data)


def both(**kwargs):
    import copy

    return run("torch", **copy.deepcopy(kwargs)), run("tf", **copy.deepcopy(kwargs))


def assert_same(a, b, atol):
    assert set(a) == set(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        diff = float(np.max(np.abs(a[key].astype(np.float64) - b[key]))) if a[key].size else 0.0
        assert diff <= atol, f"{key}: max abs difference {diff:.2e} > {atol:g}"


def normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def key_mask(lengths, length):
    return np.arange(length)[None, :] < np.asarray(lengths)[:, None]


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_product_attention(causal):
    rng = np.random.default_rng(0)
    arrays = {"q": normal(rng, 3, 2, 5, 8), "k": normal(rng, 3, 2, 5, 8), "v": normal(rng, 3, 2, 5, 4),
              "m": key_mask([5, 3, 1], 5)[:, None, None, :], "cot": normal(rng, 3, 2, 5, 4)}
    steps = [{"call": "fn", "args": {"query": "@q", "key": "@k", "value": "@v", "mask": "@m", "causal": causal},
              "save": "out"}]
    a, b = both(target=("attention", "scaled_dot_product_attention"), steps=steps, arrays=arrays,
                returns={"output": "out.0", "weights": "out.1"},
                grad={"inputs": ["q", "k", "v"], "params": False, "cotangents": {"output": "cot"}})
    assert_same(a, b, 1e-5)


def test_additive_attention():
    rng = np.random.default_rng(1)
    weights = layouts.random_weights(layouts.additive_attention(6, 4, 8), rng)
    arrays = {"q": normal(rng, 2, 3, 6), "k": normal(rng, 2, 5, 4), "v": normal(rng, 2, 5, 3),
              "m": key_mask([5, 2], 5), "cot": normal(rng, 2, 3, 3)}
    steps = [{"call": "model", "args": {"query": "@q", "keys": "@k", "values": "@v", "key_mask": "@m"}, "save": "out"}]
    a, b = both(target=("attention", "AdditiveAttention"), init=dict(query_dim=6, key_dim=4, hidden_dim=8),
                weights=weights, steps=steps, arrays=arrays, returns={"context": "out.0", "weights": "out.1"},
                grad={"inputs": ["q", "k"], "params": True, "cotangents": {"context": "cot"}})
    assert_same(a, b, 1e-5)


def test_positional_encodings():
    a, b = both(target=("positional", "sinusoidal_encoding"), arrays={}, returns={"pe": "out"},
                steps=[{"call": "fn", "args": {"max_len": 50, "d_model": 16}, "save": "out"}])
    assert_same(a, b, 1e-5)
    rng = np.random.default_rng(2)
    weights = layouts.random_weights(layouts.token_and_position(11, 7, 6), rng)
    a, b = both(target=("positional", "TokenAndPositionEmbedding"), init=dict(vocab_size=11, max_len=7, d_model=6),
                weights=weights, arrays={"ids": rng.integers(0, 11, (3, 5))}, returns={"out": "out"},
                steps=[{"call": "model", "args": {"input_ids": "@ids"}, "save": "out"}])
    assert_same(a, b, 1e-5)


@pytest.mark.parametrize("kind", ["self", "cross", "causal"])
def test_multihead_attention(kind):
    rng = np.random.default_rng(3)
    weights = layouts.random_weights(layouts.multihead_attention(12), rng)
    arrays = {"x": normal(rng, 3, 4, 12), "ctx": normal(rng, 3, 6, 12), "cot": normal(rng, 3, 4, 12)}
    args = {"x": "@x"}
    if kind == "cross":
        args.update(context="@ctx", key_mask="@m")
        arrays["m"] = key_mask([6, 2, 4], 6)
    elif kind == "self":
        args["key_mask"] = "@m"
        arrays["m"] = key_mask([4, 1, 3], 4)
    else:
        args["causal"] = True
    a, b = both(target=("multihead", "MultiHeadAttention"), init=dict(d_model=12, num_heads=3), weights=weights,
                steps=[{"call": "model", "args": args, "save": "out"}], arrays=arrays,
                returns={"output": "out.0", "weights": "out.1"},
                grad={"inputs": ["x"], "params": True, "cotangents": {"output": "cot"}})
    assert_same(a, b, 1e-5)


def test_encoder_block():
    rng = np.random.default_rng(4)
    weights = layouts.random_weights(layouts.encoder_block(16, 24), rng)
    arrays = {"x": normal(rng, 3, 5, 16), "m": key_mask([5, 3, 2], 5), "cot": normal(rng, 3, 5, 16)}
    a, b = both(target=("encoder", "TransformerEncoderBlock"), init=dict(d_model=16, num_heads=4, d_ff=24),
                weights=weights, arrays=arrays, returns={"out": "out"},
                steps=[{"call": "model", "args": {"x": "@x", "key_mask": "@m"}, "save": "out"}],
                grad={"inputs": ["x"], "params": True, "cotangents": {"out": "cot"}})
    assert_same(a, b, 1e-5)


def test_mini_bert():
    rng = np.random.default_rng(5)
    config = dict(vocab_size=29, max_len=10, d_model=16, num_heads=4, d_ff=24, num_layers=2, num_segments=2,
                  num_classes=3)
    weights = layouts.random_weights(layouts.mini_bert(29, 10, 16, 24, 2, 2, 3), rng)
    ids = rng.integers(4, 29, (3, 9))
    arrays = {"ids": ids, "seg": rng.integers(0, 2, (3, 9)), "m": key_mask([9, 5, 2], 9)}
    steps = [{"call": "model", "args": {"input_ids": "@ids", "segment_ids": "@seg", "key_mask": "@m"}, "save": "h"},
             {"call": "model.mlm_logits", "args": {"hidden": "$h"}, "save": "logits"},
             {"call": "model.classify", "args": {"hidden": "$h"}, "save": "cls"}]
    a, b = both(target=("bert", "MiniBert"), init=config, weights=weights, arrays=arrays, steps=steps,
                returns={"hidden": "h", "mlm_logits": "logits", "class_logits": "cls"})
    assert_same(a, b, 1e-4)

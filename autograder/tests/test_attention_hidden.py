"""Hidden tests: scaled dot-product and additive attention (instructors only)."""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import key_mask, require, task


def normal(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(np.float32)


@task("sdpa")
def test_sdpa_large_head_dim_needs_scaling(judge, expected):
    # With d_k = 64 unscaled scores are 8x too large and the softmax saturates.
    rng = np.random.default_rng(101)
    q, k, v = normal(rng, 2, 4, 6, 64), normal(rng, 2, 4, 7, 64), normal(rng, 2, 4, 7, 5)
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, returns=("output", "weights"))
    expected.check(out)


@task("sdpa")
def test_sdpa_no_head_axis_and_value_dim(judge, expected):
    rng = np.random.default_rng(102)
    q, k, v = normal(rng, 3, 2, 5), normal(rng, 3, 7, 5), normal(rng, 3, 7, 9)
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, returns=("output", "weights"))
    expected.check(out)


@task("sdpa")
def test_sdpa_causal_and_padding_together(judge, expected):
    rng = np.random.default_rng(103)
    q, k, v = normal(rng, 3, 2, 6, 4), normal(rng, 3, 2, 6, 4), normal(rng, 3, 2, 6, 4)
    mask = key_mask([6, 3, 5], 6)[:, None, None, :]
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, mask=mask, causal=True, returns=("output", "weights"))
    expected.check(out)


@task("sdpa")
def test_sdpa_causal_rectangular(judge, expected):
    rng = np.random.default_rng(104)
    q, k, v = normal(rng, 2, 3, 4), normal(rng, 2, 6, 4), normal(rng, 2, 6, 2)
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, causal=True, returns=("output", "weights"))
    expected.check(out)


@task("sdpa")
def test_sdpa_full_mask_per_query(judge, expected):
    rng = np.random.default_rng(105)
    q, k, v = normal(rng, 2, 2, 4, 4), normal(rng, 2, 2, 5, 4), normal(rng, 2, 2, 5, 3)
    mask = rng.random((2, 2, 4, 5)) < 0.6
    mask[0, 1, 3] = False
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, mask=mask, returns=("output", "weights"))
    expected.check(out)


@task("sdpa")
def test_sdpa_masked_values_do_not_leak(judge, expected):
    rng = np.random.default_rng(106)
    q, k, v = normal(rng, 2, 3, 4), normal(rng, 2, 5, 4), normal(rng, 2, 5, 3)
    mask = key_mask([5, 3], 5)[:, None, :]
    fn = judge.function("scaled_dot_product_attention")
    first = fn(query=q, key=k, value=v, mask=mask, returns=("output", None))
    k2, v2 = k.copy(), v.copy()
    k2[1, 3:] = normal(rng, 2, 4, scale=50)
    v2[1, 3:] = normal(rng, 2, 3, scale=50)
    second = fn(query=q, key=k2, value=v2, mask=mask, returns=("output", None))
    require(np.allclose(first["output"], second["output"], atol=1e-6),
            "changing the keys and values of masked positions changed the output")
    expected.check(first)


@task("sdpa")
def test_sdpa_gradients_causal(judge, expected):
    rng = np.random.default_rng(107)
    q, k, v = normal(rng, 2, 3, 5, 4), normal(rng, 2, 3, 5, 4), normal(rng, 2, 3, 5, 4)
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, causal=True, returns=("output", "weights"),
        grad_inputs=("query", "key", "value"),
        cotangents={"output": normal(rng, 2, 3, 5, 4), "weights": normal(rng, 2, 3, 5, 5)})
    expected.check(out, names=["grad:query", "grad:key", "grad:value"])


@task("sdpa")
def test_sdpa_gradients_finite_with_empty_row(judge, expected):
    rng = np.random.default_rng(108)
    q, k, v = normal(rng, 1, 3, 4), normal(rng, 1, 4, 4), normal(rng, 1, 4, 2)
    mask = np.ones((1, 3, 4), bool)
    mask[0, 0] = False
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, mask=mask, returns=("output", None), grad_inputs=("query", "key", "value"),
        cotangents={"output": normal(rng, 1, 3, 2)})
    require(all(np.isfinite(out[f"grad:{n}"]).all() for n in ("query", "key", "value")),
            "gradients must stay finite when a query row is fully masked")
    expected.check(out)


@task("additive")
def test_additive_gradients(judge, expected):
    rng = np.random.default_rng(111)
    weights = layouts.random_weights(layouts.additive_attention(5, 6, 7), rng)
    module = judge.module("AdditiveAttention", init=dict(query_dim=5, key_dim=6, hidden_dim=7),
                          weights=weights)
    out = module(query=normal(rng, 3, 2, 5), keys=normal(rng, 3, 4, 6), values=normal(rng, 3, 4, 3),
                 key_mask=key_mask([4, 1, 3], 4), returns=("context", "weights"),
                 grad_inputs=("query", "keys", "values"), grad_params=True,
                 cotangents={"context": normal(rng, 3, 2, 3)})
    expected.check(out)


@task("additive")
def test_additive_many_queries(judge, expected):
    rng = np.random.default_rng(112)
    weights = layouts.random_weights(layouts.additive_attention(4, 4, 16), rng)
    module = judge.module("AdditiveAttention", init=dict(query_dim=4, key_dim=4, hidden_dim=16),
                          weights=weights)
    out = module(query=normal(rng, 2, 7, 4), keys=normal(rng, 2, 3, 4), values=normal(rng, 2, 3, 4),
                 key_mask=key_mask([2, 3], 3), returns=("context", "weights"))
    expected.check(out)


@task("additive")
def test_additive_fully_masked_sequence(judge, expected):
    rng = np.random.default_rng(113)
    weights = layouts.random_weights(layouts.additive_attention(3, 3, 4), rng)
    module = judge.module("AdditiveAttention", init=dict(query_dim=3, key_dim=3, hidden_dim=4),
                          weights=weights)
    out = module(query=normal(rng, 2, 2, 3), keys=normal(rng, 2, 3, 3), values=normal(rng, 2, 3, 2),
                 key_mask=key_mask([3, 0], 3), returns=("context", "weights"))
    require(np.isfinite(out["context"]).all(), "a sequence with no real key must not give NaN")
    require(np.all(out["context"][1] == 0) and np.all(out["weights"][1] == 0),
            "a sequence with no real key must give zero weights and a zero context")
    expected.check(out)

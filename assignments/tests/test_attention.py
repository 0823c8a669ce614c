"""Public tests: scaled dot-product attention and additive (Bahdanau) attention.

Run them with ``course check sdpa additive``. Each test builds its inputs with NumPy,
runs your code in a separate process and compares what comes back with values
recorded from the reference solution (``expected``), or checks a property any correct
answer has (``require``). Masks follow the course convention: True = may attend.
"""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import key_mask, require, task
from coursepack.testing.diagnose import weights_problem


def normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# -- scaled dot-product attention ------------------------------------------------------

@task("sdpa")
def test_sdpa_without_mask(judge, expected):
    rng = np.random.default_rng(1)
    q, k, v = normal(rng, 2, 3, 4, 8), normal(rng, 2, 3, 5, 8), normal(rng, 2, 3, 5, 6)
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, returns=("output", "weights"))
    require(np.allclose(out["weights"].sum(-1), 1, atol=1e-5),
            "each row of the attention weights must sum to 1 (softmax over the keys, the last axis)")
    expected.check(out)


@task("sdpa")
def test_sdpa_padding_mask_differs_per_sample(judge, expected):
    rng = np.random.default_rng(2)
    q, k, v = normal(rng, 3, 2, 4, 8), normal(rng, 3, 2, 6, 8), normal(rng, 3, 2, 6, 5)
    mask = key_mask([6, 4, 1], 6)[:, None, None, :]          # (B, 1, 1, Tk) broadcasts
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, mask=mask, returns=("output", "weights"))
    problem = weights_problem(out["weights"], (3, 2, 4, 6), blocked=~mask)
    require(problem is None, problem)
    expected.check(out)


@task("sdpa")
def test_sdpa_causal(judge, expected):
    rng = np.random.default_rng(3)
    q, k, v = normal(rng, 2, 2, 5, 4), normal(rng, 2, 2, 5, 4), normal(rng, 2, 2, 5, 3)
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, causal=True, returns=("output", "weights"))
    w = out["weights"]
    require(w.shape == (2, 2, 5, 5) and np.all(np.triu(np.ones((5, 5), bool), 1) <= (w == 0)),
            "with causal=True, query i must give weight 0 to every key j > i")
    expected.check(out)


@task("sdpa")
def test_sdpa_fully_masked_row_is_zero_not_nan(judge, expected):
    rng = np.random.default_rng(4)
    q, k, v = normal(rng, 2, 3, 4), normal(rng, 2, 5, 4), normal(rng, 2, 5, 3)
    mask = np.ones((2, 3, 5), bool)
    mask[1, 2, :] = False                                     # nothing to attend to
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, mask=mask, returns=("output", "weights"))
    require(np.isfinite(out["output"]).all() and np.isfinite(out["weights"]).all(),
            "a query whose keys are all masked must not produce NaN")
    require(np.all(out["weights"][1, 2] == 0) and np.all(out["output"][1, 2] == 0),
            "a query whose keys are all masked must get all-zero weights and a zero output")
    expected.check(out)


@task("sdpa")
def test_sdpa_gradients(judge, expected):
    rng = np.random.default_rng(5)
    q, k, v = normal(rng, 2, 2, 3, 4), normal(rng, 2, 2, 4, 4), normal(rng, 2, 2, 4, 3)
    mask = key_mask([4, 2], 4)[:, None, None, :]
    out = judge.function("scaled_dot_product_attention")(
        query=q, key=k, value=v, mask=mask, returns=("output", "weights"),
        grad_inputs=("query", "key", "value"), cotangents={"output": normal(rng, 2, 2, 3, 3)})
    expected.check(out, names=["grad:query", "grad:key", "grad:value"])


# -- additive attention -----------------------------------------------------------------

@task("additive")
def test_additive_alignment_matrix(judge, expected):
    rng = np.random.default_rng(6)
    weights = layouts.random_weights(layouts.additive_attention(6, 4, 8), rng)
    module = judge.module("AdditiveAttention", init=dict(query_dim=6, key_dim=4, hidden_dim=8),
                          weights=weights)
    mask = key_mask([5, 2], 5)
    out = module(query=normal(rng, 2, 3, 6), keys=normal(rng, 2, 5, 4), values=normal(rng, 2, 5, 7),
                 key_mask=mask, returns=("context", "weights"))
    problem = weights_problem(out["weights"], (2, 3, 5), blocked=~mask[:, None, :])
    require(problem is None, problem)
    expected.check(out)


@task("additive")
def test_additive_without_mask(judge, expected):
    rng = np.random.default_rng(7)
    weights = layouts.random_weights(layouts.additive_attention(3, 3, 5), rng)
    module = judge.module("AdditiveAttention", init=dict(query_dim=3, key_dim=3, hidden_dim=5),
                          weights=weights)
    out = module(query=normal(rng, 3, 1, 3), keys=normal(rng, 3, 4, 3), values=normal(rng, 3, 4, 2),
                 returns=("context", "weights"))
    expected.check(out)

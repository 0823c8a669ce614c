"""Hidden tests: multi-head attention (instructors only)."""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import key_mask, require, task


def normal(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def mha(judge, rng, d_model, num_heads):
    weights = layouts.random_weights(layouts.multihead_attention(d_model), rng)
    return judge.module("MultiHeadAttention", init=dict(d_model=d_model, num_heads=num_heads), weights=weights)


@task("multihead")
def test_four_heads_different_lengths(judge, expected):
    rng = np.random.default_rng(131)
    out = mha(judge, rng, 16, 4)(x=normal(rng, 3, 6, 16), key_mask=key_mask([6, 1, 4], 6),
                                 returns=("output", "weights"))
    expected.check(out)


@task("multihead")
def test_causal_self_attention(judge, expected):
    rng = np.random.default_rng(132)
    out = mha(judge, rng, 12, 4)(x=normal(rng, 2, 5, 12), causal=True, returns=("output", "weights"))
    expected.check(out)


@task("multihead")
def test_cross_attention_rectangular_many_heads(judge, expected):
    rng = np.random.default_rng(133)
    out = mha(judge, rng, 12, 6)(x=normal(rng, 2, 3, 12), context=normal(rng, 2, 7, 12),
                                 key_mask=key_mask([7, 5], 7), returns=("output", "weights"))
    expected.check(out)


@task("multihead")
def test_gradients(judge, expected):
    rng = np.random.default_rng(134)
    out = mha(judge, rng, 8, 2)(x=normal(rng, 2, 4, 8), context=normal(rng, 2, 5, 8),
                                key_mask=key_mask([5, 3], 5), returns=("output", None),
                                grad_inputs=("x", "context"), grad_params=True,
                                cotangents={"output": normal(rng, 2, 4, 8)})
    expected.check(out)


@task("multihead")
def test_padded_context_does_not_leak(judge, expected):
    rng = np.random.default_rng(135)
    module = mha(judge, rng, 8, 4)
    x, ctx = normal(rng, 2, 3, 8), normal(rng, 2, 5, 8)
    mask = key_mask([5, 2], 5)
    first = module(x=x, context=ctx, key_mask=mask, returns=("output", None))
    ctx[1, 2:] = normal(rng, 3, 8, scale=30)
    second = module(x=x, context=ctx, key_mask=mask, returns=("output", None))
    require(np.allclose(first["output"], second["output"], atol=1e-5),
            "changing padded positions of the context changed the output")
    expected.check(first)


@task("multihead")
def test_one_head_and_one_feature_per_head(judge, expected):
    # The two ends of the head split in one test: a single head (d_head = d_model) and as
    # many heads as features (d_head = 1). A layer that is right only with one head (a
    # split or merge without the transpose, a scale by d_model instead of d_head) earns
    # nothing here, while a layer that mishandles num_heads=1 still fails.
    rng = np.random.default_rng(136)
    x, mask = normal(rng, 2, 4, 6), key_mask([4, 3], 4)
    for heads in (1, 6):
        out = mha(judge, rng, 6, heads)(x=x, key_mask=mask, returns=("output", "weights"))
        expected.check(out, label=f"{heads}_heads")

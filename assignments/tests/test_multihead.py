"""Public tests: multi-head attention as self-attention and as encoder-decoder attention.

Run them with ``course check multihead``. Several heads, batch > 1 and a different
padding per sample on purpose: a reshape without the head/sequence transpose can pass
with one head, never here.
"""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import key_mask, require, task


def normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


@task("multihead")
def test_self_attention_with_padding(judge, expected):
    rng = np.random.default_rng(31)
    weights = layouts.random_weights(layouts.multihead_attention(12), rng)
    mha = judge.module("MultiHeadAttention", init=dict(d_model=12, num_heads=3), weights=weights)
    out = mha(x=normal(rng, 2, 5, 12), key_mask=key_mask([5, 3], 5), returns=("output", "weights"))
    require(out["weights"].shape == (2, 3, 5, 5),
            f"weights must have shape (B, num_heads, Tq, Tk) = (2, 3, 5, 5), got {out['weights'].shape}")
    expected.check(out)


@task("multihead")
def test_cross_attention(judge, expected):
    rng = np.random.default_rng(32)
    weights = layouts.random_weights(layouts.multihead_attention(8), rng)
    mha = judge.module("MultiHeadAttention", init=dict(d_model=8, num_heads=2), weights=weights)
    x, context = normal(rng, 3, 4, 8), normal(rng, 3, 6, 8)
    # First without a mask: a shape problem here is about x and context, never the mask.
    shapes = mha(x=x, context=context, returns=("output", "weights"))
    require(shapes["weights"].shape == (3, 2, 4, 6),
            "in cross-attention the queries come from x (Tq = 4) and the keys and values from context "
            f"(Tk = 6): the weights must have shape (3, 2, 4, 6), got {shapes['weights'].shape}")
    out = mha(x=x, context=context, key_mask=key_mask([6, 2, 4], 6), returns=("output", "weights"))
    expected.check(out)


@task("multihead")
def test_weights_come_back_before_dropout(judge, expected):
    # Training mode with heavy dropout: the output is random, the returned weights are not.
    # In eval mode the same layer applies no dropout, so its output is exact again.
    rng = np.random.default_rng(33)
    weights = layouts.random_weights(layouts.multihead_attention(8), rng)
    init = dict(d_model=8, num_heads=2, dropout=0.5)
    x, mask = normal(rng, 2, 5, 8), key_mask([5, 3], 5)
    mha = judge.module("MultiHeadAttention", init=init, weights=weights, mode="train")
    # (A Keras layer takes its training mode as an argument of each call.)
    training = {"training": True} if judge.framework == "tf" else {}
    out = mha(x=x, key_mask=mask, returns=("output", "weights"), **training)
    require(out["weights"].shape == (2, 2, 5, 5) and np.allclose(out["weights"].sum(-1), 1, atol=1e-5),
            "in training mode the returned weights must still be the softmax before dropout (each row "
            "sums to 1); dropout applies only where the weights multiply the values")
    expected.check(out, names=["weights"])
    evaluated = judge.module("MultiHeadAttention", init=init, weights=weights)(
        x=x, key_mask=mask, returns=("output", "weights"))
    expected.check(evaluated, label="eval")

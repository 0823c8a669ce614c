"""Public tests: multi-head attention as self-attention and as encoder-decoder attention.

Run them with ``course check multihead``. Several heads, batch > 1 and a different
padding per sample on purpose: a reshape without the head/sequence transpose can pass
with one head, never here.
"""

import numpy as np

from coursepack import layouts
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
    out = mha(x=normal(rng, 3, 4, 8), context=normal(rng, 3, 6, 8), key_mask=key_mask([6, 2, 4], 6),
              returns=("output", "weights"))
    require(out["weights"].shape == (3, 2, 4, 6),
            "in cross-attention the queries come from x (Tq = 4) and the keys from context (Tk = 6)")
    expected.check(out)

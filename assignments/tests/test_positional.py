"""Public tests: sinusoidal positional encoding and the learned token+position embedding.

Run them with ``course check sinusoidal learned_position``.
"""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import require, task


@task("sinusoidal")
def test_sinusoidal_small_table(judge, expected):
    out = judge.function("sinusoidal_encoding")(max_len=6, d_model=8)
    pe = out["output"]
    require(pe.shape == (6, 8), f"the table must have shape (max_len, d_model) = (6, 8), got {pe.shape}")
    require(np.allclose(pe[0, 0::2], 0, atol=1e-6) and np.allclose(pe[0, 1::2], 1, atol=1e-6),
            "position 0 must encode as sin(0)=0 in the even columns and cos(0)=1 in the odd ones "
            "(interleaved layout)")
    expected.check(out)


@task("sinusoidal")
def test_sinusoidal_values_bounded(judge, expected):
    out = judge.function("sinusoidal_encoding")(max_len=40, d_model=16)
    pe = out["output"]
    require(pe.dtype == np.float32, f"the table must be float32, got {pe.dtype}")
    require(np.all(np.abs(pe) <= 1 + 1e-6), "every entry is a sine or a cosine, so lies in [-1, 1]")
    expected.check(out)


@task("learned_position")
def test_token_and_position_embedding(judge, expected):
    rng = np.random.default_rng(21)
    weights = layouts.random_weights(layouts.token_and_position(11, 7, 6), rng)
    module = judge.module("TokenAndPositionEmbedding", init=dict(vocab_size=11, max_len=7, d_model=6),
                          weights=weights)
    ids = rng.integers(0, 11, size=(2, 5))
    out = module(input_ids=ids)
    expected.check(out)


@task("learned_position")
def test_same_token_differs_by_position(judge):
    rng = np.random.default_rng(22)
    weights = layouts.random_weights(layouts.token_and_position(5, 4, 3), rng)
    module = judge.module("TokenAndPositionEmbedding", init=dict(vocab_size=5, max_len=4, d_model=3),
                          weights=weights)
    out = module(input_ids=np.full((1, 4), 2, dtype=np.int64))["output"]
    require(out.shape == (1, 4, 3), f"output must have shape (B, T, d_model) = (1, 4, 3), got {out.shape}")
    require(not np.allclose(out[0, 0], out[0, 1]),
            "the same token at two positions got the same vector: is the position embedding added?")

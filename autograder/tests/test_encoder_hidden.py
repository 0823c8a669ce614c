"""Hidden tests: the encoder block (instructors only)."""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import key_mask, task


def block(judge, rng, d_model, heads, d_ff):
    weights = layouts.random_weights(layouts.encoder_block(d_model, d_ff), rng)
    return judge.module("TransformerEncoderBlock", init=dict(d_model=d_model, num_heads=heads, d_ff=d_ff),
                        weights=weights)


@task("encoder_block")
def test_without_mask(judge, expected):
    rng = np.random.default_rng(141)
    x = (3 * rng.standard_normal((3, 4, 8))).astype(np.float32)
    expected.check(block(judge, rng, 8, 2, 16)(x=x))


@task("encoder_block")
def test_four_heads_padding(judge, expected):
    rng = np.random.default_rng(142)
    x = rng.standard_normal((3, 6, 16)).astype(np.float32)
    expected.check(block(judge, rng, 16, 4, 24)(x=x, key_mask=key_mask([6, 2, 5], 6)))


@task("encoder_block")
def test_gradients(judge, expected):
    rng = np.random.default_rng(143)
    x = rng.standard_normal((2, 4, 8)).astype(np.float32)
    out = block(judge, rng, 8, 2, 12)(x=x, key_mask=key_mask([4, 2], 4), grad_inputs=("x",), grad_params=True,
                                      cotangents={"output": rng.standard_normal((2, 4, 8)).astype(np.float32)})
    expected.check(out, atol=2e-5)

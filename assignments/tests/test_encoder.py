"""Public tests: the post-LayerNorm transformer encoder block.

Run them with ``course check encoder_block``. Dropout is off (eval mode).
"""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import key_mask, task


@task("encoder_block")
def test_encoder_block_forward(judge, expected):
    rng = np.random.default_rng(41)
    weights = layouts.random_weights(layouts.encoder_block(12, 20), rng)
    block = judge.module("TransformerEncoderBlock", init=dict(d_model=12, num_heads=3, d_ff=20),
                         weights=weights)
    x = rng.standard_normal((2, 5, 12)).astype(np.float32)
    expected.check(block(x=x, key_mask=key_mask([5, 3], 5)))


@task("encoder_block")
def test_encoder_block_small_inputs(judge, expected):
    # Inputs and biases of size 1e-3: the first LayerNorm sees a variance near 1e-6, where
    # its epsilon (the docstring's eps, 1e-12) matters.
    rng = np.random.default_rng(42)
    weights = layouts.random_weights(layouts.encoder_block(8, 16), rng)
    weights = {k: v * np.float32(1e-3) if k.endswith((".bias", ".beta")) else v for k, v in weights.items()}
    block = judge.module("TransformerEncoderBlock", init=dict(d_model=8, num_heads=2, d_ff=16), weights=weights)
    x = (1e-3 * rng.standard_normal((2, 4, 8))).astype(np.float32)
    expected.check(block(x=x, key_mask=key_mask([4, 2], 4)))

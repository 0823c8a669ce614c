"""Public tests: the post-LayerNorm transformer encoder block.

Run them with ``course check encoder_block``. Dropout is off (eval mode).
"""

import numpy as np

from coursepack import layouts
from coursepack.testing import key_mask, task


@task("encoder_block")
def test_encoder_block_forward(judge, expected):
    rng = np.random.default_rng(41)
    weights = layouts.random_weights(layouts.encoder_block(12, 20), rng)
    block = judge.module("TransformerEncoderBlock", init=dict(d_model=12, num_heads=3, d_ff=20),
                         weights=weights)
    x = rng.standard_normal((2, 5, 12)).astype(np.float32)
    expected.check(block(x=x, key_mask=key_mask([5, 3], 5)))

"""Hidden tests: positional encodings (instructors only)."""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing import task


@task("sinusoidal")
def test_sinusoidal_long_table(judge, expected):
    expected.check(judge.function("sinusoidal_encoding")(max_len=64, d_model=32))


@task("sinusoidal")
def test_sinusoidal_two_dims(judge, expected):
    expected.check(judge.function("sinusoidal_encoding")(max_len=9, d_model=2))


@task("sinusoidal")
def test_sinusoidal_wide(judge, expected):
    expected.check(judge.function("sinusoidal_encoding")(max_len=3, d_model=128), atol=2e-5)


@task("learned_position")
def test_embedding_full_length_batch(judge, expected):
    rng = np.random.default_rng(121)
    weights = layouts.random_weights(layouts.token_and_position(13, 9, 4), rng)
    module = judge.module("TokenAndPositionEmbedding", init=dict(vocab_size=13, max_len=9, d_model=4),
                          weights=weights)
    expected.check(module(input_ids=rng.integers(0, 13, size=(3, 9))))


@task("learned_position")
def test_embedding_gradients(judge, expected):
    rng = np.random.default_rng(122)
    weights = layouts.random_weights(layouts.token_and_position(7, 6, 5), rng)
    module = judge.module("TokenAndPositionEmbedding", init=dict(vocab_size=7, max_len=6, d_model=5),
                          weights=weights)
    out = module(input_ids=rng.integers(0, 7, size=(2, 4)), grad_params=True,
                 cotangents={"output": rng.standard_normal((2, 4, 5)).astype(np.float32)})
    expected.check(out)

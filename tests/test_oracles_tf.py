"""The TensorFlow multi-head attention agrees with keras.layers.MultiHeadAttention,
with transplanted weights, in self- and cross-attention with an attention mask."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
sys.path.insert(0, str(REPO / "solutions"))
from course_tf.multihead import MultiHeadAttention  # noqa: E402


def transplant(ours: MultiHeadAttention, d_model: int, heads: int, x, context):
    theirs = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads)
    theirs(x, context, context)  # build
    d_head = d_model // heads
    for dense, layer in ((theirs._query_dense, ours.w_q), (theirs._key_dense, ours.w_k),
                         (theirs._value_dense, ours.w_v)):
        dense.kernel.assign(tf.reshape(layer.kernel, (d_model, heads, d_head)))  # head h = features h*dh:(h+1)*dh
        dense.bias.assign(tf.reshape(layer.bias, (heads, d_head)))
    theirs._output_dense.kernel.assign(tf.reshape(ours.w_o.kernel, (heads, d_head, d_model)))
    theirs._output_dense.bias.assign(ours.w_o.bias)
    return theirs


@pytest.mark.parametrize("cross", [False, True])
def test_multihead_matches_keras_multihead_attention(cross):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((3, 5, 12)), tf.float32)
    context = tf.constant(rng.standard_normal((3, 7, 12)), tf.float32) if cross else x
    lengths = [7, 3, 5] if cross else [5, 2, 4]
    key_mask = tf.constant(np.arange(context.shape[1])[None, :] < np.array(lengths)[:, None])
    ours = MultiHeadAttention(12, 4)
    ours(x, context if cross else None, key_mask=key_mask)
    theirs = transplant(ours, 12, 4, x, context)
    out, weights = ours(x, context if cross else None, key_mask=key_mask)
    attention_mask = tf.broadcast_to(key_mask[:, None, :], (3, x.shape[1], context.shape[1]))
    ref, ref_weights = theirs(x, context, context, attention_mask=attention_mask, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(weights.numpy(), ref_weights.numpy(), atol=1e-5, rtol=1e-5)

"""Attention as a soft, differentiable look-up.

A query is compared with every key; the comparison scores are turned into
weights with a softmax over the keys, and the output is the weighted average
of the values.  The weights of all queries form the *alignment matrix*
(one row per query, one column per key, each row sums to 1).

This module implements two ways of scoring a query against a key:

* ``scaled_dot_product_attention``: score = q . k / sqrt(d_k), the form used
  by Transformers (fast: one matrix product for all pairs).
* ``AdditiveAttention``: score = v^T tanh(W_q q + W_k k), the form of
  Bahdanau et al. (2015) for encoder-decoder RNNs.

Shapes
------
``...`` stands for any number of leading batch dimensions (e.g. batch, or
batch and heads).  ``T_q`` is the number of queries, ``T_k`` the number of
keys (= number of values).  All float tensors are float32.

Mask convention (used throughout the course)
-------------------------------------------
A mask is a **boolean** tensor in which **True means "may attend"** (the key
is a real token and is visible from this query) and **False means
"blocked"** (padding, or a future position).  A mask of shape
``(..., T_q, T_k)``, or any shape that broadcasts to it, says for each query
which keys it may look at; a *key mask* of shape ``(B, T_k)`` marks the real
(non-padding) keys of each sequence and is broadcast over the queries.

Blocked keys get weight exactly 0.  A query row in which *every* key is
blocked has nothing to attend to: by convention its weights are all 0 and
its output is the zero vector (never NaN, and gradients stay finite).  Note
that this row then does not sum to 1.

Causal mask
-----------
With ``causal=True`` query position ``i`` may attend key position ``j`` only
when ``j <= i`` (positions are counted from 0 at the top-left corner, also
when ``T_q != T_k``).  A causal mask and an explicit mask combine with AND.

Keras: inside a ``keras.layers.Layer`` never name an argument of
``call`` ``mask`` (Keras gives that name a special meaning); the layers of
this course use ``key_mask``.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import keras
import tensorflow as tf

__all__ = ["masked_softmax", "scaled_dot_product_attention", "AdditiveAttention"]


def _check_mask(mask) -> tf.Tensor:
    mask = tf.convert_to_tensor(mask)
    if mask.dtype != tf.bool:
        raise TypeError(
            f"masks must be boolean (True = may attend), got dtype {mask.dtype.name}; "
            "an additive float mask is not accepted"
        )
    return mask


def masked_softmax(scores: tf.Tensor, mask: Optional[tf.Tensor] = None) -> tf.Tensor:
    """Softmax over the last axis that ignores blocked entries.

    Args:
        scores: float tensor (..., T_q, T_k) of attention scores.
        mask: optional bool tensor broadcastable to ``scores`` (True = may
            attend, see the module docstring).  None means nothing is blocked.

    Returns:
        weights: float tensor with the broadcast shape of ``scores`` and
        ``mask`` (normally (..., T_q, T_k)).  Along the last axis, the weights
        of the allowed entries are the softmax of their scores (the blocked
        entries are left out of the normalisation) and blocked entries are
        exactly 0.  A row with no allowed entry is all zeros.  No NaN may
        appear, neither in the result nor in gradients.

    Hint: setting blocked scores to ``-inf`` makes a fully blocked row
    ``0/0 = NaN``, also in the backward pass.  Use the most negative finite
    float (``scores.dtype.min``) instead, then set the blocked weights to
    exactly 0 afterwards.  ``tf.where(condition, x, y)`` broadcasts its three
    arguments, but ``x`` and ``y`` must have the same dtype (make the fill
    values tensors of ``scores.dtype``).
    """
    ### BEGIN SOLUTION
    scores = tf.convert_to_tensor(scores)
    if mask is None:
        return tf.nn.softmax(scores, axis=-1)
    mask = _check_mask(mask)
    very_negative = tf.constant(scores.dtype.min, dtype=scores.dtype)
    filled = tf.where(mask, scores, very_negative)
    weights = tf.nn.softmax(filled, axis=-1)
    # In a fully blocked row every score equals the same finite value, so the
    # softmax is uniform there; zeroing the blocked entries makes it all 0.
    return tf.where(mask, weights, tf.zeros((), dtype=weights.dtype))
    ### END SOLUTION


def scaled_dot_product_attention(
    query: tf.Tensor,
    key: tf.Tensor,
    value: tf.Tensor,
    mask: Optional[tf.Tensor] = None,
    causal: bool = False,
    dropout: Optional[Callable[[tf.Tensor], tf.Tensor]] = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Scaled dot-product attention (Vaswani et al., 2017).

    scores  = query @ key^T / sqrt(d_k)           (..., T_q, T_k)
    weights = softmax of the scores over the keys (last axis), with blocked
              keys excluded (see the module docstring for the mask
              convention and for fully blocked rows)
    output  = weights @ value                     (..., T_q, d_v)

    Dividing by sqrt(d_k) keeps the scores of order 1 when the entries of q
    and k are of order 1, so the softmax does not saturate as d_k grows.

    Args:
        query: (..., T_q, d_k) float tensor.
        key: (..., T_k, d_k) float tensor.
        value: (..., T_k, d_v) float tensor.
        mask: optional bool tensor broadcastable to (..., T_q, T_k); True =
            may attend, False = blocked.  For a key-padding mask of shape
            (B, T_k) pass ``key_mask[:, None, :]`` (or ``[:, None, None, :]``
            with a head axis).
        causal: if True, query ``i`` may only attend keys ``j <= i``
            (top-left aligned); combined with ``mask`` by AND.
        dropout: optional callable applied to the weights before they
            multiply the values (in a layer, its dropout:
            ``lambda w: self.dropout(w, training=training)``).  The returned
            weights are the ones *before* dropout.

    Returns:
        output: (..., T_q, d_v) float tensor.
        weights: (..., T_q, T_k) float tensor, the attention weights
            (rows sum to 1, except fully blocked rows, which are 0).

    Hint: ``tf.matmul(a, b, transpose_b=True)`` multiplies by ``b``
    transposed over its last two axes (and broadcasts the leading ones); use
    ``tf.shape`` for sizes that may only be known when the function runs.
    """
    ### BEGIN SOLUTION
    query = tf.convert_to_tensor(query)
    key = tf.convert_to_tensor(key)
    value = tf.convert_to_tensor(value)
    d_k = query.shape[-1]
    scores = tf.matmul(query, key, transpose_b=True) / math.sqrt(d_k)
    allowed = None if mask is None else _check_mask(mask)
    if causal:
        t_q, t_k = tf.shape(scores)[-2], tf.shape(scores)[-1]
        lower = tf.range(t_q)[:, None] >= tf.range(t_k)[None, :]  # (T_q, T_k), True where j <= i
        allowed = lower if allowed is None else tf.logical_and(allowed, lower)
    weights = masked_softmax(scores, allowed)
    used = weights if dropout is None else dropout(weights)
    return tf.matmul(used, value), weights
    ### END SOLUTION


class AdditiveAttention(keras.layers.Layer):
    """Additive (Bahdanau) attention.

    The decoder state ``q_i`` is compared with each encoder state ``k_j``
    by a one-hidden-layer network::

        score[b, i, j] = v^T tanh(W_q q_i + W_k k_j)

    Then the weights are the softmax of the scores over ``j`` (padding keys
    excluded) and the context vector of query ``i`` is the weighted sum of the
    values.  Unlike the dot product, the query and the keys may have
    different sizes, and there is no scaling.

    Compute all ``(i, j)`` pairs at once by broadcasting: project the queries
    to (B, T_q, 1, H) and the keys to (B, 1, T_k, H), add, apply tanh, then
    ``v`` gives (B, T_q, T_k, 1).  No Python loop.

    Attributes (their names are part of the contract):
        w_q: ``keras.layers.Dense(hidden_dim, use_bias=False)``, W_q.
        w_k: ``keras.layers.Dense(hidden_dim, use_bias=False)``, W_k.
        v: ``keras.layers.Dense(1, use_bias=False)``, the vector v.

    Keras: the kernels, of shape (input size, output size), are created on
    the first call: w_q (query_dim, hidden_dim), w_k (key_dim, hidden_dim),
    v (hidden_dim, 1).
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int, **kwargs):
        """Create the layers ``w_q``, ``w_k`` and ``v`` described above.

        A ``Dense`` layer learns its input size from its first input, so
        ``query_dim`` and ``key_dim`` are not needed to create the layers;
        they fix the shapes of the kernels once the layer has been called.

        Args:
            query_dim: size Dq of a query (decoder state).
            key_dim: size Dk of a key (encoder state).
            hidden_dim: size H of the hidden layer of the scoring network.
            **kwargs: passed to ``keras.layers.Layer`` (e.g. ``name``).
        """
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.w_q = keras.layers.Dense(hidden_dim, use_bias=False)
        self.w_k = keras.layers.Dense(hidden_dim, use_bias=False)
        self.v = keras.layers.Dense(1, use_bias=False)
        ### END SOLUTION

    def call(
        self,
        query: tf.Tensor,
        keys: tf.Tensor,
        values: tf.Tensor,
        key_mask: Optional[tf.Tensor] = None,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Attend from each query to all keys.

        Args:
            query: (B, T_q, Dq) float tensor, e.g. decoder states.
            keys: (B, T_k, Dk) float tensor, e.g. encoder states.
            values: (B, T_k, Dv) float tensor (often the same as ``keys``).
            key_mask: optional (B, T_k) bool tensor, True = real token (may
                be attended), False = padding.  None = all keys are real.

        Returns:
            context: (B, T_q, Dv) float tensor, one context vector per query
                (all zeros for a query whose keys are all padding).
            weights: (B, T_q, T_k) float tensor, the alignment matrix (rows
                sum to 1, padding columns are 0).
        """
        ### BEGIN SOLUTION
        projected_q = self.w_q(query)[:, :, None, :]  # (B, T_q, 1, H)
        projected_k = self.w_k(keys)[:, None, :, :]  # (B, 1, T_k, H)
        scores = tf.squeeze(self.v(tf.tanh(projected_q + projected_k)), axis=-1)  # (B, T_q, T_k)
        allowed = None if key_mask is None else _check_mask(key_mask)[:, None, :]  # (B, 1, T_k)
        weights = masked_softmax(scores, allowed)
        return tf.matmul(weights, values), weights
        ### END SOLUTION

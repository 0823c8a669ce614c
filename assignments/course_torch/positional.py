# Your work in this file: 2 tasks of course.toml.
#
#   sinusoidal (4 points): Sinusoidal positional encoding
#     check it with `course check sinusoidal`
#   learned_position (4 points): Token and position embedding
#     check it with `course check learned_position`
#
# Replace each `raise NotImplementedError` below with your code;
# `course check` alone checks every task.

"""Positional information for Transformers.

Attention by itself ignores order: permuting the tokens of a sequence just
permutes the outputs.  To let the model use word order, a vector that depends
on the position is added to each token embedding.  Two classic choices:

* ``sinusoidal_encoding``: the fixed sine/cosine table of *Attention is all
  you need* (Vaswani et al., 2017); nothing to learn, and the encoding of
  position ``pos + k`` is a linear function (a rotation) of that of ``pos``.
* ``TokenAndPositionEmbedding``: a learned table with one vector per
  position, as in BERT and GPT.

Positions are counted from 0.  All float tensors are float32, token ids int64.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["sinusoidal_encoding", "TokenAndPositionEmbedding"]


def sinusoidal_encoding(max_len: int, d_model: int) -> Tensor:
    """The sinusoidal positional-encoding table.

    Interleaved layout of Vaswani et al.: for position ``pos`` and
    ``i = 0 .. d_model/2 - 1``::

        PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
        PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))

    so even columns hold sines, odd columns cosines, and columns ``2i`` and
    ``2i + 1`` share the same frequency, from 1 (columns 0 and 1) down to
    nearly 1/10000.

    Args:
        max_len: number of positions (rows), 0 .. max_len - 1.
        d_model: embedding size (columns); must be even.

    Returns:
        (max_len, d_model) float32 tensor.  (Computing the angles in float64
        and converting at the end is the most accurate.)

    Raises:
        ValueError: if ``d_model`` is odd (sines and cosines come in pairs).
    """
    raise NotImplementedError("task 'sinusoidal' (Sinusoidal positional encoding): write this part; `course check sinusoidal` tests it")


class TokenAndPositionEmbedding(nn.Module):
    """Token embedding plus a learned position embedding.

    ``output[b, t] = token(input_ids[b, t]) + position(t)``: the position
    embedding is a second ``nn.Embedding`` indexed by ``0 .. T-1`` and is
    broadcast over the batch.

    Attributes (their names are part of the contract):
        token: ``nn.Embedding(vocab_size, d_model)``.
        position: ``nn.Embedding(max_len, d_model)``.
    """

    def __init__(self, vocab_size: int, max_len: int, d_model: int):
        """Create ``token`` and ``position``.

        Args:
            vocab_size: number of token ids.
            max_len: longest sequence the module accepts.
            d_model: embedding size.
        """
        super().__init__()
        raise NotImplementedError("task 'learned_position' (Token and position embedding): write this part; `course check learned_position` tests it")

    def forward(self, input_ids: Tensor) -> Tensor:
        """Embed a batch of token ids.

        Args:
            input_ids: (B, T) int64 tensor, with T <= max_len.

        Returns:
            (B, T, d_model) float32 tensor.

        Raises:
            ValueError: if T > max_len (there is no learned vector for those positions).
        """
        raise NotImplementedError("task 'learned_position' (Token and position embedding): write this part; `course check learned_position` tests it")

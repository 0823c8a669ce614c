# Your work in this file: 1 task of course.toml.
#
#   encoder_block (9 points): Transformer encoder block (post-LayerNorm)
#     check it with `course check encoder_block`
#
# Replace each `raise NotImplementedError` below with your code;
# `course check` alone checks every task.

"""The Transformer encoder block.

An encoder block refines every token's vector with two sub-layers:

1. multi-head self-attention, which mixes information between positions;
2. a position-wise feed-forward network (the same two-layer MLP applied to
   every position independently), which transforms each vector.

Each sub-layer is wrapped in a residual connection and a layer
normalisation.  This module uses the *post-LN* arrangement of the original
Transformer and of BERT, where the normalisation comes after the residual
sum: ``x = LayerNorm(x + Sublayer(x))``.  (Many later models use *pre-LN*,
``x = x + Sublayer(LayerNorm(x))``, which trains more easily when deep; the
post-LN form is kept here so that BERT's weights can be loaded.)
"""

from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from .multihead import MultiHeadAttention

__all__ = ["TransformerEncoderBlock"]


class TransformerEncoderBlock(nn.Module):
    """A post-LayerNorm Transformer encoder block, as in BERT.

    With ``x`` of shape (B, T, d_model)::

        h   = attention_norm(x + dropout(attention(x, key_mask=key_mask)[0]))
        out = ff_norm(h + dropout(ff_out(gelu(ff_in(h)))))

    ``gelu`` is the exact GELU, ``x * Phi(x)`` with ``Phi`` the standard
    normal CDF (computed with erf): ``torch.nn.functional.gelu(x)``, not its
    tanh approximation.  The same ``dropout`` module is used on both
    sub-layer outputs; the attention module has its own dropout on the
    attention weights.

    The LayerNorms use ``eps=1e-12`` by default because BERT was trained with
    that value; with the usual 1e-5 the outputs of loaded BERT weights would
    differ slightly from the original model's.

    Attributes (their names are part of the contract):
        attention: ``MultiHeadAttention(d_model, num_heads, dropout)``.
        attention_norm: ``nn.LayerNorm(d_model, eps=eps)``.
        ff_in: ``nn.Linear(d_model, d_ff)``.
        ff_out: ``nn.Linear(d_ff, d_model)``.
        ff_norm: ``nn.LayerNorm(d_model, eps=eps)``.
        dropout: ``nn.Dropout(dropout)``.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, eps: float = 1e-12):
        """Create the sub-layers listed above.

        Args:
            d_model: model width.
            num_heads: number of attention heads (must divide ``d_model``).
            d_ff: hidden size of the feed-forward network (typically 4 * d_model).
            dropout: dropout probability (attention weights and sub-layer outputs).
            eps: epsilon of both LayerNorms.
        """
        super().__init__()
        raise NotImplementedError("task 'encoder_block' (Transformer encoder block (post-LayerNorm)): write this part; `course check encoder_block` tests it")

    def forward(self, x: Tensor, key_mask: Optional[Tensor] = None) -> Tensor:
        """Apply the block.

        Args:
            x: (B, T, d_model) float tensor.
            key_mask: optional (B, T) bool tensor, True = real token, False =
                padding (padding keys are not attended; padding positions
                still get an output, which later layers should ignore).

        Returns:
            (B, T, d_model) float tensor.
        """
        raise NotImplementedError("task 'encoder_block' (Transformer encoder block (post-LayerNorm)): write this part; `course check encoder_block` tests it")

# Your work in this file: 1 task of course.toml.
#
#   multihead (18 points): Multi-head self- and cross-attention
#     check it with `course check multihead`
#
# Replace each `raise NotImplementedError` below with your code;
# `course check` alone checks every task.

"""Multi-head attention.

One attention function can only produce one weighting of the keys per query.
Multi-head attention runs ``num_heads`` attentions in parallel, each on its
own learned projection of size ``d_head = d_model // num_heads``, so that
different heads can look at different things (the previous word, the
subject of the sentence, ...).  The heads' outputs are concatenated and mixed
by a final linear layer::

    head_h = Attention(x W_q^h, c W_k^h, c W_v^h)        h = 0 .. num_heads-1
    output = concat(head_0, ..., head_{H-1}) W_o

All heads are computed at once: one ``nn.Linear(d_model, d_model)`` per
projection produces the features of every head, and the heads become an extra
batch axis.  The same module does self-attention (queries, keys and values all
come from ``x``) and cross-attention (queries from ``x``, keys and values from
another sequence, the ``context``; e.g. a decoder attending to the encoder).

Masks follow the convention of ``attention.py``: boolean, True = may attend.
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from .attention import scaled_dot_product_attention

__all__ = ["MultiHeadAttention"]


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention.

    Head layout (the canonical weights depend on it): after a projection, a
    tensor (B, T, d_model) is reshaped to (B, T, num_heads, d_head) and
    transposed to (B, num_heads, T, d_head).  Head ``h`` therefore uses the
    features ``h*d_head : (h+1)*d_head`` of each projection.  Merging the
    heads reverses this exactly (transpose back to (B, T, num_heads, d_head),
    then reshape to (B, T, d_model)) before ``w_o``.  This is the layout of
    ``torch.nn.MultiheadAttention``, of ``keras.layers.MultiHeadAttention``
    and of BERT.

    PyTorch: the features of head ``h`` come from the rows
    ``h*d_head : (h+1)*d_head`` of ``w_q.weight``, ``w_k.weight`` and
    ``w_v.weight``.

    Attributes (their names are part of the contract):
        w_q, w_k, w_v: ``nn.Linear(d_model, d_model)`` (with bias), the query,
            key and value projections of all heads.
        w_o: ``nn.Linear(d_model, d_model)`` (with bias), the output projection.
        dropout: ``nn.Dropout(dropout)``, applied to the attention weights
            (after the softmax, before they multiply the values).
        d_model: int, the model width.
        num_heads: int, number of heads.
        d_head: int, ``d_model // num_heads``.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0):
        """Check the sizes and create the layers listed above.

        Args:
            d_model: model width, the size of each input and output vector.
            num_heads: number of heads; must divide ``d_model``.
            dropout: dropout probability on the attention weights.

        Raises:
            ValueError: if ``d_model`` is not a multiple of ``num_heads``.
        """
        super().__init__()
        raise NotImplementedError("task 'multihead' (Multi-head self- and cross-attention): write this part; `course check multihead` tests it")

    def split_heads(self, x: Tensor) -> Tensor:
        """(B, T, d_model) -> (B, num_heads, T, d_head), with the layout above.

        Use ``view``/``reshape`` then ``transpose``; no loop over heads.
        """
        raise NotImplementedError("task 'multihead' (Multi-head self- and cross-attention): write this part; `course check multihead` tests it")

    def merge_heads(self, x: Tensor) -> Tensor:
        """(B, num_heads, T, d_head) -> (B, T, d_model), the exact inverse of ``split_heads``."""
        raise NotImplementedError("task 'multihead' (Multi-head self- and cross-attention): write this part; `course check multihead` tests it")

    def forward(
        self,
        x: Tensor,
        context: Optional[Tensor] = None,
        key_mask: Optional[Tensor] = None,
        causal: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Multi-head attention from ``x`` to ``context``.

        Steps: project ``x`` with ``w_q`` and ``context`` with ``w_k`` and
        ``w_v``; split the heads; call ``scaled_dot_product_attention`` on
        the (B, num_heads, T, d_head) tensors, with the key mask broadcast as
        (B, 1, 1, T_k) and ``self.dropout`` as its ``dropout``; merge the heads;
        apply ``w_o``.

        Args:
            x: (B, T_q, d_model) float tensor, gives the queries.
            context: (B, T_k, d_model) float tensor, gives the keys and values.
                None means self-attention (``context = x``, so T_k = T_q);
                a tensor means cross-attention (encoder-decoder attention).
            key_mask: optional (B, T_k) bool tensor, True = real token (may be
                attended), False = padding.  None = every key is real.
            causal: if True, query ``i`` may only attend keys ``j <= i``
                (for a decoder's self-attention); combined with ``key_mask``
                by AND.

        Returns:
            output: (B, T_q, d_model) float tensor.
            weights: (B, num_heads, T_q, T_k) float tensor, the attention
                weights of every head, before dropout.
        """
        raise NotImplementedError("task 'multihead' (Multi-head self- and cross-attention): write this part; `course check multihead` tests it")

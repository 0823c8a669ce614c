# Your work in this file: 2 tasks of course.toml.
#
#   mini_bert (13 points): Mini-BERT: embeddings, encoder stack, tied masked-LM head, pooler, classifier
#     check it with `course check mini_bert`
#   mask_tokens (9 points): Masking tokens for masked-LM pretraining (15%, 80/10/10)
#     check it with `course check mask_tokens`
#
# Replace each `raise NotImplementedError` below with your code;
# `course check` alone checks every task.

"""A miniature BERT: encoder, masked-language-model head, classifier head.

BERT (Devlin et al., 2019) is a stack of Transformer encoder blocks trained
in two stages:

1. *Pretraining* on raw text with the masked-language-model (MLM) objective:
   some tokens are hidden (``mask_tokens``) and the model predicts them from
   both sides of their context (``MiniBert.mlm_logits``).  No labels are
   needed, so any amount of text can be used.
2. *Fine-tuning* on a labelled task: a small head on top of the vector of the
   first token, ``[CLS]`` (``MiniBert.pooled``, ``MiniBert.classify``), is
   trained together with the whole pretrained network.

``MiniBert`` reproduces the architecture of Hugging Face's ``BertModel``
(embeddings, post-LN blocks, pooler) and of its MLM head exactly, so the
weights of a real BERT checkpoint can be copied into it attribute by
attribute.  Masks follow the convention of ``attention.py``: boolean,
True = real token that may be attended.
"""

from __future__ import annotations

from typing import Iterable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .encoder import TransformerEncoderBlock

__all__ = ["IGNORE_INDEX", "MiniBert", "init_bert_weights", "mask_tokens"]

IGNORE_INDEX = -100
INIT_STD = 0.1  # BERT's 0.02 at width 768, scaled to our width of 32 (see init_bert_weights)
"""Label of the positions that are not predicted (the default ``ignore_index``
of ``torch.nn.functional.cross_entropy``)."""


def init_bert_weights(module: nn.Module) -> None:
    """BERT's initialisation, to be used as ``model.apply(init_bert_weights)``.

    ``nn.Linear`` and ``nn.Embedding`` weights ~ N(0, INIT_STD^2), biases 0;
    ``nn.LayerNorm`` weight 1, bias 0.  (PyTorch's default N(0, 1) for
    embeddings would make the tied MLM output layer produce huge logits at
    the start of training.)

    BERT uses a standard deviation of 0.02 for its width of 768.  Our models
    are 32 wide, and the same scale relative to the width, 0.02 * sqrt(768 /
    32), is about 0.1 (``INIT_STD``).  With 0.02 the toy pretraining waits up
    to twice as many steps before attention starts to read the context.
    """
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=INIT_STD)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class MiniBert(nn.Module):
    """A small BERT encoder with its MLM and classification heads.

    Embeddings: the input vector of position ``t`` is
    ``token_embedding(id_t) + position_embedding(t) + segment_embedding(s_t)``
    (positions counted from 0, segment ``s_t`` is 0 for the first sentence of
    a pair and 1 for the second), then ``embedding_norm`` and ``dropout``.
    Then ``num_layers`` encoder blocks.

    MLM head (BERT's prediction head)::

        logits = mlm_norm(gelu(mlm_dense(hidden))) @ token_embedding.weight^T + mlm_bias

    The output layer has no weight matrix of its own: it reuses (is *tied to*)
    the input token-embedding matrix, so a word's input vector is also the
    vector its prediction score is computed with.  ``gelu`` is the exact
    (erf) GELU everywhere: ``torch.nn.functional.gelu(x)``.

    Classification head: the final vector of position 0 (the ``[CLS]``
    token) goes through the pooler, ``tanh(pooler(.))``, then dropout, then
    ``classifier``.

    The LayerNorms use ``eps`` (1e-12 by default, BERT's value).

    Attributes (their names are part of the contract):
        token_embedding: ``nn.Embedding(vocab_size, d_model)``.
        position_embedding: ``nn.Embedding(max_len, d_model)``.
        segment_embedding: ``nn.Embedding(num_segments, d_model)``.
        embedding_norm: ``nn.LayerNorm(d_model, eps=eps)``.
        dropout: ``nn.Dropout(dropout)`` (after the embeddings, and before
            ``classifier``).
        blocks: ``nn.ModuleList`` of ``num_layers``
            ``TransformerEncoderBlock(d_model, num_heads, d_ff, dropout, eps)``.
        mlm_dense: ``nn.Linear(d_model, d_model)``.
        mlm_norm: ``nn.LayerNorm(d_model, eps=eps)``.
        mlm_bias: ``nn.Parameter(torch.zeros(vocab_size))``, the output bias
            of the MLM head.
        pooler: ``nn.Linear(d_model, d_model)``.
        classifier: ``nn.Linear(d_model, num_classes)``.

    After the layers are created, ``__init__`` applies BERT's initialisation
    (``init_bert_weights``; this line is given).
    """

    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        d_model: int,
        num_heads: int,
        d_ff: int,
        num_layers: int,
        num_segments: int = 2,
        num_classes: int = 2,
        dropout: float = 0.1,
        eps: float = 1e-12,
    ):
        """Create the layers listed in the class docstring.

        Args:
            vocab_size: number of token ids V.
            max_len: longest input sequence accepted.
            d_model: model width.
            num_heads: attention heads per block (must divide ``d_model``).
            d_ff: hidden size of the feed-forward networks.
            num_layers: number of encoder blocks.
            num_segments: number of segment ids (2 for sentence pairs).
            num_classes: number of classes of the classification head.
            dropout: dropout probability used everywhere.
            eps: epsilon of every LayerNorm.
        """
        super().__init__()
        raise NotImplementedError("task 'mini_bert' (Mini-BERT: embeddings, encoder stack, tied masked-LM head, pooler, classifier): write this part; `course check mini_bert` tests it")
        self.apply(init_bert_weights)  # given: BERT's initialisation

    def forward(
        self,
        input_ids: Tensor,
        segment_ids: Optional[Tensor] = None,
        key_mask: Optional[Tensor] = None,
    ) -> Tensor:
        """Encode a batch of token ids.

        Args:
            input_ids: (B, T) int64 tensor, T <= max_len.
            segment_ids: optional (B, T) int64 tensor of segment ids; None
                means all zeros (a single sentence).
            key_mask: optional (B, T) bool tensor, True = real token, False =
                padding.  None means every token is real.

        Returns:
            hidden: (B, T, d_model) float tensor, the output of the last block.

        Raises:
            ValueError: if T > max_len.
        """
        raise NotImplementedError("task 'mini_bert' (Mini-BERT: embeddings, encoder stack, tied masked-LM head, pooler, classifier): write this part; `course check mini_bert` tests it")

    def mlm_logits(self, hidden: Tensor) -> Tensor:
        """Scores of every vocabulary token at every position (the MLM head).

        Args:
            hidden: (B, T, d_model) float tensor, output of ``forward``.

        Returns:
            (B, T, vocab_size) float tensor of logits (before softmax).
        """
        raise NotImplementedError("task 'mini_bert' (Mini-BERT: embeddings, encoder stack, tied masked-LM head, pooler, classifier): write this part; `course check mini_bert` tests it")

    def pooled(self, hidden: Tensor) -> Tensor:
        """BERT's pooler: ``tanh(pooler(hidden[:, 0]))``, the summary of the [CLS] position.

        Args:
            hidden: (B, T, d_model) float tensor, output of ``forward``.

        Returns:
            (B, d_model) float tensor.
        """
        raise NotImplementedError("task 'mini_bert' (Mini-BERT: embeddings, encoder stack, tied masked-LM head, pooler, classifier): write this part; `course check mini_bert` tests it")

    def classify(self, hidden: Tensor) -> Tensor:
        """Class logits: ``classifier(dropout(pooled(hidden)))``.

        Args:
            hidden: (B, T, d_model) float tensor, output of ``forward``.

        Returns:
            (B, num_classes) float tensor of logits (before softmax).
        """
        raise NotImplementedError("task 'mini_bert' (Mini-BERT: embeddings, encoder stack, tied masked-LM head, pooler, classifier): write this part; `course check mini_bert` tests it")


def mask_tokens(
    input_ids: Tensor,
    *,
    vocab_size: int,
    mask_token_id: int,
    special_ids: Iterable[int],
    mask_prob: float = 0.15,
    replace_prob: float = 0.8,
    random_prob: float = 0.1,
    generator: Optional[torch.Generator] = None,
) -> tuple[Tensor, Tensor]:
    """BERT's masking procedure for the MLM objective.

    Every position whose id is not in ``special_ids`` is *selected*
    independently with probability ``mask_prob`` (special tokens such as
    [PAD], [CLS], [SEP] are never selected).  Each selected position is then

    * replaced by ``mask_token_id`` with probability ``replace_prob``,
    * replaced by a token drawn uniformly from the non-special ids
      ``{0 .. vocab_size-1} minus special_ids`` with probability
      ``random_prob`` (it may by chance be the original token),
    * left unchanged otherwise (probability ``1 - replace_prob - random_prob``).

    The model must predict the original token at every selected position,
    including the unchanged ones (so it cannot just copy its input where it
    sees no [MASK]).  The rates are exact at the extremes: ``mask_prob=0``
    selects nothing, ``mask_prob=1`` selects every non-special position,
    ``replace_prob=1`` turns every selected position into [MASK], and so on.

    Any correct way of drawing is accepted (the tests check the rules above
    exactly and the rates statistically).  One simple scheme, the one the
    reference uses: draw ``u = torch.rand`` of shape (B, T) (values in
    [0, 1)) and select where ``u < mask_prob``; draw ``r`` the same way and
    use [MASK] where ``r < replace_prob``, a random token where
    ``replace_prob <= r < replace_prob + random_prob``; draw the random token
    as an index into the sorted non-special ids with ``torch.randint``.  Make
    every draw with ``generator`` so a fixed generator gives a fixed result.

    Args:
        input_ids: (B, T) int64 tensor; it is not modified.
        vocab_size: number of token ids.
        mask_token_id: id of [MASK].
        special_ids: ids that are never selected (should include [MASK]).
        mask_prob, replace_prob, random_prob: the rates above; each in
            [0, 1], and ``replace_prob + random_prob <= 1``.
        generator: optional ``torch.Generator`` used for every random draw
            (None = PyTorch's global generator).

    Returns:
        masked_ids: (B, T) int64 tensor, the corrupted input.
        labels: (B, T) int64 tensor, the original id at the selected
            positions and ``IGNORE_INDEX`` everywhere else.

    Raises:
        ValueError: for rates outside [0, 1], ``replace_prob + random_prob > 1``,
            or ``random_prob > 0`` with no non-special id to draw from.
    """
    raise NotImplementedError("task 'mask_tokens' (Masking tokens for masked-LM pretraining (15%, 80/10/10)): write this part; `course check mask_tokens` tests it")

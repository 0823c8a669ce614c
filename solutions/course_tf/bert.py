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

import keras
import numpy as np
import tensorflow as tf

from .encoder import TransformerEncoderBlock

__all__ = ["IGNORE_INDEX", "MiniBert", "init_bert_weights", "mask_tokens"]

IGNORE_INDEX = -100
INIT_STD = 0.1  # BERT's 0.02 at width 768, scaled to our width of 32 (see init_bert_weights)
"""Label of the positions that are not predicted (the ``ignore_index`` of
PyTorch's cross-entropy, kept so that both tracks of the course agree)."""


def _bert_normal() -> keras.initializers.Initializer:
    return keras.initializers.TruncatedNormal(mean=0.0, stddev=INIT_STD)


def init_bert_weights(layer: keras.layers.Layer) -> None:
    """BERT's initialisation for ``layer`` and every layer nested in it.

    ``Dense`` kernels and ``Embedding`` tables ~ N(0, INIT_STD^2), truncated
    at two standard deviations as in BERT's original code; ``Dense`` biases 0;
    ``LayerNormalization`` gamma 1, beta 0.  (Keras's default uniform
    embeddings and Glorot kernels would make pretraining slower.)

    BERT uses a standard deviation of 0.02 for its width of 768.  Our models
    are 32 wide, and the same scale relative to the width, 0.02 * sqrt(768 /
    32), is about 0.1 (``INIT_STD``).  With 0.02 the toy pretraining waits up
    to twice as many steps before attention starts to read the context.

    Keras creates a layer's weights on its first call, from the layer's
    initializer attributes (``kernel_initializer``, ``embeddings_initializer``,
    ...), so this function sets those attributes; it must run before the
    layers are built, e.g. at the end of ``__init__``.  Each layer gets its
    own initializer object: a Keras initializer created without a seed draws
    the same values every time it is called.

    Raises:
        ValueError: if one of these layers already has its weights.
    """
    for sub in layer._flatten_layers(include_self=True, recursive=True):  # Keras's walk over nested layers
        if isinstance(sub, (keras.layers.Dense, keras.layers.Embedding, keras.layers.LayerNormalization)):
            if sub.built:
                raise ValueError(f"init_bert_weights must run before layer '{sub.name}' is built")
        if isinstance(sub, keras.layers.Dense):
            sub.kernel_initializer = _bert_normal()
            sub.bias_initializer = keras.initializers.Zeros()
        elif isinstance(sub, keras.layers.Embedding):
            sub.embeddings_initializer = _bert_normal()
        elif isinstance(sub, keras.layers.LayerNormalization):
            sub.gamma_initializer = keras.initializers.Ones()
            sub.beta_initializer = keras.initializers.Zeros()


class MiniBert(keras.layers.Layer):
    """A small BERT encoder with its MLM and classification heads.

    Embeddings: the input vector of position ``t`` is
    ``token_embedding(id_t) + position_embedding(t) + segment_embedding(s_t)``
    (positions counted from 0, segment ``s_t`` is 0 for the first sentence of
    a pair and 1 for the second), then ``embedding_norm`` and ``dropout``.
    Then ``num_layers`` encoder blocks.

    MLM head (BERT's prediction head)::

        logits = mlm_norm(gelu(mlm_dense(hidden))) @ token_embedding.embeddings^T + mlm_bias

    The output layer has no weight matrix of its own: it reuses (is *tied to*)
    the input token-embedding matrix, so a word's input vector is also the
    vector its prediction score is computed with.  ``gelu`` is the exact
    (erf) GELU everywhere: ``tf.nn.gelu(x, approximate=False)``.

    Classification head: the final vector of position 0 (the ``[CLS]``
    token) goes through the pooler, ``tanh(pooler(.))``, then dropout, then
    ``classifier``.

    The LayerNorms use ``epsilon=eps`` (1e-12 by default, BERT's value).

    Attributes (their names are part of the contract):
        token_embedding: ``keras.layers.Embedding(vocab_size, d_model)``.
        position_embedding: ``keras.layers.Embedding(max_len, d_model)``.
        segment_embedding: ``keras.layers.Embedding(num_segments, d_model)``.
        embedding_norm: ``keras.layers.LayerNormalization(epsilon=eps)``.
        dropout: ``keras.layers.Dropout(dropout)`` (after the embeddings, and
            before ``classifier``).
        blocks: ``list`` of ``num_layers``
            ``TransformerEncoderBlock(d_model, num_heads, d_ff, dropout, eps)``.
        mlm_dense: ``keras.layers.Dense(d_model)``.
        mlm_norm: ``keras.layers.LayerNormalization(epsilon=eps)``.
        mlm_bias: ``self.add_weight(shape=(vocab_size,), initializer="zeros",
            name="mlm_bias")``, the output bias of the MLM head.
        pooler: ``keras.layers.Dense(d_model)``.
        classifier: ``keras.layers.Dense(num_classes)``.

    After the layers are created, ``__init__`` applies BERT's initialisation
    (``init_bert_weights``; this line is given).

    Keras: create no other weights.  Keras tracks the layers of a list
    attribute such as ``blocks``, and creates the weights on the first call
    (the given ``build`` method creates those of the heads at that moment).
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
        **kwargs,
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
            **kwargs: passed to ``keras.layers.Layer`` (e.g. ``name``).
        """
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        self.token_embedding = keras.layers.Embedding(vocab_size, d_model)
        self.position_embedding = keras.layers.Embedding(max_len, d_model)
        self.segment_embedding = keras.layers.Embedding(num_segments, d_model)
        self.embedding_norm = keras.layers.LayerNormalization(epsilon=eps)
        self.dropout = keras.layers.Dropout(dropout)
        self.blocks = [TransformerEncoderBlock(d_model, num_heads, d_ff, dropout, eps) for _ in range(num_layers)]
        self.mlm_dense = keras.layers.Dense(d_model)
        self.mlm_norm = keras.layers.LayerNormalization(epsilon=eps)
        self.mlm_bias = self.add_weight(shape=(vocab_size,), initializer="zeros", name="mlm_bias")
        self.pooler = keras.layers.Dense(d_model)
        self.classifier = keras.layers.Dense(num_classes)
        ### END SOLUTION
        init_bert_weights(self)  # given: BERT's initialisation

    def build(self, input_shape=None):
        """Given: Keras runs this once, before the first ``call``.

        The embeddings and the blocks create their weights during that first
        call.  The heads (``mlm_dense``, ``mlm_norm``, ``pooler``,
        ``classifier``), which ``call`` does not use, are built here for
        vectors of size ``d_model``, so that once the model has been called
        every one of its weights exists.
        """
        d_model = self.token_embedding.output_dim
        for head in (self.mlm_dense, self.mlm_norm, self.pooler, self.classifier):
            head.build((None, d_model))
        self.built = True

    def call(
        self,
        input_ids: tf.Tensor,
        segment_ids: Optional[tf.Tensor] = None,
        key_mask: Optional[tf.Tensor] = None,
        training: Optional[bool] = None,
    ) -> tf.Tensor:
        """Encode a batch of token ids.

        Args:
            input_ids: (B, T) int64 tensor, T <= max_len.
            segment_ids: optional (B, T) int64 tensor of segment ids; None
                means all zeros (a single sentence).
            key_mask: optional (B, T) bool tensor, True = real token, False =
                padding.  None means every token is real.
            training: True in training (dropout active), False or None in
                inference; pass it on to the blocks and to ``dropout``.

        Returns:
            hidden: (B, T, d_model) float tensor, the output of the last block.

        Raises:
            ValueError: if T > max_len (``self.position_embedding.input_dim``).
        """
        ### BEGIN SOLUTION
        seq_len = input_ids.shape[1]
        max_len = self.position_embedding.input_dim
        if seq_len is not None and seq_len > max_len:
            raise ValueError(f"sequence length {seq_len} exceeds max_len={max_len}")
        if segment_ids is None:
            segment_ids = tf.zeros_like(input_ids)
        positions = tf.range(tf.shape(input_ids)[1])
        embedded = (
            self.token_embedding(input_ids)
            + self.position_embedding(positions)
            + self.segment_embedding(segment_ids)
        )
        hidden = self.dropout(self.embedding_norm(embedded), training=training)
        for block in self.blocks:
            hidden = block(hidden, key_mask=key_mask, training=training)
        return hidden
        ### END SOLUTION

    def mlm_logits(self, hidden: tf.Tensor) -> tf.Tensor:
        """Scores of every vocabulary token at every position (the MLM head).

        Args:
            hidden: (B, T, d_model) float tensor, output of ``call``.

        Returns:
            (B, T, vocab_size) float tensor of logits (before softmax).
        """
        ### BEGIN SOLUTION
        transformed = self.mlm_norm(tf.nn.gelu(self.mlm_dense(hidden), approximate=False))
        return tf.matmul(transformed, self.token_embedding.embeddings, transpose_b=True) + self.mlm_bias
        ### END SOLUTION

    def pooled(self, hidden: tf.Tensor) -> tf.Tensor:
        """BERT's pooler: ``tanh(pooler(hidden[:, 0]))``, the summary of the [CLS] position.

        Args:
            hidden: (B, T, d_model) float tensor, output of ``call``.

        Returns:
            (B, d_model) float tensor.
        """
        ### BEGIN SOLUTION
        return tf.tanh(self.pooler(hidden[:, 0]))
        ### END SOLUTION

    def classify(self, hidden: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        """Class logits: ``classifier(dropout(pooled(hidden)))``.

        Args:
            hidden: (B, T, d_model) float tensor, output of ``call``.
            training: True in training (dropout active), False or None in
                inference.

        Returns:
            (B, num_classes) float tensor of logits (before softmax).
        """
        ### BEGIN SOLUTION
        return self.classifier(self.dropout(self.pooled(hidden), training=training))
        ### END SOLUTION


def mask_tokens(
    input_ids: tf.Tensor,
    *,
    vocab_size: int,
    mask_token_id: int,
    special_ids: Iterable[int],
    mask_prob: float = 0.15,
    replace_prob: float = 0.8,
    random_prob: float = 0.1,
    generator: Optional[tf.random.Generator] = None,
) -> tuple[tf.Tensor, tf.Tensor]:
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
    reference uses: draw ``u = generator.uniform`` of shape (B, T) (values in
    [0, 1)) and select where ``u < mask_prob``; draw ``r`` the same way and
    use [MASK] where ``r < replace_prob``, a random token where
    ``replace_prob <= r < replace_prob + random_prob``; draw the random token
    as an index into the sorted non-special ids with ``generator.uniform(...,
    minval=0, maxval=n, dtype=tf.int64)``.  Make every draw with
    ``generator`` so a fixed generator gives a fixed result.

    Args:
        input_ids: (B, T) int64 tensor; it is not modified.
        vocab_size: number of token ids.
        mask_token_id: id of [MASK].
        special_ids: ids that are never selected (should include [MASK]).
        mask_prob, replace_prob, random_prob: the rates above; each in
            [0, 1], and ``replace_prob + random_prob <= 1``.
        generator: optional ``tf.random.Generator`` used for every random
            draw (None = TensorFlow's global generator).

    Returns:
        masked_ids: (B, T) int64 tensor, the corrupted input.
        labels: (B, T) int64 tensor, the original id at the selected
            positions and ``IGNORE_INDEX`` everywhere else.

    Raises:
        ValueError: for rates outside [0, 1], ``replace_prob + random_prob > 1``,
            or ``random_prob > 0`` with no non-special id to draw from.

    TensorFlow: make a generator with e.g.
    ``tf.random.Generator.from_seed(0)``.  The global generator is
    ``tf.random.get_global_generator()``, which ``tf.random.set_seed`` does
    not seed: for a reproducible run pass a generator, or install one with
    ``tf.random.set_global_generator``.

    Hint: TensorFlow tensors cannot be assigned to: build the outputs with
    ``tf.where``.
    """
    ### BEGIN SOLUTION
    for name, rate in (("mask_prob", mask_prob), ("replace_prob", replace_prob), ("random_prob", random_prob)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {rate}")
    if replace_prob + random_prob > 1.0 + 1e-9:
        raise ValueError(f"replace_prob + random_prob must be <= 1, got {replace_prob} + {random_prob}")
    if generator is None:
        generator = tf.random.get_global_generator()
    input_ids = tf.cast(tf.convert_to_tensor(input_ids), tf.int64)
    special = np.array(sorted(set(int(i) for i in special_ids)), dtype=np.int64)
    candidates = np.setdiff1d(np.arange(vocab_size, dtype=np.int64), special)  # sorted non-special ids
    if random_prob > 0 and candidates.size == 0:
        raise ValueError("random_prob > 0 but every id is special: no token to draw")
    is_special = tf.reduce_any(input_ids[..., None] == tf.constant(special, tf.int64), axis=-1)

    shape = tf.shape(input_ids)
    u = generator.uniform(shape)
    r = generator.uniform(shape)
    random_index = generator.uniform(shape, minval=0, maxval=max(candidates.size, 1), dtype=tf.int64)

    selected = (u < mask_prob) & ~is_special
    to_mask = selected & (r < replace_prob)
    to_random = selected & (r >= replace_prob) & (r < replace_prob + random_prob)

    masked_ids = tf.where(to_mask, tf.constant(mask_token_id, tf.int64), input_ids)
    if candidates.size > 0:
        masked_ids = tf.where(to_random, tf.gather(tf.constant(candidates), random_index), masked_ids)
    labels = tf.where(selected, input_ids, tf.constant(IGNORE_INDEX, tf.int64))
    return masked_ids, labels
    ### END SOLUTION

"""The course's own TensorFlow/Keras code for the plots, run in the worker next to student code.

The same models and probes as ``course_plots_torch.py`` (see there), with Keras layers.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class Seq2Seq(keras.layers.Layer):
    """A word-and-position encoder and a GRU decoder around the student's attention."""

    def __init__(self, attention, src_vocab: int, tgt_vocab: int, embed: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.src_embed = keras.layers.Embedding(src_vocab, embed)
        self.tgt_embed = keras.layers.Embedding(tgt_vocab, embed)
        self.position = keras.layers.Embedding(16, embed)
        self.encoder = keras.layers.Dense(2 * hidden, activation="tanh")
        self.cell = GRUCell(hidden)
        self.out = keras.layers.Dense(tgt_vocab)
        self.attention = attention  # the student's layer

    def encode(self, src, src_mask):
        real = tf.cast(src_mask, tf.float32)[..., None]
        embedded = self.src_embed(src) * real
        positions = tf.broadcast_to(self.position(tf.range(tf.shape(src)[1]))[None], tf.shape(embedded))
        # A key is the word itself and the encoder's view of it at its position (see course_plots_torch.py).
        states = tf.concat([embedded, self.encoder(tf.concat([embedded, positions], -1))], -1) * real
        return states, tf.zeros((tf.shape(src)[0], self.hidden))

    def step(self, prev_word, state, keys, src_mask):
        context, weights = self.attention(state[:, None, :], keys=keys, values=keys, key_mask=src_mask)
        context = context[:, 0]
        state = self.cell(tf.concat([self.tgt_embed(prev_word), context], -1), state)
        return self.out(tf.concat([state, context], -1)), state, weights[:, 0]


class GRUCell(keras.layers.Layer):
    """A GRU step written out (Cho et al., 2014): Keras's own cell takes many seconds to
    trace into a graph, this one a fraction of that."""

    def __init__(self, units: int):
        super().__init__()
        self.gates = keras.layers.Dense(2 * units, activation="sigmoid")
        self.candidate_x = keras.layers.Dense(units)
        self.candidate_h = keras.layers.Dense(units, use_bias=False)

    def call(self, x, h):
        update, reset = tf.split(self.gates(tf.concat([x, h], -1)), 2, axis=-1)
        candidate = tf.tanh(self.candidate_x(x) + self.candidate_h(reset * h))
        return update * h + (1.0 - update) * candidate


def train_alignment(attention, src, src_mask, tgt_in, tgt_out, test_src, test_mask, *, src_vocab: int,
                    tgt_vocab: int, bos: int, steps: int, batch_size: int, lr: float, embed: int = 24,
                    hidden: int = 32, max_out: int = 8):
    """Train with teacher forcing, then decode ``test_src`` greedily (see course_plots_torch.py)."""
    model = Seq2Seq(attention, src_vocab, tgt_vocab, embed, hidden)
    optimizer = keras.optimizers.Adam(learning_rate=lr)
    generator = tf.random.Generator.from_seed(0)
    scored = tf.cast(tgt_out >= 0, tf.float32)
    labels = tf.maximum(tgt_out, 0)

    def loss_of(rows):
        keys, state = model.encode(tf.gather(src, rows), tf.gather(src_mask, rows))
        total = 0.0
        for i in range(tgt_in.shape[1]):  # teacher forcing: the right previous word as input
            logits, state, _ = model.step(tf.gather(tgt_in[:, i], rows), state, keys, tf.gather(src_mask, rows))
            each = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.gather(labels[:, i], rows), logits)
            total += tf.reduce_sum(each * tf.gather(scored[:, i], rows))
        return total / tf.reduce_sum(tf.gather(scored, rows))

    def train_step(rows):
        with tf.GradientTape() as tape:
            loss = loss_of(rows)
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    # Build every layer eagerly once, then trace the step into one graph: eager Keras
    # would take seconds per step. Attention written with TensorFlow ops traces as is.
    loss_of(tf.range(2, dtype=tf.int64))
    trainable = model.trainable_variables
    optimizer.build(trainable)
    compiled = tf.function(train_step)
    losses = []
    for _ in range(steps):
        rows = generator.uniform((batch_size,), 0, src.shape[0], dtype=tf.int64)
        losses.append(float(compiled(rows)))
    keys, state = model.encode(test_src, test_mask)
    word = tf.fill((test_src.shape[0],), tf.constant(bos, tf.int64))
    rows, words = [], []
    for _ in range(max_out):
        logits, state, weights = model.step(word, state, keys, test_mask)
        word = tf.argmax(logits, -1)
        rows.append(tf.cast(weights, tf.float32))
        words.append(word)
    return (tf.convert_to_tensor(tf.stack(rows, 1)), tf.convert_to_tensor(tf.stack(words, 1)),
            tf.constant(losses, tf.float32))


def bert_attention(model, input_ids, key_mask):
    """What each block's ``attention`` returned in ``model(input_ids, key_mask=key_mask)``,
    and the first block's attention with ``causal=True`` (see course_plots_torch.py)."""
    # One plain call first: Keras traces a layer's first call symbolically to build it, and
    # the recording below would keep those graph tensors (a model fresh from loaded weights).
    model(input_ids, key_mask=key_mask)
    seen, inputs, patched = [], [], []
    for block in model.blocks:
        layer = block.attention
        original = layer.call

        def recording(*args, _original=original, **kwargs):
            out = _original(*args, **kwargs)
            seen.append(out[1])
            inputs.append(args[0] if args else kwargs["x"])
            return out
        patched.append(layer)
        layer.call = recording
    try:
        model(input_ids, key_mask=key_mask)
    finally:
        for layer in patched:
            del layer.call  # back to the class's own method
    _, causal = model.blocks[0].attention(inputs[0], key_mask=key_mask, causal=True)
    maps = tf.stack([tf.cast(w, tf.float32) for w in seen], 1)
    return tf.convert_to_tensor(maps), tf.convert_to_tensor(tf.cast(causal, tf.float32))


def position_table(model):
    """The learned position-embedding table, (max_len, d_model)."""
    return tf.convert_to_tensor(model.position_embedding.embeddings)


def canonical_weights(model, names):
    """The values of the canonical weights ``names`` (see coursepack/testing/layouts.py), in order.

    The worker's adapter already maps canonical names to variables (it loads canonical
    weights with the same map), so this only reads it."""
    import tf_adapter  # loaded by the worker before any call

    variables = tf_adapter.canonical_parameters(model)
    return tuple(tf.convert_to_tensor(variables[name]) for name in names)

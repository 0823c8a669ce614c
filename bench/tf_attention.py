"""Benchmark: the TensorFlow reference multi-head attention against Keras' own.

    .venv/bin/python bench/tf_attention.py [--repeat 50]

Forward + backward (tf.GradientTape, gradients for the input and every weight) of
self-attention with a padding mask, batch 32, 64 tokens, d_model 128, 8 heads, both
layers compiled with tf.function, in the same process. Prints the median times and
their ratio (target: at most 1.3).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    sys.path.insert(0, str(ROOT / "solutions"))
    from course_tf.multihead import MultiHeadAttention

    batch, length, d_model, heads = 32, 64, 128, 8
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, length, d_model)), tf.float32)
    lengths = rng.integers(length // 2, length + 1, batch)
    key_mask = tf.constant(np.arange(length)[None, :] < lengths[:, None])
    attention_mask = tf.broadcast_to(key_mask[:, None, :], (batch, length, length))

    ours = MultiHeadAttention(d_model, heads)
    theirs = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads)

    @tf.function
    def step_ours(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out, _ = ours(x, key_mask=key_mask)
            loss = tf.reduce_sum(out)
        return tape.gradient(loss, [x, *ours.trainable_variables])

    @tf.function
    def step_theirs(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = theirs(x, x, x, attention_mask=attention_mask)
            loss = tf.reduce_sum(out)
        return tape.gradient(loss, [x, *theirs.trainable_variables])

    def timed(step):
        for _ in range(5):  # trace and warm up
            step(x)
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            grads = step(x)
            _ = [g.numpy() for g in grads]
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    # Interleave the two measurements so machine noise hits both alike.
    t_ours, t_theirs = [], []
    for _ in range(3):
        t_ours.append(timed(step_ours))
        t_theirs.append(timed(step_theirs))
    ours_s, theirs_s = statistics.median(t_ours), statistics.median(t_theirs)
    print(f"multi-head attention forward+backward, batch {batch}, {length} tokens, d_model {d_model}, {heads} heads")
    print(f"  reference (course_tf)           {ours_s * 1e3:8.2f} ms")
    print(f"  keras.layers.MultiHeadAttention {theirs_s * 1e3:8.2f} ms")
    print(f"  ratio reference / keras         {ours_s / theirs_s:8.2f}  (target <= 1.3)")


if __name__ == "__main__":
    main()

"""Canonical weights: one framework-neutral layout for every component.

Tests describe a component's weights as a dict of NumPy float32 arrays named
``<attribute path>.<leaf>``, the attribute names the docstrings prescribe:

* a dense (linear) layer ``name`` holds ``name.kernel`` of shape (in, out) and
  ``name.bias`` of shape (out,): ``y = x @ kernel + bias``. (PyTorch's ``nn.Linear``
  stores ``weight`` = kernel.T; Keras' ``Dense`` stores the kernel as is.)
* an embedding table holds ``name.embeddings`` of shape (rows, dim);
* a LayerNorm holds ``name.gamma`` and ``name.beta`` of shape (dim,);
* a bare parameter is stored under its attribute name (``mlm_bias``).

The functions below give the shapes of each component, and :func:`random_weights`
draws values for them. Values are deliberately not the frameworks' default
initialisation (LayerNorm gains are not 1, biases are not 0), so a layer that ignores
a parameter is caught.
"""

from __future__ import annotations

import numpy as np

Shapes = dict[str, tuple[int, ...]]


def dense(name: str, n_in: int, n_out: int, bias: bool = True) -> Shapes:
    shapes = {f"{name}.kernel": (n_in, n_out)}
    if bias:
        shapes[f"{name}.bias"] = (n_out,)
    return shapes


def layer_norm(name: str, dim: int) -> Shapes:
    return {f"{name}.gamma": (dim,), f"{name}.beta": (dim,)}


def embedding(name: str, rows: int, dim: int) -> Shapes:
    return {f"{name}.embeddings": (rows, dim)}


def prefixed(prefix: str, shapes: Shapes) -> Shapes:
    return {f"{prefix}.{k}" if prefix else k: v for k, v in shapes.items()}


def additive_attention(query_dim: int, key_dim: int, hidden_dim: int) -> Shapes:
    return {**dense("w_q", query_dim, hidden_dim, bias=False),
            **dense("w_k", key_dim, hidden_dim, bias=False),
            **dense("v", hidden_dim, 1, bias=False)}


def token_and_position(vocab_size: int, max_len: int, d_model: int) -> Shapes:
    return {**embedding("token", vocab_size, d_model), **embedding("position", max_len, d_model)}


def multihead_attention(d_model: int) -> Shapes:
    shapes: Shapes = {}
    for name in ("w_q", "w_k", "w_v", "w_o"):
        shapes.update(dense(name, d_model, d_model))
    return shapes


def encoder_block(d_model: int, d_ff: int) -> Shapes:
    return {**prefixed("attention", multihead_attention(d_model)),
            **layer_norm("attention_norm", d_model),
            **dense("ff_in", d_model, d_ff), **dense("ff_out", d_ff, d_model),
            **layer_norm("ff_norm", d_model)}


def mini_bert(vocab_size: int, max_len: int, d_model: int, d_ff: int, num_layers: int,
              num_segments: int = 2, num_classes: int = 2) -> Shapes:
    shapes = {**embedding("token_embedding", vocab_size, d_model),
              **embedding("position_embedding", max_len, d_model),
              **embedding("segment_embedding", num_segments, d_model),
              **layer_norm("embedding_norm", d_model)}
    for i in range(num_layers):
        shapes.update(prefixed(f"blocks.{i}", encoder_block(d_model, d_ff)))
    shapes.update({**dense("mlm_dense", d_model, d_model), **layer_norm("mlm_norm", d_model),
                   "mlm_bias": (vocab_size,),
                   **dense("pooler", d_model, d_model), **dense("classifier", d_model, num_classes)})
    return shapes


def random_weights(shapes: Shapes, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seeded float32 values for ``shapes``: kernels scaled by 1/sqrt(fan-in)."""
    weights = {}
    for name, shape in shapes.items():
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "kernel":
            value = rng.standard_normal(shape) / np.sqrt(shape[0])
        elif leaf == "gamma":
            value = 1.0 + 0.2 * rng.standard_normal(shape)
        elif leaf == "embeddings":
            value = rng.standard_normal(shape)
        else:  # biases, beta, bare parameters
            value = 0.2 * rng.standard_normal(shape)
        weights[name] = value.astype(np.float32)
    return weights


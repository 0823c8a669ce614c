"""Matplotlib figures of the plot data (no display needed: figures are drawn off screen).

Each ``*_figure`` function takes what :mod:`.data` returned and gives a
``matplotlib.figure.Figure``; :func:`save` writes it as a PNG. Heat maps use one colour
scale from 0 to 1 for attention weights, so two maps can be compared by eye.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from coursepack.plots.data import Alignment, Attention, Positional, Pretraining

WEIGHTS_CMAP = "viridis"


def _heat(ax, matrix, rows, cols, title, vmin=0.0, vmax=1.0, cmap=WEIGHTS_CMAP):
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_title(title, fontsize=9)
    return image


def alignment_figure(result: Alignment) -> Figure:
    """The alignment matrix of each shown sentence: one row per word the model wrote,
    one column per source word; bright = where that output word looked."""
    n = len(result.weights)
    fig = Figure(figsize=(3.2 * n, 3.6), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    image = None
    for ax, weights, src, out in zip(axes, result.weights, result.sources, result.outputs):
        image = _heat(ax, weights, out, src, " ".join(w for w in src if w != "</s>"))
        ax.set_xlabel("source (keys)", fontsize=8)
    axes[0].set_ylabel("output word (queries)", fontsize=8)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="attention weight")
    fig.suptitle(f"Your AdditiveAttention in a tiny encoder-decoder: adjectives move after nouns, the verb to "
                 f"the end ({result.alignment_accuracy:.0%} of words look most at their source word)", fontsize=10)
    return fig


def attention_figure(result: Attention, sentence: int = 0) -> Figure:
    """Every head of every layer on one toylang sentence, and the first layer made causal."""
    maps = result.maps[sentence]
    tokens = result.tokens[sentence]
    t = len(tokens)
    layers, heads = maps.shape[:2]
    fig = Figure(figsize=(3.0 * (heads + 1), 3.2 * layers + 0.6), layout="constrained")
    axes = fig.subplots(layers, heads + 1, squeeze=False)
    image = None
    for layer in range(layers):
        for head in range(heads):
            image = _heat(axes[layer, head], maps[layer, head, :t, :t], tokens, tokens,
                          f"layer {layer}, head {head}")
        if layer == 0:
            _heat(axes[0, heads], result.causal[sentence, 0, :t, :t], tokens, tokens,
                  "layer 0, head 0, causal=True")
        else:
            axes[layer, heads].axis("off")
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    weights = ("your pretrained MiniBert" if result.weights_used == "student"
               else "your MiniBert with the course's reference weights")
    fig.suptitle(f"Attention of {weights}: rows attend to columns", fontsize=10)
    return fig


def similarity(table: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair of position vectors (rows of ``table``)."""
    norms = np.linalg.norm(table, axis=1, keepdims=True)
    unit = table / np.where(norms == 0, 1, norms)
    return unit @ unit.T


def positional_figure(result: Positional) -> Figure:
    """The sinusoidal table, the similarity of its positions, and the learned positions'."""
    panels = 3 if result.learned is not None else 2
    fig = Figure(figsize=(4.2 * panels, 4.0), layout="constrained")
    axes = fig.subplots(1, panels)
    table = result.sinusoidal
    image = axes[0].imshow(table, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    axes[0].set(title="your sinusoidal_encoding(50, 32)", xlabel="dimension", ylabel="position")
    fig.colorbar(image, ax=axes[0], shrink=0.8)
    image = axes[1].imshow(similarity(table), cmap="magma", vmin=-1, vmax=1)
    axes[1].set(title="similarity of positions (sinusoidal)", xlabel="position", ylabel="position")
    if result.learned is not None:
        axes[2].imshow(similarity(result.learned), cmap="magma", vmin=-1, vmax=1)
        axes[2].set(title="similarity of learned positions", xlabel="position", ylabel="position")
    fig.colorbar(image, ax=axes[1:].tolist() if panels == 3 else axes[1], shrink=0.8, label="cosine")
    for ax in axes:
        ax.title.set_fontsize(9)
    return fig


def pretraining_figure(result: Pretraining) -> Figure:
    """The MLM loss per step, and the accuracies against their baselines."""
    run = result.experiment
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    loss_ax, mlm_ax, cls_ax = fig.subplots(1, 3, width_ratios=[2, 1, 1.3])
    loss_ax.plot(np.arange(1, len(run.losses) + 1), run.losses, color="tab:blue", linewidth=1)
    loss_ax.axhline(1.4, color="grey", linestyle=":", linewidth=1)
    loss_ax.text(len(run.losses), 1.4, " ~best possible", va="bottom", ha="right", fontsize=8, color="grey")
    loss_ax.set(title="MLM loss of your pretrain_mlm", xlabel="step", ylabel="cross-entropy")
    _bars(mlm_ax, ["unigram\nbaseline", "your\nmodel"], [run.unigram_accuracy, run.mlm_accuracy],
          ["tab:grey", "tab:blue"], "masked-token accuracy")
    _bars(cls_ax, ["chance", "scratch", "pretrained"],
          [run.chance_accuracy, run.scratch_accuracy, run.pretrained_accuracy],
          ["tab:grey", "tab:orange", "tab:blue"], "topic accuracy after fine-tuning")
    for ax in (loss_ax, mlm_ax, cls_ax):
        ax.title.set_fontsize(9)
    return fig


def _bars(ax, labels, values, colours, title):
    bars = ax.bar(labels, values, color=colours)
    ax.bar_label(bars, [f"{v:.2f}" for v in values], fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_title(title)
    ax.tick_params(labelsize=8)


def save(fig: Figure, path: Path, dpi: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path

"""Held-out evaluation of pretraining and fine-tuning, computed by the grader itself.

The grader builds the evaluation data with the course's trusted ``toylang`` module,
sends only token ids to the submission, and scores the logits that come back. The
submission never sees labels, and no figure it reports is believed.
"""

from __future__ import annotations

import numpy as np

IGNORE_INDEX = -100


def masked_eval_set(toylang, n: int, seed: int, rate: float = 0.15):
    """Sentences with ``rate`` of their real tokens replaced by [MASK], and the labels."""
    ids, _ = toylang.make_corpus(n, seed=seed)
    rng = np.random.default_rng(seed)
    real = ~np.isin(ids, list(toylang.SPECIAL_IDS))
    chosen = real & (rng.random(ids.shape) < rate)
    masked = np.where(chosen, toylang.MASK_ID, ids)
    labels = np.where(chosen, ids, IGNORE_INDEX)
    return masked.astype(np.int64), labels.astype(np.int64)


def scramble(toylang, seed: int):
    """A seeded relabelling of the non-special token ids, as a function on id arrays.

    The grader trains and evaluates on relabelled text, so a submission cannot score
    by knowing toylang's word list: it has to learn from the corpus it is given.
    """
    rng = np.random.default_rng(seed)
    special = np.array(sorted(toylang.SPECIAL_IDS))
    words = np.setdiff1d(np.arange(toylang.VOCAB_SIZE), special)
    table = np.arange(toylang.VOCAB_SIZE)
    table[words] = rng.permutation(words)

    def apply(ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        return np.where(ids >= 0, table[np.clip(ids, 0, None)], ids).astype(np.int64)
    return apply


def masked_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    chosen = labels != IGNORE_INDEX
    return float((logits.argmax(-1)[chosen] == labels[chosen]).mean())


def class_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(-1) == labels).mean())

"""A tiny translation task whose word order changes, for the alignment plot.

The source language puts adjectives before nouns and the verb in the middle
(*big cat sees red dog*); the target language puts adjectives after nouns and the verb
last (*Katze gross Hund rot sieht*). Each source word has exactly one translation, so
every target word has one right source word to look at: ``alignment`` gives its
position. Because adjectives are optional, where a word goes depends on the sentence,
not only on its position, and the alignment is a permutation that is not the diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
ADJECTIVES = {"big": "gross", "small": "klein", "red": "rot", "old": "alt", "young": "jung"}
NOUNS = {"cat": "Katze", "dog": "Hund", "bird": "Vogel", "fish": "Fisch", "mouse": "Maus"}
VERBS = {"sees": "sieht", "likes": "mag", "finds": "findet", "eats": "isst"}
SOURCE_WORDS = [PAD, EOS, *ADJECTIVES, *NOUNS, *VERBS]
TARGET_WORDS = [PAD, BOS, EOS, *ADJECTIVES.values(), *NOUNS.values(), *VERBS.values()]
SOURCE_ID = {w: i for i, w in enumerate(SOURCE_WORDS)}
TARGET_ID = {w: i for i, w in enumerate(TARGET_WORDS)}
TRANSLATION = {**ADJECTIVES, **NOUNS, **VERBS, EOS: EOS}
MAX_SOURCE = 6  # adj noun verb adj noun </s>
MAX_TARGET = 6


@dataclass
class Pairs:
    """Sentence pairs as padded id arrays, with the source position of each target word."""

    src: np.ndarray        # (N, MAX_SOURCE) int64, ends with </s>, then <pad>
    src_mask: np.ndarray   # (N, MAX_SOURCE) bool, True for real tokens
    tgt_in: np.ndarray     # (N, MAX_TARGET) int64: <s> then the target words (teacher forcing)
    tgt_out: np.ndarray    # (N, MAX_TARGET) int64: the target words then </s>, -1 after
    alignment: np.ndarray  # (N, MAX_TARGET) int64: the source position each output translates, -1 after

    def source_tokens(self, row: int) -> list[str]:
        return [SOURCE_WORDS[i] for i in self.src[row][self.src_mask[row]]]

    def target_tokens(self, row: int) -> list[str]:
        return [TARGET_WORDS[i] for i in self.tgt_out[row] if i >= 0]


def sentence(rng: np.random.Generator) -> tuple[list[str], list[str], list[int]]:
    """One (source, target, alignment) triple; alignment[i] is the source position of target word i."""
    def noun_phrase():
        words = [str(rng.choice(list(ADJECTIVES)))] if rng.random() < 0.6 else []
        return words + [str(rng.choice(list(NOUNS)))]

    subject, verb, obj = noun_phrase(), str(rng.choice(list(VERBS))), noun_phrase()
    source = subject + [verb] + obj + [EOS]
    # the target order: noun then adjective in each phrase, the verb last
    order = []
    start = 0
    for phrase in (subject, obj):
        positions = list(range(start, start + len(phrase)))
        order += positions[::-1]
        start += len(phrase) + 1  # the verb follows the subject
    order += [len(subject), len(source) - 1]  # the verb, then </s>
    target = [TRANSLATION[source[p]] for p in order]
    return source, target, order


def make_pairs(n: int, seed: int) -> Pairs:
    """``n`` seeded sentence pairs."""
    rng = np.random.default_rng(seed)
    src = np.full((n, MAX_SOURCE), SOURCE_ID[PAD], dtype=np.int64)
    tgt_in = np.full((n, MAX_TARGET), TARGET_ID[PAD], dtype=np.int64)
    tgt_out = np.full((n, MAX_TARGET), -1, dtype=np.int64)
    alignment = np.full((n, MAX_TARGET), -1, dtype=np.int64)
    for row in range(n):
        source, target, order = sentence(rng)
        src[row, :len(source)] = [SOURCE_ID[w] for w in source]
        ids = [TARGET_ID[w] for w in target]
        tgt_in[row, :len(ids)] = [TARGET_ID[BOS], *ids[:-1]]
        tgt_out[row, :len(ids)] = ids
        alignment[row, :len(order)] = order
    return Pairs(src, src != SOURCE_ID[PAD], tgt_in, tgt_out, alignment)

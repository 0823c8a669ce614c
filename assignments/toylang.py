"""A small toy language, generated on the fly, for the Transformer labs.

Real pretraining needs large corpora and a lot of compute.  This module
builds a miniature language instead: it has enough structure for a small
Transformer to learn something in seconds on a laptop CPU, and it is made
with NumPy only, so every framework version of the course uses the very same
data.  Everything is reproducible: each function that draws random numbers
takes a ``seed`` and uses ``np.random.default_rng(seed)``.

The language
------------
Every sentence talks about one of ``NUM_TOPICS`` topics (animals, food,
music, sport).  Each topic owns four adjectives, four nouns and four verbs;
six determiners ("the", "a", ...) are shared by all topics.  Every sentence
has the same shape, nine tokens padded with ``[PAD]`` to ``MAX_LEN``::

    [CLS] det adj noun verb det adj noun [SEP] [PAD]

The determiners are drawn uniformly; the adjectives, nouns and verbs are
drawn from the sentence's topic.  Example::

    [CLS] the furry cat chases every wild rabbit [SEP]
    [CLS] one loud guitar strums a tuned drum [SEP]

The shape is fixed on purpose: a model learns in a few steps which kind of
word each position holds, so the rest of its training goes into the part
that needs attention, reading the topic from the other words.

Why it is useful
----------------
* Masked-language modelling: a masked content word can be guessed from the
  others (they share the topic) and its part of speech from its position,
  so a model that reads context does far better than always predicting the
  most frequent word (``the``, ``a``, ... each make up only about 1/21 of
  the words).  The best possible masked-token accuracy is about 0.23:
  determiners are drawn at random (one chance in six), and a content word
  can only be guessed up to its topic (one chance in four).
* Transfer learning: ``make_classification_split`` asks for the topic of a
  sentence, with very few labelled examples.  The labelled training sentences
  only use the first ``LABELLED_WORDS_PER_SLOT`` adjectives, nouns and verbs
  of every topic, while the test sentences only use the remaining ones.  A
  model trained from scratch on the labelled examples has never seen a single
  test word; a model pretrained with MLM on the (unlabelled) corpus has
  learned which words belong together, and can transfer.  This is a
  controlled version of the usual situation: labels are scarce and cover a
  small part of the vocabulary, raw text covers all of it.

Token ids
---------
``PAD_ID = 0``, ``CLS_ID = 1``, ``SEP_ID = 2``, ``MASK_ID = 3`` (the special
tokens, collected in ``SPECIAL_IDS``), then the determiners, then for each
topic in turn its adjectives, nouns and verbs.  ``vocabulary()[i]`` is the
word with id ``i``; ``VOCAB_SIZE`` words in all.  Token-id arrays are
``np.int64``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PAD_ID",
    "CLS_ID",
    "SEP_ID",
    "MASK_ID",
    "SPECIAL_IDS",
    "SPECIAL_TOKENS",
    "DETERMINERS",
    "TOPIC_NAMES",
    "NUM_TOPICS",
    "WORDS_PER_SLOT",
    "LABELLED_WORDS_PER_SLOT",
    "MAX_LEN",
    "SENTENCE_LEN",
    "VOCAB_SIZE",
    "vocabulary",
    "make_corpus",
    "make_classification_split",
    "decode",
    "encode",
    "key_mask",
]

# --- special tokens ---------------------------------------------------------
PAD_ID = 0
CLS_ID = 1
SEP_ID = 2
MASK_ID = 3
SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")
SPECIAL_IDS = (PAD_ID, CLS_ID, SEP_ID, MASK_ID)

# --- the lexicon --------------------------------------------------------------
DETERMINERS = ("the", "a", "this", "that", "every", "one")

# topic -> (adjectives, nouns, verbs); four words of each kind per topic.
_LEXICON = {
    "animals": (
        ("furry", "wild", "hungry", "sleepy"),
        ("cat", "dog", "rabbit", "horse"),
        ("chases", "bites", "licks", "follows"),
    ),
    "food": (
        ("sweet", "salty", "fresh", "crispy"),
        ("bread", "soup", "cake", "apple"),
        ("bakes", "tastes", "slices", "peels"),
    ),
    "music": (
        ("loud", "tuned", "acoustic", "melodic"),
        ("guitar", "drum", "piano", "violin"),
        ("plays", "strums", "hums", "records"),
    ),
    "sport": (
        ("fast", "strong", "tired", "winning"),
        ("ball", "goal", "team", "coach"),
        ("kicks", "throws", "passes", "catches"),
    ),
}

TOPIC_NAMES = tuple(_LEXICON)
NUM_TOPICS = len(TOPIC_NAMES)
WORDS_PER_SLOT = 4
LABELLED_WORDS_PER_SLOT = 2

MAX_LEN = 10
SENTENCE_LEN = 9  # [CLS] det adj noun verb det adj noun [SEP]

_ADJ, _NOUN, _VERB = 0, 1, 2

_VOCAB = list(SPECIAL_TOKENS) + list(DETERMINERS)
for _kinds in _LEXICON.values():
    for _words in _kinds:
        _VOCAB.extend(_words)
VOCAB_SIZE = len(_VOCAB)
_WORD_TO_ID = {word: i for i, word in enumerate(_VOCAB)}
if len(_WORD_TO_ID) != VOCAB_SIZE:  # pragma: no cover - guards edits of the lexicon
    raise RuntimeError("toylang: a word appears twice in the lexicon")

_DETERMINER_IDS = np.array([_WORD_TO_ID[w] for w in DETERMINERS], dtype=np.int64)
# _CONTENT_IDS[topic, kind, k] = id of the k-th word of that kind in that topic.
_CONTENT_IDS = np.array(
    [[[_WORD_TO_ID[w] for w in words] for words in kinds] for kinds in _LEXICON.values()],
    dtype=np.int64,
)


def vocabulary() -> list[str]:
    """Return the list of all tokens; position ``i`` holds the token with id ``i``.

    Returns a fresh list of ``VOCAB_SIZE`` strings, starting with
    ``"[PAD]", "[CLS]", "[SEP]", "[MASK]"``.
    """
    return list(_VOCAB)


def _content_words(rng, word_topics, kind, low, high):
    """Draw one word of ``kind`` per sentence from ``word_topics``, index in [low, high)."""
    index = rng.integers(low, high, size=word_topics.shape[0])
    return _CONTENT_IDS[word_topics, kind, index]


def _sentences(rng, topics, low, high):
    """Generate one padded sentence per entry of ``topics`` (vectorised).

    Content words are drawn among the words ``low .. high-1`` of each kind.
    Every call makes the same random draws for a given number of sentences,
    so a seed fixes the result.
    """
    topics = np.asarray(topics, dtype=np.int64)
    n = topics.shape[0]

    def content(kind):
        return _content_words(rng, topics, kind, low, high)

    def determiner():
        return _DETERMINER_IDS[rng.integers(0, len(DETERMINERS), size=n)]

    columns = [np.full(n, CLS_ID, dtype=np.int64)]
    columns += [determiner(), content(_ADJ), content(_NOUN), content(_VERB)]
    columns += [determiner(), content(_ADJ), content(_NOUN)]
    columns += [np.full(n, SEP_ID, dtype=np.int64)]
    ids = np.full((n, MAX_LEN), PAD_ID, dtype=np.int64)
    ids[:, :SENTENCE_LEN] = np.stack(columns, axis=1)
    return ids


def _check_count(name, value):
    if int(value) != value or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def make_corpus(n_sentences: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Generate an unlabelled pretraining corpus.

    Each sentence gets a topic drawn uniformly; all words of all topics occur.

    Args:
        n_sentences: number of sentences N.
        seed: seed of ``np.random.default_rng``; the same seed gives the same corpus.

    Returns:
        ids: ``np.int64`` array (N, MAX_LEN): ``[CLS] ... [SEP]`` then ``[PAD]``.
        topics: ``np.int64`` array (N,), the topic index of each sentence
            (``TOPIC_NAMES[t]``).  Pretraining ignores it; it is there for
            inspection.
    """
    n = _check_count("n_sentences", n_sentences)
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, NUM_TOPICS, size=n).astype(np.int64)
    ids = _sentences(rng, topics, 0, WORDS_PER_SLOT)
    return ids, topics


def make_classification_split(
    n_train_per_class: int, n_test: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate the few-shot topic-classification task.

    The label of a sentence is its topic (0 .. NUM_TOPICS-1).  The training sentences only use the first
    ``LABELLED_WORDS_PER_SLOT`` adjectives, nouns and verbs of every topic; the
    test sentences only use the others, so no adjective, noun or verb of the
    test set appears in the training set (only determiners are shared).

    Args:
        n_train_per_class: labelled training sentences per topic (the training
            set has ``n_train_per_class * NUM_TOPICS`` sentences, shuffled).
        n_test: number of test sentences; the topics are as balanced as
            possible (``n_test // NUM_TOPICS`` or one more per topic), shuffled.
        seed: seed of ``np.random.default_rng``.

    Returns:
        train_ids: ``np.int64`` (n_train_per_class * NUM_TOPICS, MAX_LEN)
        train_labels: ``np.int64`` (n_train_per_class * NUM_TOPICS,)
        test_ids: ``np.int64`` (n_test, MAX_LEN)
        test_labels: ``np.int64`` (n_test,)
    """
    per_class = _check_count("n_train_per_class", n_train_per_class)
    n_test = _check_count("n_test", n_test)
    rng = np.random.default_rng(seed)
    train_labels = rng.permutation(np.repeat(np.arange(NUM_TOPICS, dtype=np.int64), per_class))
    train_ids = _sentences(rng, train_labels, 0, LABELLED_WORDS_PER_SLOT)
    test_labels = rng.permutation(np.arange(n_test, dtype=np.int64) % NUM_TOPICS)
    test_ids = _sentences(rng, test_labels, LABELLED_WORDS_PER_SLOT, WORDS_PER_SLOT)
    return train_ids, train_labels, test_ids, test_labels


def decode(ids) -> str:
    """Turn one sentence of token ids (1-D, any integer sequence) into text.

    Tokens are joined by spaces; ``[PAD]`` tokens are dropped, the other
    special tokens are shown as ``[CLS]``, ``[SEP]``, ``[MASK]``.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"decode expects one sentence (a 1-D sequence), got shape {ids.shape}")
    words = []
    for i in ids.tolist():
        if not 0 <= i < VOCAB_SIZE:
            raise ValueError(f"token id {i} is outside the vocabulary (0 .. {VOCAB_SIZE - 1})")
        if i != PAD_ID:
            words.append(_VOCAB[i])
    return " ".join(words)


def encode(text: str) -> np.ndarray:
    """Turn space-separated words into one padded sentence of ids.

    ``[CLS]`` and ``[SEP]`` are added around the words, then ``[PAD]`` up to
    ``MAX_LEN``; ``[MASK]`` may be written in ``text``.  Handy for trying a
    model on sentences of your own, e.g. ``encode("the [MASK] cat chases a dog")``.

    Returns an ``np.int64`` array (MAX_LEN,).  Raises ValueError for an unknown
    word or a sentence longer than ``MAX_LEN - 2`` words.
    """
    words = text.split()
    if len(words) > MAX_LEN - 2:
        raise ValueError(f"at most {MAX_LEN - 2} words fit in MAX_LEN={MAX_LEN}, got {len(words)}")
    unknown = [w for w in words if w not in _WORD_TO_ID]
    if unknown:
        raise ValueError(f"unknown word(s) {unknown}; see vocabulary()")
    ids = np.full(MAX_LEN, PAD_ID, dtype=np.int64)
    body = [CLS_ID] + [_WORD_TO_ID[w] for w in words] + [SEP_ID]
    ids[: len(body)] = body
    return ids


def key_mask(ids) -> np.ndarray:
    """Boolean array of the same shape as ``ids``: True where the token is not ``[PAD]``.

    This is the key mask the attention layers expect (True = a real token that
    may be attended to).
    """
    return np.asarray(ids) != PAD_ID


def unigram_baseline(corpus_ids, labels, ignore_index: int = -100) -> float:
    """Accuracy of always guessing the corpus's most frequent non-special token.

    The context-free baseline of masked-token prediction: count the tokens of
    ``corpus_ids`` that are not special, take the most frequent one (lowest id on
    ties), and score that guess at every position whose label is not
    ``ignore_index``. A model that uses context must beat it.

    Args:
        corpus_ids: (N, T) token ids the frequencies are counted on.
        labels: (B, T) the original id at predicted positions, ``ignore_index`` elsewhere.

    Returns:
        Accuracy in [0, 1] over the labelled positions (0.0 if there are none).
    """
    corpus = np.asarray(corpus_ids).reshape(-1)
    labels = np.asarray(labels)
    words = corpus[~np.isin(corpus, SPECIAL_IDS)]
    most_frequent = int(np.bincount(words, minlength=VOCAB_SIZE).argmax())
    scored = labels != ignore_index
    if not scored.any():
        return 0.0
    return float((labels[scored] == most_frequent).mean())

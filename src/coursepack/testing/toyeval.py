"""Held-out evaluation of pretraining and fine-tuning, computed by the grader itself.

The grader builds the evaluation data with the course's trusted ``toylang`` module,
sends only token ids to the submission, and scores the logits that come back. The
submission never sees labels, and no figure it reports is believed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursepack.testing.masking import IGNORE_INDEX
from coursepack.testing import require


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


# --- the pretraining / transfer experiment, as the grader runs it -----------------
#
# One worker call runs the student's whole experiment: pretraining, the masked-token
# guesses on held-out sentences, fine-tuning and the classification of held-out
# sentences; a second call fine-tunes the same initial network without pretraining.
# The sizes match ``run_experiment``'s defaults in training.py, so a student who runs
# the experiment sees the figures the test sees. They are chosen so that the experiment
# shows its effect in about a second on one CPU core: the toy language has a fixed
# shape, so the model knows each position's kind of word after a few steps, and
# attention, with weights initialised at BERT's scale for this width (``INIT_STD``),
# learns to read the topic from the context within 30 to 70 steps of the 100.

MODEL = dict(d_model=32, num_heads=2, d_ff=64, num_layers=1, dropout=0.0)
PRETRAIN = dict(steps=100, batch_size=128, lr=1e-2)
FINETUNE = dict(steps=40, batch_size=16, lr=3e-3)
N_CORPUS = 5000
N_MASKED_EVAL = 1000
N_TRAIN_PER_CLASS = 4
N_TEST = 400
# No model can do much better than this mean MLM loss on toylang: the entropy of a masked
# determiner is ln 6 = 1.79 and of a masked content word, its topic known, ln 4 = 1.39
# (a little less, as 10% of the selected tokens are left unchanged). The reference ends
# near 1.6; a loss below the floor was not computed on the selected positions alone.
LOSS_FLOOR = 1.0


def model_config(toylang) -> dict:
    """The ``MiniBert`` keyword arguments of the experiment."""
    return dict(vocab_size=toylang.VOCAB_SIZE, max_len=toylang.MAX_LEN, num_classes=toylang.NUM_TOPICS, **MODEL)


@dataclass(kw_only=True)
class Pretraining:
    """What the student's pretraining showed, every figure computed by the grader."""

    losses: np.ndarray  # what pretrain_mlm returned, one loss per step
    mlm_accuracy: float  # the pretrained model's guesses of held-out masked tokens
    unigram_accuracy: float  # always guessing the corpus's most frequent word
    pretrained_accuracy: float | None = None  # topic classification after fine-tuning it, if run

    @property
    def loss_start(self) -> float:
        """Mean loss of the first 20 steps."""
        return float(np.mean(self.losses[:20]))

    @property
    def loss_end(self) -> float:
        """Mean loss of the last 20 steps."""
        return float(np.mean(self.losses[-20:]))

    @property
    def mlm_needed(self) -> float:
        """The masked-token accuracy a model that reads context must reach: clearly above
        the baseline, and above the ~0.1 of a model that only knows each position's kind."""
        return max(2 * self.unigram_accuracy, self.unigram_accuracy + 0.1)


@dataclass(kw_only=True)
class Experiment(Pretraining):
    """The pretraining's figures, and what fine-tuning made of it."""

    pretrained_accuracy: float  # topic classification after fine-tuning the pretrained model
    scratch_accuracy: float  # the same fine-tuning from the same initial weights, no pretraining
    chance_accuracy: float


def run_pretraining(judge, toylang, *, relabel_seed: int, data_seed: int, fine_tune: bool = False) -> Pretraining:
    """Run the student's pretraining in the worker and score its masked-token guesses;
    with ``fine_tune``, fine-tune the pretrained model too and score its classifications.

    One worker call: the first of :func:`run_experiment`'s two, with the same figures
    (the network trained from scratch, the second call, is left out).
    """
    return _run(judge, toylang, relabel_seed=relabel_seed, data_seed=data_seed, fine_tune=fine_tune,
                scratch=False)


def run_experiment(judge, toylang, *, relabel_seed: int, data_seed: int) -> Experiment:
    """Run the student's pretraining and fine-tuning in the worker and score the results.

    Every token id is relabelled with ``scramble(relabel_seed)``, so knowing toylang's
    word list is no help: the model has to learn from the corpus it is given.
    """
    return _run(judge, toylang, relabel_seed=relabel_seed, data_seed=data_seed, fine_tune=True, scratch=True)


def _run(judge, toylang, *, relabel_seed: int, data_seed: int, fine_tune: bool, scratch: bool):
    """The experiment's worker calls: the pretraining, then (``fine_tune``) the fine-tuning
    of the pretrained model in the same call, and (``scratch``) of the untrained network in
    a second one."""
    relabel = scramble(toylang, seed=relabel_seed)
    corpus = relabel(toylang.make_corpus(N_CORPUS, seed=data_seed)[0])
    masked, labels = map(relabel, masked_eval_set(toylang, N_MASKED_EVAL, seed=data_seed + 1))
    train_ids, train_labels, test_ids, test_labels = toylang.make_classification_split(
        N_TRAIN_PER_CLASS, N_TEST, seed=data_seed + 2)
    train_ids, test_ids = relabel(train_ids), relabel(test_ids)
    build = {"target": judge.target("MiniBert"), "kwargs": model_config(toylang), "mode": "train"}
    finetune = [
        {"call": judge.target("finetune_classifier"),
         "args": {"model": "$model", "ids": "@train_ids", "labels": "@train_labels", "seed": data_seed, **FINETUNE}},
        {"mode": "eval"},
        {"call": "model", "args": {"input_ids": "@test_ids", "key_mask": "@test_mask"}, "save": "test_hidden"},
        {"call": "model.classify", "args": {"hidden": "$test_hidden"}, "save": "class_logits"},
    ]
    classification = {"train_ids": train_ids, "train_labels": train_labels, "test_ids": test_ids,
                      "test_mask": test_ids != toylang.PAD_ID}
    pretrained = judge.run(
        build=build,
        steps=[{"call": judge.target("pretrain_mlm"),
                "args": {"model": "$model", "corpus_ids": "@corpus", "seed": data_seed, **PRETRAIN}, "save": "losses"},
               {"mode": "eval"},
               {"call": "model", "args": {"input_ids": "@masked", "key_mask": "@masked_mask"}, "save": "hidden"},
               {"call": "model.mlm_logits", "args": {"hidden": "$hidden"}, "save": "mlm_logits"},
               *(finetune if fine_tune else [])],
        returns={"losses": "losses", "mlm_logits": "mlm_logits", **({"class_logits": "class_logits"} if fine_tune else {})},
        arrays={"corpus": corpus, "masked": masked, "masked_mask": masked != toylang.PAD_ID,
                **(classification if fine_tune else {})},
        seed=data_seed)
    mlm_shape = masked.shape + (toylang.VOCAB_SIZE,)
    require(pretrained["mlm_logits"].shape == mlm_shape,
             f"mlm_logits must have shape {mlm_shape}, got {pretrained['mlm_logits'].shape}")
    losses = np.asarray(pretrained["losses"], dtype=np.float64).reshape(-1)
    require(losses.shape == (PRETRAIN["steps"],),
             f"pretrain_mlm must return one loss per step ({PRETRAIN['steps']} floats), got {losses.size}")
    require(bool(np.all(np.isfinite(losses))), "pretrain_mlm returned a loss that is NaN or infinite")
    figures = {"losses": losses, "mlm_accuracy": masked_accuracy(pretrained["mlm_logits"], labels),
               "unigram_accuracy": toylang.unigram_baseline(corpus, labels)}
    if not fine_tune:
        return Pretraining(**figures)
    class_shape = (len(test_ids), toylang.NUM_TOPICS)
    require(pretrained["class_logits"].shape == class_shape,
            f"classify must return (B, num_classes) logits, here {class_shape}; got {pretrained['class_logits'].shape}")
    figures["pretrained_accuracy"] = class_accuracy(pretrained["class_logits"], test_labels)
    if not scratch:
        return Pretraining(**figures)

    # The same network, built with the same seed (so the same initial weights), fine-tuned alone.
    alone = judge.run(build=build, steps=finetune, returns={"class_logits": "class_logits"},
                      arrays=classification, seed=data_seed)
    require(alone["class_logits"].shape == class_shape,
            f"classify must return (B, num_classes) logits, here {class_shape}; got {alone['class_logits'].shape}")
    return Experiment(**figures, scratch_accuracy=class_accuracy(alone["class_logits"], test_labels),
                      chance_accuracy=1.0 / toylang.NUM_TOPICS)


def pretraining_problems(run: Pretraining) -> list[str]:
    """Why the pretraining in ``run`` did not learn the language; empty when it did.

    Training that does not learn stays near the baseline (``tests/test_training_mutants.py``).
    """
    problems = []
    start, end = run.loss_start, run.loss_end
    if not end <= start - 0.5:
        problems.append(f"the losses pretrain_mlm returned went from {start:.2f} (first 20 steps) to {end:.2f} "
                        f"(last 20): they should fall by at least 0.5 (about 3.2 to 1.6 is typical)")
    if end < LOSS_FLOOR:
        problems.append(f"the losses pretrain_mlm returned end at {end:.2f}, below what guessing hidden words "
                        f"allows on this language (about 1.4: a determiner is one of six, a content word one of "
                        f"four of its topic): is the loss taken over every position instead of only the "
                        f"selected ones (label != IGNORE_INDEX)?")
    need = run.mlm_needed
    if not run.mlm_accuracy >= need:
        problems.append(f"after {len(run.losses)} steps of pretraining your model guesses {run.mlm_accuracy:.3f} of "
                        f"the held-out masked tokens, not clearly above always guessing the most frequent word "
                        f"({run.unigram_accuracy:.3f}; need >= {need:.3f})")
    return problems


PRETRAINED_NEEDED = 0.6  # topic accuracy of the fine-tuned pretrained model (chance: 0.25)


def fine_tuning_problems(run: Pretraining) -> list[str]:
    """Why the fine-tuned pretrained model in ``run`` does not classify well; empty when it does."""
    if run.pretrained_accuracy is None or run.pretrained_accuracy >= PRETRAINED_NEEDED:
        return []
    problem = (f"with {N_TRAIN_PER_CLASS} labelled sentences per topic, the fine-tuned pretrained model classifies "
               f"{run.pretrained_accuracy:.3f} of the test sentences correctly; pretraining should bring it to "
               f"{PRETRAINED_NEEDED} or more")
    return [problem]


def experiment_problems(run: Experiment) -> list[str]:
    """Why ``run`` does not show what the lesson promises; empty when it does: the
    pretraining's problems (:func:`pretraining_problems`), then the transfer's.

    Over 20 seeds of data and relabelling (``bench/pretraining_margins.py``), both
    references always passed. PyTorch: masked-token accuracy at least 0.055 above
    its threshold (the baseline plus 0.1, about 0.15; a model that only learned which
    kind of word each position holds gets about 0.1), pretrained test accuracy 1.0,
    at most 0.36 from scratch. TensorFlow: at least 0.061 above the threshold,
    pretrained 0.90 or more, at most 0.47 from scratch. Training that does not learn
    stays near the baseline and chance (``tests/test_training_mutants.py``).
    """
    problems = pretraining_problems(run)
    if not (run.pretrained_accuracy >= PRETRAINED_NEEDED and run.pretrained_accuracy >= run.scratch_accuracy + 0.15):
        problems.append(f"with {N_TRAIN_PER_CLASS} labelled sentences per topic, the fine-tuned pretrained model "
                        f"classifies {run.pretrained_accuracy:.3f} of the test sentences correctly and the same "
                        f"network trained from scratch {run.scratch_accuracy:.3f} (chance {run.chance_accuracy:.2f}); "
                        f"pretraining should reach {PRETRAINED_NEEDED} and beat scratch by at least 0.15")
    return problems

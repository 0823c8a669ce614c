"""Public tests: the masked-LM loss and pretraining on the toy language.

Run them with ``course check pretraining``. The pretraining test trains your mini-BERT
with your ``pretrain_mlm`` for a few hundred steps (about half a minute), then the
grader masks held-out sentences itself and scores your model's guesses.
"""

import numpy as np

from coursepack import toyeval
from coursepack.checks import IGNORE_INDEX
from coursepack.testing import require, task

STEPS = 800


@task("pretraining")
def test_mlm_loss_ignores_unselected_positions(judge, expected):
    rng = np.random.default_rng(61)
    logits = rng.standard_normal((2, 5, 11)).astype(np.float32)
    labels = rng.integers(0, 11, size=(2, 5))
    labels[rng.random((2, 5)) < 0.5] = IGNORE_INDEX
    labels[0, 0] = 4
    out = judge.function("mlm_loss")(logits=logits, labels=labels, returns="loss")
    require(out["loss"].shape == (), f"the loss must be a scalar (0-d) tensor, got shape {out['loss'].shape}")
    expected.check(out)


def model_config(toylang):
    return dict(vocab_size=toylang.VOCAB_SIZE, max_len=toylang.MAX_LEN, d_model=64, num_heads=2, d_ff=128,
                num_layers=2, num_classes=toylang.NUM_TOPICS, dropout=0.0)


@task("pretraining")
def test_pretraining_beats_unigram_baseline(judge):
    toylang = judge.shared("toylang")
    relabel = toyeval.scramble(toylang, seed=5)  # your model must learn the words from the corpus
    corpus = relabel(toylang.make_corpus(20000, seed=0)[0])
    masked, labels = map(relabel, toyeval.masked_eval_set(toylang, 1000, seed=424242))
    out = judge.run(
        build={"target": judge.target("MiniBert"), "kwargs": model_config(toylang), "mode": "train"},
        steps=[{"call": judge.target("pretrain_mlm"),
                "args": {"model": "$model", "corpus_ids": "@corpus", "steps": STEPS, "batch_size": 128,
                         "lr": 2e-3, "seed": 0}, "save": "losses"},
               {"mode": "eval"},
               {"call": "model", "args": {"input_ids": "@masked", "key_mask": "@key_mask"}, "save": "hidden"},
               {"call": "model.mlm_logits", "args": {"hidden": "$hidden"}, "save": "logits"}],
        returns={"logits": "logits"},
        arrays={"corpus": corpus, "masked": masked, "key_mask": masked != toylang.PAD_ID})
    logits = out["logits"]
    require(logits.shape == masked.shape + (toylang.VOCAB_SIZE,) and logits.dtype == np.float32,
            f"mlm_logits must be float32 of shape {masked.shape + (toylang.VOCAB_SIZE,)}, got {logits.dtype} {logits.shape}")
    accuracy = toyeval.masked_accuracy(logits, labels)
    baseline = toylang.unigram_baseline(corpus, labels)
    # The reference reaches about 4x the baseline; an untrained or broken model stays near 1x.
    need = max(2 * baseline, baseline + 0.1)
    require(accuracy >= need,
            f"after {STEPS} steps of pretraining the masked-token accuracy is {accuracy:.3f}, "
            f"not clearly above the unigram baseline {baseline:.3f} (need >= {need:.3f})")

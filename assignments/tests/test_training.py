"""Public tests: the masked-LM loss, and pretraining then fine-tuning on the toy language.

Run them with ``course check pretraining``. The experiment test runs your whole
experiment once, with the sizes of ``run_experiment``'s defaults (about 2 s on one CPU
core with PyTorch; about 15 s with TensorFlow, most of it tracing the ``tf.function``
steps): your ``pretrain_mlm`` trains a fresh ``MiniBert`` for 100 steps, your
``finetune_classifier`` fine-tunes it on 4 labelled sentences per topic, and the same
network is fine-tuned again from its initial weights. The grader masks held-out sentences itself, scores your model's guesses and
classifications, and checks the losses your ``pretrain_mlm`` returned.

The fine-tuning tests run your ``finetune_classifier`` for a few steps on 8 labelled
sentences, one batch holding all of them, from weights the test loads; the grader
computes the cross-entropy of your model's classify logits itself and compares it with
the losses your loop returned; after three steps it also compares your model's classify
logits with those the reference loop's model gives. The first two tests look at the
same run of three steps, which runs once.
"""

import numpy as np

from coursepack.testing import layouts, toyeval
from coursepack.testing.masking import IGNORE_INDEX
from coursepack.testing import GradingFailure, require, task


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


FINETUNE_MODEL = dict(d_model=16, num_heads=2, d_ff=32, num_layers=1)
FINETUNE_STEPS, FINETUNE_LR = 3, 1e-2


def cross_entropy(logits, labels):
    """Mean cross-entropy of (N, C) logits with (N,) labels, in float64."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def finetune(judge, *, dropout, steps, shared=False):
    """Load weights into a MiniBert, classify 8 sentences (eval mode), run your
    finetune_classifier on them (one batch of all 8), and classify them again.
    ``shared``: another test looks at the same run, which then runs once."""
    toylang = judge.shared("toylang")
    config = dict(vocab_size=toylang.VOCAB_SIZE, max_len=toylang.MAX_LEN, num_classes=toylang.NUM_TOPICS,
                  dropout=dropout, **FINETUNE_MODEL)
    shapes = layouts.mini_bert(config["vocab_size"], config["max_len"], config["d_model"], config["d_ff"],
                               config["num_layers"], 2, config["num_classes"])
    weights = layouts.random_weights(shapes, np.random.default_rng(71))
    ids, labels, _, _ = toylang.make_classification_split(2, 4, seed=3)
    def forward(suffix):
        return [{"call": "model", "args": {"input_ids": "@ids", "key_mask": "@mask"}, "save": f"hidden_{suffix}"},
                {"call": "model.classify", "args": {"hidden": f"$hidden_{suffix}"}, "save": suffix}]
    out = judge.run(
        build={"target": judge.target("MiniBert"), "kwargs": config, "mode": "eval"},
        steps=[*forward("before"),
               {"call": "model.mlm_logits", "args": {"hidden": "$hidden_before"}, "save": "mlm"},  # every layer used
               {"call": judge.target("finetune_classifier"),
                "args": {"model": "$model", "ids": "@ids", "labels": "@labels", "steps": steps,
                         "batch_size": len(ids), "lr": FINETUNE_LR, "seed": 0}, "save": "losses"},
               {"mode": "eval"}, *forward("after")],
        returns={"before": "before", "losses": "losses", "after": "after"},
        arrays={"ids": ids, "labels": labels, "mask": ids != toylang.PAD_ID,
                **{f"w:{k}": v for k, v in weights.items()}},
        shared=shared)
    losses = np.asarray(out["losses"], dtype=np.float64).reshape(-1)
    require(losses.shape == (steps,) and bool(np.all(np.isfinite(losses))),
            f"finetune_classifier must return one finite loss per step ({steps} floats), got {out['losses']!r}")
    return out, losses, labels


@task("pretraining")
def test_finetune_classifier_minimises_the_classification_loss(judge, expected):
    out, losses, labels = finetune(judge, dropout=0.0, steps=FINETUNE_STEPS, shared=True)
    expected.check(out, names=["before"])  # the model you fine-tune (see the mini_bert tests)
    start = cross_entropy(out["before"], labels)
    require(abs(losses[0] - start) <= 1e-4 * max(1.0, start),
            f"the first loss finetune_classifier returned is {losses[0]:.4f}, but the cross-entropy of the "
            f"model's classify logits (the [CLS] summary) with the sentences' labels is {start:.4f} before any "
            f"step: the loss must compare model.classify of the batch's hidden states with the batch's labels")
    end = cross_entropy(out["after"], labels)
    require(end <= 0.8 * start,
            f"after {FINETUNE_STEPS} steps with lr={FINETUNE_LR} on these 8 sentences the classification loss "
            f"went from {start:.3f} to {end:.3f}; a loop that updates every weight once per step gets well below "
            f"{0.8 * start:.3f}: does each step apply the optimiser to fresh gradients?")


@task("pretraining")
def test_finetune_classifier_steps_on_fresh_gradients(judge, expected):
    # Three steps on one batch of all 8 sentences, without dropout (the run of the test
    # above): the model they leave is fixed by the documented loop (its optimiser and
    # settings), whatever order the batch comes in. Adam's first steps move a weight by
    # about lr whatever the size of its gradient, so weights whose gradient is close to zero
    # may go either way in two correct loops: the two tracks' logits differ by about 0.05
    # here, hence the tolerance. A loop whose later steps use other gradients than their
    # own batch's moves them by 0.6 or more.
    out, _, _ = finetune(judge, dropout=0.0, steps=FINETUNE_STEPS, shared=True)
    try:
        expected.check(out, names=["after"], atol=0.1, rtol=0.0)
    except GradingFailure as failure:
        raise GradingFailure(f"after {FINETUNE_STEPS} steps of finetune_classifier the model classifies differently from "
                             f"the reference loop's model: {failure} Does each step apply the gradients of "
                             f"its own batch, once?") from None


@task("pretraining")
def test_finetune_classifier_trains_with_dropout_on(judge):
    # Dropout above 0: in training mode the first loss is that of a thinned network.
    out, losses, labels = finetune(judge, dropout=0.3, steps=1)
    start = cross_entropy(out["before"], labels)
    require(abs(losses[0] - start) > 1e-3,
            f"with dropout=0.3 the first loss finetune_classifier returned ({losses[0]:.4f}) is the loss of the "
            f"model without dropout ({start:.4f}): put the model in training mode while it trains, so that "
            f"dropout is on")


@task("pretraining", slow=True)  # a second worker, if there is one, starts it first
def test_pretraining_learns_the_language_and_transfers(judge):
    # Last in the file: the first worker does every other test while the second trains.
    # relabel_seed: the words get new ids, so your model must learn them from the corpus.
    run = toyeval.run_experiment(judge, judge.shared("toylang"), relabel_seed=5, data_seed=0)
    problems = toyeval.experiment_problems(run)
    require(not problems, "; ".join(problems))

"""Hidden tests: MLM loss gradients and transfer learning (instructors only)."""

import numpy as np

from coursepack import toyeval
from coursepack.checks import IGNORE_INDEX
from coursepack.testing import require, task

PRETRAIN_STEPS = 800
FINETUNE_STEPS = 60


@task("pretraining")
def test_mlm_loss_gradient(judge, expected):
    rng = np.random.default_rng(161)
    logits = (2 * rng.standard_normal((3, 4, 9))).astype(np.float32)
    labels = np.full((3, 4), IGNORE_INDEX)
    labels[0, 1], labels[2, 3], labels[2, 0] = 5, 0, 8
    out = judge.function("mlm_loss")(logits=logits, labels=labels, returns="loss",
                                     grad_inputs=("logits",), cotangents={"loss": np.float32(1.0)})
    expected.check(out)


RELABEL_SEED = 90817  # secret: the relabelled vocabulary a submission cannot know


def _classifier_logits(judge, toylang, pretrain: bool):
    relabel = toyeval.scramble(toylang, seed=RELABEL_SEED)
    corpus = relabel(toylang.make_corpus(20000, seed=1)[0])
    train_ids, train_labels, test_ids, test_labels = toylang.make_classification_split(4, 400, seed=777)
    train_ids, test_ids = relabel(train_ids), relabel(test_ids)
    config = dict(vocab_size=toylang.VOCAB_SIZE, max_len=toylang.MAX_LEN, d_model=64, num_heads=2, d_ff=128,
                  num_layers=2, num_classes=toylang.NUM_TOPICS, dropout=0.0)
    steps = []
    if pretrain:
        steps.append({"call": judge.target("pretrain_mlm"),
                      "args": {"model": "$model", "corpus_ids": "@corpus", "steps": PRETRAIN_STEPS,
                               "batch_size": 128, "lr": 2e-3, "seed": 1}})
    steps += [{"call": judge.target("finetune_classifier"),
               "args": {"model": "$model", "ids": "@train_ids", "labels": "@train_labels", "steps": FINETUNE_STEPS,
                        "batch_size": 16, "lr": 1e-3, "seed": 1}},
              {"mode": "eval"},
              {"call": "model", "args": {"input_ids": "@test_ids", "key_mask": "@test_mask"}, "save": "hidden"},
              {"call": "model.classify", "args": {"hidden": "$hidden"}, "save": "logits"}]
    out = judge.run(build={"target": judge.target("MiniBert"), "kwargs": config, "mode": "train"},
                    steps=steps, returns={"logits": "logits"}, seed=1,
                    arrays={"corpus": corpus, "train_ids": train_ids, "train_labels": train_labels,
                            "test_ids": test_ids, "test_mask": test_ids != toylang.PAD_ID})
    require(out["logits"].shape == (len(test_ids), toylang.NUM_TOPICS),
            "classify must return (B, num_classes) logits")
    return toyeval.class_accuracy(out["logits"], test_labels)


@task("pretraining")
def test_pretrained_model_transfers_better_than_scratch(judge):
    toylang = judge.shared("toylang")
    pretrained = _classifier_logits(judge, toylang, pretrain=True)
    scratch = _classifier_logits(judge, toylang, pretrain=False)
    require(pretrained >= scratch + 0.15 and pretrained >= 0.6,
            f"with 4 labelled sentences per topic, the pretrained model reaches {pretrained:.3f} test accuracy "
            f"and the model trained from scratch {scratch:.3f}: pretraining should help by at least 0.15")

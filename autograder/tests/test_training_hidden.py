"""Hidden tests: MLM loss gradients, and pretraining and fine-tuning on a vocabulary no submission knows
(instructors only)."""

import numpy as np

from coursepack.testing import toyeval
from coursepack.testing.masking import IGNORE_INDEX
from coursepack.testing import require, task


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


@task("pretraining", slow=True)
def test_pretraining_learns_and_transfers_on_a_secret_vocabulary(judge):
    # The public experiment's word ids are known to every student, so weights or lookup
    # tables made beforehand could pass it; here the ids are secret, and only a model that
    # learns from the corpus passes. The pretrained model is fine-tuned too (in the same
    # call); the comparison with a network trained from scratch is left to the public
    # experiment: it needs a second training run.
    run = toyeval.run_pretraining(judge, judge.shared("toylang"), relabel_seed=RELABEL_SEED, data_seed=1,
                                  fine_tune=True)
    problems = toyeval.pretraining_problems(run) + toyeval.fine_tuning_problems(run)
    require(not problems, "; ".join(problems))

"""Public tests: the masked-LM loss, and pretraining then fine-tuning on the toy language.

Run them with ``course check pretraining``. The experiment test runs your whole
experiment once, with the sizes of ``run_experiment``'s defaults (about a second on one
CPU core with PyTorch, a few seconds with TensorFlow): your ``pretrain_mlm`` trains a
fresh ``MiniBert`` for 150 steps, your ``finetune_classifier`` fine-tunes it on 4
labelled sentences per topic, and the same network is fine-tuned again from its initial
weights. The grader masks held-out sentences itself, scores your model's guesses and
classifications, and checks the losses your ``pretrain_mlm`` returned.
"""

import numpy as np

from coursepack.testing import toyeval
from coursepack.testing.masking import IGNORE_INDEX
from coursepack.testing import require, task


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


@task("pretraining")
def test_pretraining_learns_the_language_and_transfers(judge):
    # relabel_seed: the words get new ids, so your model must learn them from the corpus.
    run = toyeval.run_experiment(judge, judge.shared("toylang"), relabel_seed=5, data_seed=0)
    problems = toyeval.experiment_problems(run)
    require(not problems, "; ".join(problems))

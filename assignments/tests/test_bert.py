"""Public tests: the mini-BERT model and ``mask_tokens``.

Run them with ``course check mini_bert mask_tokens``.
"""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing.masking import IGNORE_INDEX, masking_problems
from coursepack.testing import key_mask, require, task

CONFIG = dict(vocab_size=23, max_len=8, d_model=12, num_heads=3, d_ff=16, num_layers=2,
              num_segments=2, num_classes=3)
SPECIAL = [0, 1, 2, 3]      # [PAD], [CLS], [SEP], [MASK] in these tests
MASK_ID = 3


def mini_bert(judge, rng, **overrides):
    config = {**CONFIG, **overrides}
    shapes = layouts.mini_bert(config["vocab_size"], config["max_len"], config["d_model"], config["d_ff"],
                               config["num_layers"], config["num_segments"], config["num_classes"])
    return judge.module("MiniBert", init=config, weights=layouts.random_weights(shapes, rng))


def sentences(rng, batch, length, vocab_size, lengths):
    """[CLS] w w ... [SEP] [PAD]...: real words are ids >= 4."""
    ids = rng.integers(4, vocab_size, size=(batch, length))
    for b, n in enumerate(lengths):
        ids[b, 0], ids[b, n - 1], ids[b, n:] = 1, 2, 0
    return ids


@task("mini_bert")
def test_hidden_states_and_heads(judge, expected):
    rng = np.random.default_rng(51)
    bert = mini_bert(judge, rng)
    ids = sentences(rng, 2, 6, 23, [6, 4])
    segments = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]])
    out = bert.calls(hidden=("forward", dict(input_ids=ids, segment_ids=segments, key_mask=key_mask([6, 4], 6))),
                     mlm_logits=("mlm_logits", {"hidden": "$hidden"}),
                     class_logits=("classify", {"hidden": "$hidden"}))
    require(out["mlm_logits"].shape == (2, 6, 23), "mlm_logits must have shape (B, T, vocab_size)")
    require(out["class_logits"].shape == (2, 3), "classify must return (B, num_classes)")
    expected.check(out, atol=5e-5, rtol=5e-4)


@task("mask_tokens")
def test_mask_tokens_exact_at_degenerate_rates(judge):
    rng = np.random.default_rng(52)
    ids = sentences(rng, 4, 10, 30, [10, 7, 3, 9])
    fn = judge.function("mask_tokens")
    common = dict(vocab_size=30, mask_token_id=MASK_ID, special_ids=SPECIAL, returns=("masked_ids", "labels"))
    none = fn(input_ids=ids, mask_prob=0.0, **common)
    require(np.array_equal(none["masked_ids"], ids) and np.all(none["labels"] == IGNORE_INDEX),
            "with mask_prob=0 nothing is selected: ids unchanged and every label -100")
    every = fn(input_ids=ids, mask_prob=1.0, replace_prob=1.0, random_prob=0.0, **common)
    real = ids >= 4
    require(np.all(every["masked_ids"][real] == MASK_ID) and np.array_equal(every["masked_ids"][~real], ids[~real]),
            "with mask_prob=1 and replace_prob=1 every non-special token becomes [MASK] and special ones stay")
    require(np.array_equal(every["labels"][real], ids[real]) and np.all(every["labels"][~real] == IGNORE_INDEX),
            "labels must be the original id at selected positions and -100 at special ones")


@task("mask_tokens")
def test_mask_tokens_15_percent_80_10_10(judge):
    rng = np.random.default_rng(53)
    ids = sentences(rng, 400, 40, 50, rng.integers(5, 41, size=400))
    out = judge.function("mask_tokens")(
        input_ids=ids, vocab_size=50, mask_token_id=MASK_ID, special_ids=SPECIAL,
        returns=("masked_ids", "labels"), seed=7)
    problems = masking_problems(ids, out["masked_ids"], out["labels"], mask_id=MASK_ID, special_ids=SPECIAL,
                                mask_prob=0.15, replace_prob=0.8, random_prob=0.1, vocab_size=50)
    require(not problems, "; ".join(problems))

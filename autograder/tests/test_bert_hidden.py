"""Hidden tests: mini-BERT and mask_tokens (instructors only)."""

import numpy as np

from coursepack.testing import layouts
from coursepack.testing.masking import masking_problems
from coursepack.testing import key_mask, require, task

SPECIAL = [0, 1, 2, 3]
MASK_ID = 3


def mini_bert(judge, rng, config):
    shapes = layouts.mini_bert(config["vocab_size"], config["max_len"], config["d_model"], config["d_ff"],
                               config["num_layers"], config.get("num_segments", 2), config.get("num_classes", 2))
    return judge.module("MiniBert", init=config, weights=layouts.random_weights(shapes, rng))


def sentences(rng, batch, length, vocab_size, lengths):
    ids = rng.integers(4, vocab_size, size=(batch, length))
    for b, n in enumerate(lengths):
        ids[b, 0], ids[b, n - 1], ids[b, n:] = 1, 2, 0
    return ids


@task("mini_bert")
def test_defaults_without_segments_or_mask(judge, expected):
    rng = np.random.default_rng(151)
    bert = mini_bert(judge, rng, dict(vocab_size=17, max_len=6, d_model=8, num_heads=2, d_ff=12, num_layers=1))
    ids = sentences(rng, 3, 6, 17, [6, 6, 6])
    out = bert.calls(hidden=("forward", dict(input_ids=ids)),
                     mlm_logits=("mlm_logits", {"hidden": "$hidden"}),
                     pooled=("pooled", {"hidden": "$hidden"}),
                     class_logits=("classify", {"hidden": "$hidden"}))
    expected.check(out, atol=5e-5, rtol=5e-4)


@task("mini_bert")
def test_three_layers_four_heads(judge, expected):
    rng = np.random.default_rng(152)
    config = dict(vocab_size=29, max_len=10, d_model=16, num_heads=4, d_ff=24, num_layers=3,
                  num_segments=3, num_classes=4)
    bert = mini_bert(judge, rng, config)
    ids = sentences(rng, 3, 9, 29, [9, 5, 2])
    seg = rng.integers(0, 3, size=(3, 9))
    out = bert.calls(hidden=("forward", dict(input_ids=ids, segment_ids=seg, key_mask=key_mask([9, 5, 2], 9))),
                     mlm_logits=("mlm_logits", {"hidden": "$hidden"}))
    expected.check(out, atol=5e-5, rtol=5e-4)


@task("mini_bert")
def test_tied_embedding_gradients(judge, expected):
    # The MLM head's output matrix is the token embedding: its gradient gets both uses.
    rng = np.random.default_rng(153)
    config = dict(vocab_size=13, max_len=5, d_model=8, num_heads=2, d_ff=8, num_layers=1)
    bert = mini_bert(judge, rng, config)
    ids = sentences(rng, 2, 5, 13, [5, 4])
    out = bert.calls(hidden=("forward", dict(input_ids=ids, key_mask=key_mask([5, 4], 5))),
                     mlm_logits=("mlm_logits", {"hidden": "$hidden"}),
                     grad_params=True,
                     cotangents={"mlm_logits": rng.standard_normal((2, 5, 13)).astype(np.float32)})
    grads = [f"grad:{name}" for name in layouts.mini_bert(13, 5, 8, 8, 1)]
    expected.check(out, names=grads, atol=5e-5, rtol=5e-4)


def _masking(judge, seed, **rates):
    rng = np.random.default_rng(seed)
    ids = sentences(rng, 300, 40, 60, rng.integers(3, 41, size=300))
    out = judge.function("mask_tokens")(
        input_ids=ids, vocab_size=60, mask_token_id=MASK_ID, special_ids=SPECIAL,
        returns=("masked_ids", "labels"), seed=seed, **rates)
    full = {**dict(mask_prob=0.15, replace_prob=0.8, random_prob=0.1), **rates}
    problems = masking_problems(ids, out["masked_ids"], out["labels"], mask_id=MASK_ID, special_ids=SPECIAL,
                                vocab_size=60, **{k: full[k] for k in ("mask_prob", "replace_prob", "random_prob")})
    require(not problems, "; ".join(problems))


@task("mask_tokens")
def test_only_random_replacements(judge):
    _masking(judge, 154, mask_prob=0.5, replace_prob=0.0, random_prob=1.0)


@task("mask_tokens")
def test_selected_but_unchanged(judge):
    _masking(judge, 155, mask_prob=0.3, replace_prob=0.0, random_prob=0.0)


@task("mask_tokens")
def test_other_rates(judge):
    _masking(judge, 156, mask_prob=0.4, replace_prob=0.5, random_prob=0.25)


@task("mask_tokens")
def test_default_rates_second_seed(judge):
    _masking(judge, 157)

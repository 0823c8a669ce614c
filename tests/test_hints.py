"""The analytic hints: each fires where it is true, stays silent where it is not, and
points at the right thing.

The first tests work on arrays alone (testing/diagnose.py, testing/masking.py). The last
ones grade small variants of the reference, each a mistake that used to get a hint
pointing the wrong way, and check what the failing test now says.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from submissions import edit, make_submission

from coursepack.course.mistakes import load_catalogue, make_variant
from coursepack.grading.grader import grade
from coursepack.testing.diagnose import compare, normalisation_hint, weights_problem
from coursepack.testing.masking import masking_problems

RNG = np.random.default_rng(2024)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def normal(*shape, scale=1.0):
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


# -- a scale factor only where one explains the error ---------------------------------------

def test_no_scale_factor_for_a_reference_that_is_zero():
    # The key bias gets no gradient in a correct attention layer (the softmax ignores a shift
    # of all scores): a reference of rounding noise, which a least-squares "scale" fits by
    # shrinking the student's values to nothing.
    want, got = normal(8, scale=1e-8), normal(8, scale=0.3)
    message = compare("grad:w_k.bias", got, want)
    assert "scaled by" not in message, message
    assert "The reference's gradient is zero in every entry" in message, message


def test_a_real_scale_factor_is_still_named():
    want = normal(2, 4, 6)
    message = compare("output", want * np.float32(2.5), want)
    assert "It is the reference scaled by 2.5" in message, message
    assert "zero in every entry" not in message
    # A small reference that is not zero, and values off in other ways: no scale hint.
    want = normal(2, 4, 6, scale=1e-3)
    assert "scaled by" not in compare("output", want + normal(2, 4, 6, scale=0.1), want)


# -- which axis the weights sum to 1 over --------------------------------------------------

def test_the_axis_the_weights_sum_to_one_over():
    scores = normal(2, 3, 4, 5)
    message = compare("weights", softmax(scores, axis=-2), softmax(scores))
    assert "sum to 1 over the keys (axis -1); yours sum to 1 over the queries (axis -2)" in message, message
    unnormalised = compare("weights", np.exp(scores), softmax(scores))
    assert "yours sum to between" in unnormalised and "instead of lying in [0, 1]" in unnormalised, unnormalised


def test_no_normalisation_hint_when_the_weights_sum_over_the_right_axis():
    scores = normal(2, 3, 4, 5)
    message = compare("weights", softmax(2 * scores), softmax(scores))  # a wrong temperature
    assert message and "sum to 1" not in message, message
    assert normalisation_hint(softmax(2 * scores), softmax(scores)) == ""
    # Arrays that are no weights (the reference does not sum to 1 anywhere): silent.
    assert "sum to 1" not in compare("output", softmax(scores, axis=-2), scores.astype(np.float32))


# -- only some batch entries, heads or positions are off -------------------------------------

def test_which_batch_entries_heads_and_positions_are_off():
    want = softmax(normal(3, 4, 5, 5))
    got = want.copy()
    got[1, 2] = softmax(normal(5, 5))
    message = compare("weights", got, want)
    assert "all lie in head 2 (of 4) and batch entry 1 (of 3)" in message, message  # the narrowest first
    output = normal(2, 6, 8)
    shifted = output.copy()
    shifted[:, 3:5] += 1
    assert "all lie in positions 3-4 (of 6)" in compare("output", shifted, output)


def test_no_location_when_everything_is_off():
    want = normal(3, 4, 5)
    message = compare("output", want + 1, want)
    assert "all lie in" not in message, message


# -- heads in another order ---------------------------------------------------------------

def test_permuted_heads_are_named():
    want = softmax(normal(2, 4, 3, 3))
    message = compare("weights", want[:, [1, 0, 3, 2]], want)
    assert "Your heads are the reference's in another order (your 0 is its 1, your 1 is its 0, " in message, message


def test_no_permutation_when_the_heads_are_simply_different():
    want = softmax(normal(2, 4, 3, 3))
    got = softmax(normal(2, 4, 3, 3))
    assert "another order" not in compare("weights", got, want)
    # Two heads equal to each other: which is which is not decidable, so say nothing.
    twin = want.copy()
    twin[:, 1] = twin[:, 0]
    assert "another order" not in compare("weights", twin[:, [1, 0, 2, 3]] * np.float32(1.1), twin)


# -- gradients that are zero where they should not be --------------------------------------

def test_a_gradient_that_does_not_flow_is_named():
    want = normal(2, 5, 4)
    got = want.copy()
    got[1] = 0
    message = compare("grad:x", got, want)
    assert "Your gradient is zero in every entry that is off, where the reference's is not" in message, message
    assert "batch entry 1 (of 2)" in message
    assert "zero in every entry," in compare("grad:x", np.zeros_like(want), want)


def test_no_zero_hint_for_a_gradient_that_is_only_wrong():
    want = normal(2, 5, 4)
    message = compare("grad:x", want + normal(2, 5, 4, scale=0.5), want)
    assert "is zero" not in message, message


# -- attention weights in the public tests: normalisation before masking ----------------------

def test_weights_problem_reports_unnormalised_weights_before_the_mask():
    mask = np.arange(6)[None, :] < np.array([6, 4, 1])[:, None]
    blocked = ~mask[:, None, None, :]
    scores = normal(3, 2, 4, 6)
    correct = np.where(blocked, 0, softmax(np.where(blocked, -1e9, scores))).astype(np.float32)
    assert weights_problem(correct, (3, 2, 4, 6), blocked) is None
    # Softmax over the queries and the blocked entries not zeroed: the axis is what to fix.
    over_queries = softmax(np.where(blocked, -1e9, scores), axis=-2)
    message = weights_problem(over_queries, (3, 2, 4, 6), blocked)
    assert "padded keys" not in message and "yours sum to 1 over the queries (axis -2)" in message, message
    # Normalised, but the padding gets weight: the mask is what to fix.
    leaky = softmax(scores)
    assert weights_problem(leaky, (3, 2, 4, 6), blocked) == "padded keys (mask False) must get attention weight exactly 0"
    assert "must have shape (3, 2, 4, 6)" in weights_problem(correct[..., :4], (3, 2, 4, 6), blocked)


# -- masking: labels are not selection ------------------------------------------------------

SPECIAL, MASK_ID = [0, 1, 2, 3], 3


def _ids():
    ids = RNG.integers(4, 50, size=(40, 30))
    ids[:, 0], ids[:, -1] = 1, 2
    return ids


def test_labels_everywhere_is_a_labelling_problem_not_a_selection_one():
    ids = _ids()
    selected = (RNG.random(ids.shape) < 0.15) & (ids > 3)
    masked = np.where(selected, MASK_ID, ids)
    problems = masking_problems(ids, masked, ids.copy(), mask_id=MASK_ID, special_ids=SPECIAL, mask_prob=0.15,
                                replace_prob=1.0, random_prob=0.0, vocab_size=50)
    assert not any("special tokens were selected" in p for p in problems), problems
    assert "100% of the positions have a label" in problems[0] and "every other position gets -100" in problems[0]


def test_special_tokens_that_were_replaced_are_a_selection_problem():
    ids = _ids()
    selected = RNG.random(ids.shape) < 0.15
    problems = masking_problems(ids, np.where(selected, MASK_ID, ids), np.where(selected, ids, -100),
                                mask_id=MASK_ID, special_ids=SPECIAL, mask_prob=0.15, replace_prob=1.0,
                                random_prob=0.0, vocab_size=50)
    assert problems[0].startswith("special tokens were selected for prediction"), problems


def test_special_tokens_selected_but_kept_are_still_a_selection_problem():
    # Special positions with labels, at the usual rate, each left unchanged (the "keep" branch):
    # a selection that included special tokens, not labels everywhere.
    ids = _ids()
    selected = RNG.random(ids.shape) < 0.15
    labels = np.where(selected, ids, -100)
    masked = np.where(selected & (ids > 3), MASK_ID, ids)
    problems = masking_problems(ids, masked, labels, mask_id=MASK_ID, special_ids=SPECIAL, mask_prob=0.15,
                                replace_prob=0.8, random_prob=0.1, vocab_size=50)
    assert problems[0].startswith("special tokens were selected for prediction"), problems


# -- hidden tests: the axis and the kind of error, no index, count or value ------------------

def _hint_part(message):
    """What follows the first sentence (the error size and the share of entries off),
    without the numbers of the rule itself ("sum to 1", "(axis -1)", "[0, 1]"), which say
    nothing about the inputs."""
    return re.sub(r"\(axis -?\d+\)|sum to 1|\[0, 1\]", "", message.split("of entries off.", 1)[1])


def test_hidden_hints_name_the_axis_but_no_index_or_value():
    want = softmax(normal(3, 4, 5, 5))
    located = want.copy()
    located[1, 2] = softmax(normal(5, 5))
    permuted = want[:, [1, 0, 3, 2]]
    unnormalised = want + np.float32(0.05)
    for got, public_says, hidden_says in [
            (want * np.float32(1.7), "scaled by 1.7", "the reference times a constant factor"),
            (located, "head 2 (of 4)", "all lie in some heads and some batch entries only"),
            (permuted, "your 0 is its 1", "Your heads are the reference's in another order:"),
            (unnormalised, "yours sum to between", "yours do not: is the softmax applied"),
    ]:
        public, hidden = compare("weights", got, want), compare("weights", got, want, hidden=True)
        assert public_says in public, public
        assert hidden_says in hidden and public_says not in hidden, hidden
        assert not any(ch.isdigit() for ch in _hint_part(hidden)), hidden
    # A gradient that is zero in only some of the entries that are off: no count either.
    grad = normal(4, 6)
    mine = grad.copy()
    mine[:3] = 0
    mine[3, :2] += 1
    hidden = compare("grad:x", mine, grad, hidden=True)
    assert "zero in most entries that are off" in hidden and not any(ch.isdigit() for ch in _hint_part(hidden)), hidden


# -- the tests' own messages, on graded variants (PyTorch track) -----------------------------

def _failures(course, submission, task, mode="check"):
    report, _ = grade(course, submission, frameworks=("torch",), mode=mode, tasks={task})
    return {t.name.split("::")[1].split("[")[0]: t.message for t in report.tests if not t.passed}


def test_gradient_of_the_key_bias_gets_no_scale_factor(course, tmp_path):
    variant = make_variant(course, load_catalogue(course).by_id("mha-split-without-transpose"), "torch", tmp_path / "v")
    message = _failures(course, variant, "multihead", mode="grade")["test_gradients"]
    bias = message[message.index("`grad:w_k.bias`"):].split("`grad:", 2)[1]
    assert "scaled by" not in bias and "The reference's gradient is zero in every entry" in bias, message


def test_unnormalised_weights_are_not_blamed_on_the_padding(course, tmp_path):
    submission = make_submission(course, tmp_path / "s")
    path = submission / "course_torch" / "attention.py"
    edit(path, "weights = torch.softmax(filled, dim=-1)", "weights = torch.softmax(filled, dim=-2)")
    edit(path, "return torch.where(mask, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))",
         "return weights")
    message = _failures(course, submission, "sdpa")["test_sdpa_padding_mask_differs_per_sample"]
    assert "padded keys" not in message and "over the queries (axis -2)" in message, message


def test_a_cross_attention_shape_error_is_not_blamed_on_the_mask(course, tmp_path):
    submission = make_submission(course, tmp_path / "s")
    path = submission / "course_torch" / "multihead.py"
    edit(path, "key = self.split_heads(self.w_k(context))", "key = self.split_heads(self.w_k(x))")
    edit(path, "value = self.split_heads(self.w_v(context))", "value = self.split_heads(self.w_v(x))")
    message = _failures(course, submission, "multihead")["test_cross_attention"]
    assert "mask" not in message.lower() and "keys and values from context" in message, message
    assert "got (3, 2, 4, 4)" in message, message


def test_labels_everywhere_is_not_reported_as_special_tokens_selected(course, tmp_path):
    variant = make_variant(course, load_catalogue(course).by_id("mask-labels-everywhere"), "torch", tmp_path / "v")
    failures = _failures(course, variant, "mask_tokens")
    assert failures, "the mistake must fail"
    assert not any("special tokens were selected" in m for m in failures.values()), failures
    assert "every other position gets -100" in failures["test_mask_tokens_15_percent_80_10_10"], failures


@pytest.mark.parametrize("name", ["grad:query", "output"])
def test_compare_is_silent_on_a_match(name):
    want = normal(2, 3, 4)
    assert compare(name, want.copy(), want) is None

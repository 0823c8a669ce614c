"""The catalogue of known mistakes (autograder/mistakes.toml) and the feedback that names them.

Every entry, made in a copy of the reference solutions of each track, is graded on its own
task (public and hidden tests, one warm worker per track for the whole catalogue): it must
lose points there, and a failing test must name it. Entries that only hidden tests catch
are listed below with the reason, so that a change in what the public tests see is a
decision, not an accident.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from coursepack.course.config import load_course
from coursepack.errors import CourseError
from coursepack.course.mistakes import Edit, Mistake, load_catalogue, make_variant
from coursepack.authoring.mistakes import record_fingerprints
from coursepack.grading.grader import grade
from coursepack.judge.worker import close_pool

# Mistakes no public test catches, and why (the hidden tests do).
HIDDEN_ONLY = {
    "sdpa-causal-replaces-mask": "no public test passes causal=True together with a padding mask, so "
                                 "dropping the padding mask under causal=True shows only in hidden tests",
    "mha-causal-ignored": "the public multi-head tests are not causal (causal masking is tested publicly "
                          "on scaled_dot_product_attention itself); a layer that never passes causal on "
                          "fails only the hidden causal self-attention test",
}

# Caught but not named in one track, and why (none at present).
UNNAMED: dict[tuple[str, str], str] = {}

REPO = Path(__file__).resolve().parents[1]
MISTAKE_IDS = [m.id for m in load_catalogue(load_course(REPO / "course.toml")).mistakes]


def _catalogue(course):
    catalogue = load_catalogue(course)
    assert catalogue is not None, "autograder/mistakes.toml is missing"
    return catalogue


@pytest.fixture(scope="module")
def pools():
    """One warm worker per track, shared by every grading in this module."""
    pools: dict[str, dict] = {}
    yield lambda framework: pools.setdefault(framework, {})
    close_pool(*pools.values())


@pytest.fixture(scope="module")
def graded(course, pools, tmp_path_factory):
    """framework -> mistake id -> the report of the mistake's variant graded on its task.

    The public tests (``course check``) decide every entry but those of HIDDEN_ONLY, which
    are graded with the hidden tests too; running only what decides an entry keeps the
    catalogue's cost to about a minute per track.
    """
    cache: dict[str, dict] = {}

    def reports(framework):
        if framework == "tf":
            pytest.importorskip("tensorflow")
        if framework not in cache:
            work = tmp_path_factory.mktemp(f"mistakes-{framework}")
            cache[framework] = {}
            for mistake in _catalogue(course).mistakes:
                variant = make_variant(course, mistake, framework, work / mistake.id)
                mode = "grade" if mistake.id in HIDDEN_ONLY else "check"
                report, _ = grade(course, variant, frameworks=(framework,), mode=mode, tasks={mistake.task},
                                  pool=pools(framework))
                cache[framework][mistake.id] = report
        return cache[framework]
    return reports


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("mistake_id", MISTAKE_IDS)
def test_every_mistake_loses_points_and_is_named(course, graded, framework, mistake_id):
    mistake = _catalogue(course).by_id(mistake_id)
    report = graded(framework)[mistake_id]
    summary = next(s for s in report.tasks if s.id == mistake.task)
    failed = [t for t in report.tests if not t.passed]
    assert summary.score < summary.max_score, f"{mistake_id} kept full marks on {mistake.task} ({framework})"
    assert failed and all(t.message for t in failed), "every failure carries a diagnostic"
    named = [t for t in failed if mistake.name in t.message and mistake.hint in t.message]
    if (mistake_id, framework) in UNNAMED:
        assert not named, f"{mistake_id} is named on {framework} now: take it out of UNNAMED"
        return
    assert named, (f"{mistake_id} is never named on {framework}; the failures said:\n  "
                   + "\n  ".join(f"{t.name}: {t.message}" for t in failed))


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_hidden_only_mistakes_are_the_listed_ones(course, graded, framework):
    reports = graded(framework)
    public_misses = {mistake_id for mistake_id, report in reports.items()
                     if not any(not t.passed and t.visibility == "public" for t in report.tests)}
    assert public_misses == set(HIDDEN_ONLY)
    for mistake_id in HIDDEN_ONLY:  # graded with the hidden tests, which catch and name them
        assert any(not t.passed and t.visibility == "hidden" for t in reports[mistake_id].tests)


# Training mistakes and the public test each must fail, not only some test of the task:
# the test about what the mistake breaks. (tests/test_training_mutants.py has the
# training mistakes the catalogue does not name.)
TRAINING_MISTAKES = {
    "pretrain-loss-every-position": "test_pretraining_learns_the_language_and_transfers",
    "finetune-no-optimiser-step": "test_finetune_classifier_minimises_the_classification_loss",
    "finetune-inference-mode": "test_finetune_classifier_trains_with_dropout_on",
    "finetune-gradients-accumulated": "test_finetune_classifier_steps_on_fresh_gradients",
}


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("mistake_id", list(TRAINING_MISTAKES))
def test_training_mistakes_fail_the_test_about_them(graded, framework, mistake_id):
    tests = {t.name.partition("::")[2].split("[")[0]: t for t in graded(framework)[mistake_id].tests}
    about = tests[TRAINING_MISTAKES[mistake_id]]
    assert not about.passed, f"{mistake_id} passed {about.name} ({framework})"
    assert about.message, "a failure says what is wrong"


# Multi-head mistakes that one head hides: with num_heads=1 each gives the reference's
# numbers, so a test with a single head alone would pay for them.
ONE_HEAD_MISTAKES = ["mha-split-without-transpose", "mha-merge-without-transpose", "mha-scale-by-d-model"]


@pytest.mark.parametrize("framework", ["torch", pytest.param("tf", marks=pytest.mark.slow)])
@pytest.mark.parametrize("mistake_id", ONE_HEAD_MISTAKES)
def test_a_layer_right_only_with_one_head_earns_nothing(course, pools, tmp_path, framework, mistake_id):
    if framework == "tf":
        pytest.importorskip("tensorflow")
    variant = make_variant(course, _catalogue(course).by_id(mistake_id), framework, tmp_path / mistake_id)
    report, _ = grade(course, variant, frameworks=(framework,), mode="grade", tasks={"multihead"},
                      pool=pools(framework))
    summary = next(s for s in report.tasks if s.id == "multihead")
    assert summary.score == 0, (f"{mistake_id} kept {summary.score:g} of {summary.max_score:g} points on "
                                f"{framework}; passed: {[t.name for t in report.tests if t.passed]}")


@pytest.mark.parametrize("framework, name", [("torch", "mlm_decoder.weight"), ("tf", "mlm_decoder.kernel")])
def test_layout_messages_use_the_tracks_parameter_names(graded, framework, name):
    report = graded(framework)["bert-weights-not-tied"]
    public = [t.message for t in report.tests if not t.passed and t.visibility == "public"]
    assert public and all(name in m for m in public), public
    if framework == "torch":
        assert not any(".kernel" in m for m in public), public


def test_a_mistake_no_test_notices_is_reported_undetectable(course, pools):
    # With minus infinity as the fill value the forward pass is still right (the blocked
    # weights are zeroed afterwards) and PyTorch's where() keeps NaN out of the gradients:
    # no test can tell it from the reference, and the build must say so.
    harmless = Mistake("sdpa-fill-minus-infinity-only", "sdpa", "minus infinity as the fill value",
                       "Look at the fill value.", {"torch": (Edit(
                           "course_torch/attention.py",
                           "very_negative = torch.tensor(torch.finfo(scores.dtype).min,",
                           'very_negative = torch.tensor(float("-inf"),'),)})
    summary, prints = record_fingerprints(course, _catalogue(course), mistakes=[harmless], pool=pools("torch"))
    assert summary.undetectable == ["sdpa-fill-minus-infinity-only"]
    assert prints == {}
    assert any("UNDETECTABLE" in line and "sdpa-fill-minus-infinity-only" in line for line in summary.lines())


def _write(tmp_path, text):
    path = tmp_path / "mistakes.toml"
    path.write_text(textwrap.dedent(text))
    return path


ENTRY = """\
    [[mistakes]]
    id = "{id}"
    task = "{task}"
    name = "the scores are not scaled"
    hint = "{hint}"
    torch = [{{ old = '{old}', new = 'scores = query @ key.transpose(-2, -1)' }}]
    tf = [{{ old = 'scores = tf.matmul(query, key, transpose_b=True) / math.sqrt(d_k)', new = 'scores = 0' }}]
    """
GOOD = dict(id="no-scale", task="sdpa", hint="Look at the scores.",
            old="scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)")


@pytest.mark.parametrize("change, message, fix", [
    (dict(task="attention"), "mistake 'no-scale': there is no task 'attention'", "use one of: additive, sdpa"),
    (dict(id="No Scale"), "lower case letters, digits and dashes", "rename it"),
    (dict(old="scores = query @ key.T"), "text to replace is not found in solutions/course_torch/attention.py",
     "copy the text from the current solution"),
    (dict(old="weights = masked_softmax(scores,"), "is found 2 times", "quote enough of it to be unique"),
    (dict(old="import math"), "lies outside the solution regions", "only in code students write"),
    (dict(hint="Write scores = query @ key.transpose(-2, -1) / math.sqrt(d_k) instead."),
     "quotes the torch code", "say where to look"),
])
def test_catalogue_errors_name_the_file_the_entry_and_the_fix(course, tmp_path, change, message, fix):
    path = _write(tmp_path, ENTRY.format(**{**GOOD, **change}))
    with pytest.raises(CourseError) as error:
        load_catalogue(course, path)
    text = str(error.value)
    assert str(path) in text and message in text and "Fix: " in text and fix in text, text


def test_catalogue_entries_need_every_track_and_unique_ids(course, tmp_path):
    path = _write(tmp_path, ENTRY.format(**GOOD) + "\n" + ENTRY.format(**GOOD))
    with pytest.raises(CourseError, match="mistake 'no-scale': the id is used twice"):
        load_catalogue(course, path)
    one_track = "\n".join(line for line in ENTRY.format(**GOOD).splitlines() if not line.strip().startswith("tf ="))
    with pytest.raises(CourseError, match="no tf edits; every mistake is made in every track"):
        load_catalogue(course, _write(tmp_path, one_track))
    assert [m.id for m in load_catalogue(course, _write(tmp_path, ENTRY.format(**GOOD))).mistakes] == ["no-scale"]


def _in_process_driver(framework):
    """The worker's request driver and ``framework``'s adapter, loaded in this process."""
    import importlib
    import sys

    runtime = str(REPO / "src" / "coursepack" / "judge" / "runtime")
    for path in (runtime, str(REPO / "solutions")):
        if path not in sys.path:
            sys.path.insert(0, path)
    adapter = importlib.import_module(f"{framework}_adapter")
    adapter.setup()
    return importlib.import_module("driver"), adapter


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_a_calls_random_draws_depend_only_on_its_seed(framework):
    # mask_tokens without a generator draws from the track's global generator; a mistake
    # in it can only be named if the same request always gives the same draws.
    if framework == "tf":
        pytest.importorskip("tensorflow")
    driver, adapter = _in_process_driver(framework)
    ids = np.random.default_rng(3).integers(4, 30, size=(6, 12))
    request = {"seed": 7, "build": None, "returns": {"masked_ids": "out.0", "labels": "out.1"},
               "steps": [{"call": f"course_{framework}.bert:mask_tokens", "save": "out",
                          "args": {"input_ids": "@ids", "vocab_size": 30, "mask_token_id": 3,
                                   "special_ids": [0, 1, 2, 3], "mask_prob": 0.5}}]}
    first, second = (driver.handle(adapter, request, {"ids": ids}) for _ in range(2))
    assert not np.array_equal(first["masked_ids"], ids), "nothing was masked: the test shows nothing"
    for name in ("masked_ids", "labels"):
        assert np.array_equal(first[name], second[name]), f"{name} differs between two calls with seed 7"


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_training_mode_turns_dropout_on_in_both_tracks(framework):
    # A test that builds a module with mode="train" sees dropout at work in either track,
    # without passing Keras's training argument itself; eval mode switches it off.
    if framework == "tf":
        pytest.importorskip("tensorflow")
    driver, adapter = _in_process_driver(framework)
    from coursepack.testing import layouts

    rng = np.random.default_rng(5)
    arrays = {"x": rng.standard_normal((2, 5, 8)).astype(np.float32),
              **{f"w:{k}": v for k, v in layouts.random_weights(layouts.multihead_attention(8), rng).items()}}

    def output(mode):
        request = {"seed": 0, "returns": {"output": "out.0"},
                   "build": {"target": f"course_{framework}.multihead:MultiHeadAttention",
                             "kwargs": {"d_model": 8, "num_heads": 2, "dropout": 0.5}, "mode": mode},
                   "steps": [{"call": "model", "args": {"x": "@x"}, "save": "out"}]}
        return driver.handle(adapter, request, arrays)["output"]

    request = {"seed": 0, "returns": {"output": "out.0"},
               "build": {"target": f"course_{framework}.multihead:MultiHeadAttention",
                         "kwargs": {"d_model": 8, "num_heads": 2, "dropout": 0.0}, "mode": "train"},
               "steps": [{"call": "model", "args": {"x": "@x"}, "save": "out"}]}
    no_dropout = driver.handle(adapter, request, arrays)["output"]
    assert np.allclose(output("eval"), no_dropout, atol=1e-5), "eval mode must not drop anything"
    assert not np.allclose(output("train"), no_dropout, atol=1e-3), "training mode must apply dropout"


@pytest.mark.parametrize("framework, lacks, extra", [("torch", "w_x.weight", "w_o.weight"),
                                                     ("tf", "w_x.kernel", "w_o.kernel")])
def test_the_worker_names_parameters_as_the_tracks_module_does(framework, lacks, extra):
    # The judge passes layout messages on unchanged: the adapter, which knows the track, spells them.
    if framework == "tf":
        pytest.importorskip("tensorflow")
    driver, adapter = _in_process_driver(framework)
    from coursepack.testing import layouts

    rng = np.random.default_rng(9)
    weights = layouts.random_weights(layouts.multihead_attention(8), rng)
    weights["w_x.kernel"] = weights.pop("w_o.kernel")
    request = {"seed": 0, "returns": {"output": "out.0"},
               "build": {"target": f"course_{framework}.multihead:MultiHeadAttention",
                         "kwargs": {"d_model": 8, "num_heads": 2}, "mode": "eval"},
               "steps": [{"call": "model", "args": {"x": "@x"}, "save": "out"}]}
    arrays = {"x": rng.standard_normal((2, 5, 8)).astype(np.float32), **{f"w:{k}": v for k, v in weights.items()}}
    with pytest.raises(driver.ContractError) as error:
        driver.handle(adapter, request, arrays)
    message = str(error.value)
    assert f"parameters your module lacks: {lacks}" in message and f"the layout does not: {extra}" in message, message
    if framework == "torch":
        assert ".kernel" not in message, message

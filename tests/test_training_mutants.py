"""Training that does not learn fails the pretraining experiment; a fine-tuning loop
that optimises the wrong thing fails the public fine-tuning tests; a pretraining that
only the public data rewards fails the hidden test.

Each mutant is the reference solution with one classic training-loop mistake that the
catalogue (autograder/mistakes.toml) does not name; the catalogued ones are graded, and
must fail the test about them, in test_mistakes.py. It is checked on the public
experiment (``course check pretraining``): the mistake must cost the experiment test,
and a diagnostic must say which figure fell short. The reference itself passing the same
test is checked in test_grading.py and, over 20 seeds, by ``bench/pretraining_margins.py``.
The fine-tuning mutants must fail the named public fine-tuning test in both tracks
(which the reference passes, also checked here).
"""

from __future__ import annotations

import ast
import importlib.util
import json

import pytest

from coursepack.grading.grader import grade
from coursepack.judge.worker import close_pool
from coursepack.testing import toyeval
from submissions import edit, make_submission

EXPERIMENT = "test_pretraining_learns_the_language_and_transfers"

# name -> framework -> [(file, old, new)]. The catalogued training mistakes
# (autograder/mistakes.toml) are graded, and must fail the test about them, in test_mistakes.py.
MUTANTS = {
    "no optimiser step": {
        "torch": [("training.py", "        optimizer.step()\n        losses.append(loss.item())\n    return losses\n"
                   "    ### END SOLUTION\n\n\ndef finetune_classifier",
                   "        losses.append(loss.item())\n    return losses\n    ### END SOLUTION\n\n\ndef finetune_classifier")],
        "tf": [("training.py", "        optimizer.apply_gradients([(g, v) for g, v in zip(gradients, variables) if g is not None])\n"
                "        return loss\n\n    losses = []\n    for _ in range(steps):\n        index = tf.argsort(generator.uniform([tf.shape(corpus)[0]]))",
                "        return loss\n\n    losses = []\n    for _ in range(steps):\n        index = tf.argsort(generator.uniform([tf.shape(corpus)[0]]))")],
    },
    "fine-tuning labels ignored": {
        "torch": [("training.py", "loss = F.cross_entropy(model.classify(hidden), labels[index])",
                   "loss = F.cross_entropy(model.classify(hidden), torch.zeros_like(labels[index]))")],
        "tf": [("training.py", "labels=batch_labels, logits=logits", "labels=tf.zeros_like(batch_labels), logits=logits")],
    },
    "fine-tuning never steps": {
        "torch": [("training.py", "        optimizer.step()\n        losses.append(loss.item())\n    return losses\n"
                   "    ### END SOLUTION\n\n\n# --- evaluation",
                   "        losses.append(loss.item())\n    return losses\n    ### END SOLUTION\n\n\n# --- evaluation")],
    },
    "pretraining on unmasked text": {
        "torch": [("training.py", "hidden = model(masked, key_mask=_key_mask(masked))",
                   "hidden = model(batch, key_mask=_key_mask(batch))")],
    },
}


def graded_pretraining(course, folder, framework, mutant, pool=None):
    """The results of ``course check pretraining`` on the reference of ``framework`` with
    ``mutant`` made (framework -> [(file, old, new)]), or None for the reference itself."""
    submission = make_submission(course, folder, framework=framework)
    for filename, old, new in (mutant or {}).get(framework, []):
        edit(submission / f"course_{framework}" / filename, old, new)
    report, _ = grade(course, submission, frameworks=(framework,), mode="check", tasks={"pretraining"}, pool=pool)
    return report.tests


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """(framework, mutant) -> the tests of ``graded_pretraining``: each variant graded once
    (a mutant of both lists is graded for both), on one warm worker per track, as a class
    grading keeps them."""
    pool, cache = {}, {}

    def tests(framework, mutant):
        key = (framework, json.dumps(mutant, sort_keys=True))
        if key not in cache:
            cache[key] = graded_pretraining(course, tmp_path_factory.mktemp("mutant") / "submission", framework,
                                            mutant, pool)
        return cache[key]
    yield tests
    close_pool(pool)


def _cases():
    for name, mutant in MUTANTS.items():
        for framework in mutant:
            marks = [pytest.mark.slow] if framework == "tf" else []
            yield pytest.param(name, framework, marks=marks, id=f"{framework}-{name}")


@pytest.mark.parametrize("name, framework", list(_cases()))
def test_training_that_does_not_learn_fails_the_experiment(graded, name, framework):
    if framework == "tf":
        pytest.importorskip("tensorflow")
    tests = graded(framework, MUTANTS[name])
    experiment = [t for t in tests if EXPERIMENT in t.name]
    assert len(experiment) == 1, [t.name for t in tests]
    assert not experiment[0].passed, f"{name!r} passed the pretraining experiment"
    message = experiment[0].message
    assert any(word in message for word in ("losses", "guesses", "classifies")), message


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_the_test_runs_the_students_experiment_as_documented(course, framework):
    """The sizes the grader uses are ``run_experiment``'s defaults, so the figures a student
    sees from ``python -m course_<fw>.training`` are the ones the test judges."""
    source = (course.solutions / f"course_{framework}" / "training.py").read_text()
    function = next(node for node in ast.parse(source).body
                    if isinstance(node, ast.FunctionDef) and node.name == "run_experiment")
    defaults = {arg.arg: ast.literal_eval(value)
                for arg, value in zip(function.args.kwonlyargs, function.args.kw_defaults) if value is not None}
    graded = {"n_corpus": toyeval.N_CORPUS, "n_train_per_class": toyeval.N_TRAIN_PER_CLASS, "n_test": toyeval.N_TEST,
              **{f"pretrain_{k}": v for k, v in toyeval.PRETRAIN.items()},
              **{f"finetune_{k}": v for k, v in toyeval.FINETUNE.items()},
              **toyeval.MODEL}
    assert {name: defaults[name] for name in graded} == graded


FINETUNE = "test_finetune_classifier_minimises_the_classification_loss"
DROPOUT = "test_finetune_classifier_trains_with_dropout_on"
STEPS = "test_finetune_classifier_steps_on_fresh_gradients"

# name -> (the public test it must fail, a catalogued mistake's id or framework -> [(file, old, new)])
FINETUNE_MUTANTS = {
    "labels ignored": (FINETUNE, MUTANTS["fine-tuning labels ignored"]),
    "classifier reads the wrong token": (FINETUNE, {
        "torch": [("training.py", "loss = F.cross_entropy(model.classify(hidden), labels[index])",
                   "loss = F.cross_entropy(model.classify(hidden[:, 1:]), labels[index])")],
        "tf": [("training.py", "logits = model.classify(hidden, training=True)",
                "logits = model.classify(hidden[:, 1:], training=True)")],
    }),
}


def _finetune_cases():
    for framework in ("torch", "tf"):
        marks = [pytest.mark.slow] if framework == "tf" else []
        yield pytest.param(None, framework, marks=marks, id=f"{framework}-reference")
        for name in FINETUNE_MUTANTS:
            yield pytest.param(name, framework, marks=marks, id=f"{framework}-{name}")


@pytest.mark.parametrize("name, framework", list(_finetune_cases()))
def test_finetuning_mistakes_fail_the_public_finetuning_tests(graded, name, framework):
    if framework == "tf":
        pytest.importorskip("tensorflow")
    mutant = FINETUNE_MUTANTS[name][1] if name is not None else None
    tests = graded(framework, mutant)
    results = {t.name.partition("::")[2].split("[")[0]: t for t in tests}
    if name is None:
        assert all(results[test].passed for test in (FINETUNE, DROPOUT, STEPS)), [r.message for r in results.values()]
        return
    failed = results[FINETUNE_MUTANTS[name][0]]
    assert not failed.passed, f"{name!r} passed {failed.name}"
    assert failed.message, "a failure says what is wrong"


SECRET = "test_pretraining_learns_and_transfers_on_a_secret_vocabulary"


def test_the_hidden_test_fails_a_pretraining_only_the_public_vocabulary_rewards(course, tmp_path):
    """The public experiment's word ids are in every student's copy, so weights or tables
    made beforehand could pass it. This mutant stands for such a submission: it learns only
    when the corpus is written in the public experiment's ids (told by the six words that
    open every sentence, whatever the data seed). The hidden test must fail it."""
    toylang = load_shared_toylang(course)
    public = toyeval.scramble(toylang, seed=5)(toylang.make_corpus(100, seed=0)[0])
    openers = sorted(set(public[:, 1].tolist()))
    submission = make_submission(course, tmp_path / "submission", framework="torch")
    edit(submission / "course_torch" / "training.py",
         "    corpus = _as_ids(corpus_ids)\n    model.train()\n    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)\n",
         "    corpus = _as_ids(corpus_ids)\n    model.train()\n"
         f"    public = set(corpus[:, 1].tolist()) == set({openers})\n"
         "    optimizer = torch.optim.AdamW(model.parameters(), lr=lr if public else 0.0)\n")
    report, _ = grade(course, submission, frameworks=("torch",), mode="grade", tasks={"pretraining"})
    results = {t.name.partition("::")[2].split("[")[0]: t for t in report.tests}
    assert results[EXPERIMENT].passed, results[EXPERIMENT].message
    assert not results[SECRET].passed
    assert "losses pretrain_mlm returned" in results[SECRET].message, results[SECRET].message


def load_shared_toylang(course):
    """The course's trusted toylang module, as the grader imports it."""
    spec = importlib.util.spec_from_file_location("_toylang_for_the_test", course.shared_source("toylang.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

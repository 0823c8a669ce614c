"""Submissions that attack the grader gain nothing, and grading always finishes.

Each attack is planted in a copy of the stubs (so honest work would score 0) or of the
solutions with one task sabotaged, then graded on the tasks it targets, in both the
PyTorch and the TensorFlow track.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from coursepack.judge import sandbox
from coursepack.course.config import load_course
from coursepack.grading.grader import grade
from submissions import edit, make_submission

SDPA_BODY = 'raise NotImplementedError("task \'sdpa\''


@pytest.fixture(params=["torch", "tf"])
def fw(request):
    if request.param == "tf":
        pytest.importorskip("tensorflow")
    return request.param


def stub_sdpa_with(submission, fw: str, code: str) -> None:
    """Replace the stub body of scaled_dot_product_attention by ``code``."""
    path = submission / f"course_{fw}" / "attention.py"
    text = path.read_text()
    line = next(line for line in text.splitlines() if SDPA_BODY in line)
    path.write_text(text.replace(line, textwrap.indent(textwrap.dedent(code).strip(), "    ")))


def graded(course, submission, fw, *tasks):
    report, _ = grade(course, submission, frameworks=(fw,), tasks=set(tasks))
    return report


def test_exit_at_import_scores_zero(course, tmp_path, fw):
    sub = make_submission(course, tmp_path / "s", framework=fw)
    path = sub / f"course_{fw}" / "attention.py"
    path.write_text(path.read_text() + "\nimport os\nos._exit(0)\n")
    report = graded(course, sub, fw, "sdpa", "sinusoidal")
    sdpa = [t for t in report.tests if t.task == "sdpa"]
    assert sdpa and not any(t.passed for t in sdpa)
    assert all("ended the process" in t.message for t in sdpa)
    # Other files are unaffected: grading went on.
    assert all(t.passed for t in report.tests if t.task == "sinusoidal")


def test_conftest_and_pytest_ini_in_submission_change_nothing(course, tmp_path, fw):
    sub = make_submission(course, tmp_path / "s", base="assignments", framework=fw)
    force = textwrap.dedent("""\
        import pytest
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            outcome.get_result().outcome = "passed"
        """)
    (sub / "conftest.py").write_text(force)
    (sub / f"course_{fw}" / "conftest.py").write_text(force)
    (sub / "pytest.ini").write_text("[pytest]\naddopts = -k nothing_matches -p no:python\n")
    (sub / "tests").mkdir()
    (sub / "tests" / "conftest.py").write_text(force)
    report = graded(course, sub, fw, "sdpa", "additive")
    assert report.tests and report.score == 0


def test_numpy_shadow_module_is_ignored(course, tmp_path, fw):
    sub = make_submission(course, tmp_path / "s", base="assignments", framework=fw)
    fake = "def allclose(*a, **k):\n    return True\ndef load(*a, **k):\n    raise SystemExit\n"
    for name in ("numpy.py", f"course_{fw}/numpy.py", f"course_{fw}/torch.py", f"course_{fw}/tensorflow.py"):
        (sub / name).write_text(fake)
    report = graded(course, sub, fw, "sinusoidal")
    assert report.tests and report.score == 0
    assert all(t.message.startswith("not implemented yet") for t in report.tests)


PATCH_AND_RETURN_ZEROS = {
    "torch": """
        import numpy, numpy.testing, torch
        numpy.allclose = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        torch.allclose = lambda *a, **k: True
        return torch.zeros(query.shape[:-1] + value.shape[-1:]), torch.zeros(query.shape[:-1] + key.shape[-2:-1])
        """,
    "tf": """
        import numpy, numpy.testing, tensorflow as tf
        numpy.allclose = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        tf.debugging.assert_near = lambda *a, **k: None
        shape = tf.shape(query)
        return tf.zeros(tf.concat([shape[:-1], tf.shape(value)[-1:]], 0)), tf.zeros(tf.concat([shape[:-1], tf.shape(key)[-2:-1]], 0))
        """,
}


def test_monkeypatching_comparisons_at_import_gains_nothing(course, tmp_path, fw):
    sub = make_submission(course, tmp_path / "s", base="assignments", framework=fw)
    stub_sdpa_with(sub, fw, PATCH_AND_RETURN_ZEROS[fw])
    report = graded(course, sub, fw, "sdpa")
    assert report.tests and report.score == 0


LIARS = {
    "torch": """
        class Liar(torch.Tensor):
            def __eq__(self, other): return True
            def allclose(self, *a, **k): return True
        out = torch.zeros(query.shape[:-1] + value.shape[-1:]).as_subclass(Liar)
        class Anything:
            def __eq__(self, other): return True
            def __array__(self, *a, **k): raise RuntimeError
        return out, Anything()
        """,
    "tf": """
        class Anything:
            def __eq__(self, other): return True
            def __array__(self, *a, **k): raise RuntimeError
        weights = tf.Variable(tf.zeros(tf.concat([tf.shape(query)[:-1], tf.shape(key)[-2:-1]], 0)))
        return Anything(), weights
        """,
}


def test_tensor_subclass_and_lying_objects_score_zero(course, tmp_path, fw):
    sub = make_submission(course, tmp_path / "s", base="assignments", framework=fw)
    stub_sdpa_with(sub, fw, LIARS[fw])
    report = graded(course, sub, fw, "sdpa")
    assert report.tests and report.score == 0
    public = [t.message for t in report.tests if t.visibility == "public"]
    assert any("subclass of torch.Tensor" in m or "expected a tensor" in m for m in public), public


def test_infinite_loop_fails_only_that_test(course_copy, tmp_path, fw):
    toml = course_copy / "course.toml"
    text = toml.read_text()
    toml.write_text(text.replace('symbols = ["MultiHeadAttention"]', 'symbols = ["MultiHeadAttention"]\ntime_limit = 3'))
    course = load_course(toml)
    sub = make_submission(course, tmp_path / "s", framework=fw)
    edit(sub / f"course_{fw}" / "multihead.py", "if context is None:\n            context = x",
         "if context is not None:\n            while True:\n                pass\n        context = x")
    report = graded(course, sub, fw, "multihead", "sinusoidal")
    multihead = [t for t in report.tests if t.task == "multihead"]
    uses_context = ("cross" in t.name or "context" in t.name or t.name.startswith("test_multihead_hidden.py::test_gradients")
                    for t in multihead)
    cross = [t for t, uses in zip(multihead, uses_context) if uses]
    assert cross and all(not t.passed and "did not finish in time" in t.message for t in cross)
    assert any(t.passed for t in multihead), "self-attention tests still run after a timeout"
    assert all(t.passed for t in report.tests if t.task == "sinusoidal")


def test_fake_pytest_summary_on_stdout_gains_nothing(course, tmp_path, fw):
    sub = make_submission(course, tmp_path / "s", base="assignments", framework=fw)
    path = sub / f"course_{fw}" / "attention.py"
    path.write_text(path.read_text() + "\nimport sys\nprint('=' * 20 + ' 60 passed in 1.00s ' + '=' * 20)\n"
                    "sys.stderr.write('60 passed, 0 failed\\n')\n")
    report = graded(course, sub, fw, "sdpa")
    assert report.tests and report.score == 0


def test_warnings_on_stderr_keep_full_marks(course, tmp_path, fw):
    sub = make_submission(course, tmp_path / "s", framework=fw)
    path = sub / f"course_{fw}" / "attention.py"
    path.write_text(path.read_text() + "\nimport sys, warnings\nwarnings.warn('deprecated thing', DeprecationWarning)\n"
                    "sys.stderr.write('UserWarning: something noisy\\n')\n")
    edit(path, "d_k = query.shape[-1]" if fw == "tf" else "d_k = query.size(-1)",
         ("d_k = query.shape[-1]" if fw == "tf" else "d_k = query.size(-1)") + "\n    print('debug', d_k, file=sys.stderr)")
    report = graded(course, sub, fw, "sdpa", "additive")
    assert report.tests and all(t.passed for t in report.tests)


@pytest.mark.skipif(sandbox.isolation_level() != "namespaces+nobody", reason="needs root with namespaces")
def test_submission_cannot_read_solutions_or_hidden_tests(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    root = str(course.root)
    stub_sdpa_with(sub, "torch", f"""
        import os, glob
        found = []
        for pattern in ({root!r} + "/solutions/**/*.py", {root!r} + "/autograder/**/*",
                        "/tmp/**/attention.py", "/tmp/**/*.npz", "/work/**/*.npz", "/root/**/*.py",
                        "/home/**/*.py", "/srv/**/*", "/var/tmp/**/*"):
            found += [p for p in glob.glob(pattern, recursive=True) if "course-worker-" not in p]
        if found:
            raise RuntimeError("LEAK " + " ".join(found[:5]))
        raise RuntimeError("nothing found")
        """)
    report = graded(course, sub, "torch", "sdpa")
    public = [t for t in report.tests if t.visibility == "public"]
    assert public and all("nothing found" in t.message for t in public), [t.message for t in public]


def test_symbolic_links_to_the_solutions_are_not_followed(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    for path in (sub / "course_torch").glob("*.py"):
        path.unlink()
        path.symlink_to(course.solutions / "course_torch" / path.name)
    (sub / "quiz_answers").mkdir()
    (sub / "quiz_answers" / "post.json").symlink_to(course.solutions / "quiz_answers" / "post.json")
    report, _ = grade(course, sub, frameworks=("torch",), tasks={"sdpa", "multihead", "quiz-post"})
    assert report.tests and report.score == 0
    assert any("symbolic link" in e for e in report.errors)


def test_empty_result_file_passes_nothing(course, tmp_path):
    # Student code that skips the real work and writes an empty outputs.npz itself.
    sub = make_submission(course, tmp_path / "s", base="assignments")
    init = sub / "course_torch" / "__init__.py"
    init.write_text(init.read_text() + textwrap.dedent("""
        import sys, numpy as np
        main = sys.modules["__main__"]
        main._write_error = lambda *a, **k: np.savez("outputs.npz")
        """))
    report = graded(course, sub, "torch", "sinusoidal", "encoder_block", "mini_bert", "multihead")
    assert report.tests and report.score == 0


def test_hidden_failures_never_echo_what_student_code_wrote(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    stub_sdpa_with(sub, "torch", """
        import json, sys
        secret = "LEAK" + json.dumps(query.tolist())[:200]
        if query.shape[-1] == 64:
            raise SyntaxError(secret)
        if query.dim() == 3:
            import driver
            raise driver.ContractError(secret)
        raise ValueError(secret)
        """)
    report = graded(course, sub, "torch", "sdpa")
    hidden = [t for t in report.tests if t.visibility == "hidden"]
    assert hidden and all("LEAK" not in t.message for t in hidden), [t.message for t in hidden]
    assert any("LEAK" in t.message for t in report.tests if t.visibility == "public")  # public inputs are public


def test_hidden_failures_cannot_encode_inputs_in_names_or_places(course, tmp_path):
    """Code that has seen a hidden input could choose an exception's class name, a stub's
    task id or the file and line it fails at; none of these reaches a hidden message."""
    sub = make_submission(course, tmp_path / "s", base="assignments")
    helper = sub / "course_torch" / "leak_4242" / "deep.py"
    helper.parent.mkdir()
    helper.write_text("".join(f"def f{i}():\n    raise ValueError()\n" for i in range(50)))
    stub_sdpa_with(sub, "torch", """
        import importlib
        digits = str(abs(int(query.sum().item() * 1000)))[:6]
        kind = int(digits[0]) % 3
        if kind == 0:
            raise type("Leak" + digits, (Exception,), {})()
        if kind == 1:
            raise NotImplementedError("task 'mini_bert' (" + digits + "): write this part")
        deep = importlib.import_module("course_torch.leak_4242.deep")
        getattr(deep, "f" + str(int(digits) % 50))()
        """)
    report = graded(course, sub, "torch", "sdpa")
    hidden = [t for t in report.tests if t.visibility == "hidden" and not t.passed]
    assert hidden
    for t in hidden:
        assert not any(word in t.message for word in ("Leak", "mini_bert", "leak_4242", "line", " in ")), t.message
        assert t.message in ("your code raised an exception", "not implemented yet at File \"course_torch/attention.py\"",
                             "your code raised ValueError", "your code raised an exception at File "
                             "\"course_torch/attention.py\""), t.message


def test_compressed_result_bomb_is_refused(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    stub_sdpa_with(sub, "torch", """
        import numpy as np, sys
        big = np.zeros(260 * 2**20 // 4, dtype=np.float32)  # 260 MiB; compresses to almost nothing
        np.savez_compressed("outputs.npz", output=big)
        import os
        os._exit(0)
        """)
    # The public tests are enough: each call writes the bomb (about a second).
    report, _ = grade(course, sub, frameworks=("torch",), mode="check", tasks={"sdpa"})
    assert report.tests and report.score == 0
    assert any("too large" in t.message for t in report.tests if t.visibility == "public")


def test_quiz_answers_of_someone_else_score_zero(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    (sub / "quiz_answers").mkdir()
    reference = json.loads((course.solutions / "quiz_answers" / "post.json").read_text())
    (sub / "quiz_answers" / "post.json").write_text(json.dumps(reference))
    report, _ = grade(course, sub, frameworks=("torch",), tasks={"quiz-post"}, student="mallory@example.org")
    assert report.tests[0].score == 0 and "drawn for" in report.tests[0].message


def _at_import(submission, fw: str, module: str, code: str) -> None:
    """Put ``code`` at the top of ``module``.py, right after its ``__future__`` import."""
    path = submission / f"course_{fw}" / f"{module}.py"
    head = "from __future__ import annotations\n"
    text = path.read_text()
    assert head in text
    path.write_text(text.replace(head, head + textwrap.dedent(code), 1))


def test_hang_at_import_costs_one_short_limit_per_module(course, tmp_path, monkeypatch):
    """A file whose top level never returns is imported once, under the import limit; every
    test of that file (and of files that import it) then fails at once with the reason."""
    from coursepack.judge import session

    monkeypatch.setattr(session, "IMPORT_TIME_LIMIT", 3.0)
    sub = make_submission(course, tmp_path / "s")
    _at_import(sub, "torch", "attention", "while True:\n    pass\n")
    pool = {}
    try:
        report, _ = grade(course, sub, frameworks=("torch",), tasks={"sdpa", "additive", "multihead", "sinusoidal"},
                          pool=pool)
        worker = pool["torch"]
        # attention.py timed out once, multihead.py (which imports it) once: one new worker each.
        assert worker.starts == 3
    finally:
        for w in pool.values():
            w.close()
    broken = [t for t in report.tests if t.task in ("sdpa", "additive", "multihead")]
    assert len(broken) > 10 and not any(t.passed for t in broken)
    for t in broken:
        module = "multihead" if t.task == "multihead" else "attention"
        assert t.message.startswith(f"importing course_torch/{module}.py did not finish in time (no result "
                                    "within 3 s)"), t.message
    assert all(t.passed for t in report.tests if t.task == "sinusoidal")  # other files are unaffected


def test_memory_bomb_at_import_is_met_once(course_copy, tmp_path):
    toml = course_copy / "course.toml"
    toml.write_text(toml.read_text().replace("memory_mb = 6144", "memory_mb = 2048"))
    course = load_course(toml)
    sub = make_submission(course, tmp_path / "s")
    _at_import(sub, "torch", "attention", "import numpy as _np\n"
                                          "_blocks = [_np.ones(256 * 2**20 // 8) for _ in range(64)]\n")
    pool = {}
    try:
        report, _ = grade(course, sub, frameworks=("torch",), tasks={"sdpa"}, pool=pool)
        assert pool["torch"].calls == 2  # the package, then attention.py; no test reached the worker
    finally:
        for w in pool.values():
            w.close()
    assert report.tests and not any(t.passed for t in report.tests)
    for t in report.tests:
        assert t.message.startswith("importing course_torch/attention.py failed: your code raised MemoryError"), t.message

"""Submissions that attack the grader gain nothing, and grading always finishes.

Each attack is planted in a copy of the stubs (so honest work would score 0) or of the
solutions with one task sabotaged, then graded on the tasks it targets.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from coursepack import sandbox
from coursepack.grading import grade
from submissions import edit, make_submission

SDPA_BODY = 'raise NotImplementedError("task \'sdpa\''


def stub_sdpa_with(submission, code: str) -> None:
    """Replace the stub body of scaled_dot_product_attention by ``code`` (8-space indented)."""
    path = submission / "course_torch" / "attention.py"
    text = path.read_text()
    line = next(line for line in text.splitlines() if SDPA_BODY in line)
    path.write_text(text.replace(line, textwrap.indent(textwrap.dedent(code).strip(), "    ")))


def graded(course, submission, *tasks):
    report, _ = grade(course, submission, frameworks=("torch",), tasks=set(tasks))
    return report


def test_exit_at_import_scores_zero(course, tmp_path):
    sub = make_submission(course, tmp_path / "s")
    path = sub / "course_torch" / "attention.py"
    path.write_text(path.read_text() + "\nimport os\nos._exit(0)\n")
    report = graded(course, sub, "sdpa", "sinusoidal")
    sdpa = [t for t in report.tests if t.task == "sdpa"]
    assert sdpa and not any(t.passed for t in sdpa)
    assert all("ended the process" in t.message for t in sdpa)
    # Other files are unaffected: grading went on.
    assert all(t.passed for t in report.tests if t.task == "sinusoidal")


def test_conftest_and_pytest_ini_in_submission_change_nothing(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    force = textwrap.dedent("""\
        import pytest
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            outcome.get_result().outcome = "passed"
        """)
    (sub / "conftest.py").write_text(force)
    (sub / "course_torch" / "conftest.py").write_text(force)
    (sub / "pytest.ini").write_text("[pytest]\naddopts = -k nothing_matches -p no:python\n")
    (sub / "tests").mkdir()
    (sub / "tests" / "conftest.py").write_text(force)
    report = graded(course, sub, "sdpa", "additive")
    assert report.tests and report.score == 0


def test_numpy_shadow_module_is_ignored(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    fake = "def allclose(*a, **k):\n    return True\ndef load(*a, **k):\n    raise SystemExit\n"
    (sub / "numpy.py").write_text(fake)
    (sub / "course_torch" / "numpy.py").write_text(fake)
    (sub / "course_torch" / "torch.py").write_text(fake)
    report = graded(course, sub, "sinusoidal")
    assert report.tests and report.score == 0
    assert all(t.message.startswith("not implemented yet") for t in report.tests)


def test_monkeypatching_comparisons_at_import_gains_nothing(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    stub_sdpa_with(sub, """
        import numpy, numpy.testing, torch
        numpy.allclose = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        torch.allclose = lambda *a, **k: True
        return torch.zeros(query.shape[:-1] + value.shape[-1:]), torch.zeros(query.shape[:-1] + key.shape[-2:-1])
        """)
    report = graded(course, sub, "sdpa")
    assert report.tests and report.score == 0


def test_tensor_subclass_and_lying_objects_score_zero(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    stub_sdpa_with(sub, """
        class Liar(torch.Tensor):
            def __eq__(self, other): return True
            def allclose(self, *a, **k): return True
        out = torch.zeros(query.shape[:-1] + value.shape[-1:]).as_subclass(Liar)
        class Anything:
            def __eq__(self, other): return True
            def __array__(self, *a, **k): raise RuntimeError
        return out, Anything()
        """)
    report = graded(course, sub, "sdpa")
    assert report.tests and report.score == 0
    assert any("subclass of torch.Tensor" in t.message for t in report.tests)


def test_infinite_loop_fails_only_that_test(course_copy, tmp_path):
    from coursepack.config import load_course

    toml = course_copy / "course.toml"
    text = toml.read_text()
    toml.write_text(text.replace('symbols = ["MultiHeadAttention"]', 'symbols = ["MultiHeadAttention"]\ntime_limit = 3'))
    course = load_course(toml)
    sub = make_submission(course, tmp_path / "s")
    edit(sub / "course_torch" / "multihead.py", "if context is None:\n            context = x",
         "if context is not None:\n            while True:\n                pass\n        context = x")
    report = graded(course, sub, "multihead", "sinusoidal")
    multihead = [t for t in report.tests if t.task == "multihead"]
    cross = [t for t in multihead if "cross" in t.name or "context" in t.name or t.name.startswith("test_multihead_hidden.py::test_gradients")]
    assert cross and all(not t.passed and "did not finish in time" in t.message for t in cross)
    assert any(t.passed for t in multihead), "self-attention tests still run after a timeout"
    assert all(t.passed for t in report.tests if t.task == "sinusoidal")


def test_fake_pytest_summary_on_stdout_gains_nothing(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    path = sub / "course_torch" / "attention.py"
    path.write_text(path.read_text() + "\nimport sys\nprint('=' * 20 + ' 60 passed in 1.00s ' + '=' * 20)\n"
                    "sys.stderr.write('60 passed, 0 failed\\n')\n")
    report = graded(course, sub, "sdpa")
    assert report.tests and report.score == 0


def test_warnings_on_stderr_keep_full_marks(course, tmp_path):
    sub = make_submission(course, tmp_path / "s")
    path = sub / "course_torch" / "attention.py"
    path.write_text(path.read_text() + "\nimport sys, warnings\nwarnings.warn('deprecated thing', DeprecationWarning)\n"
                    "sys.stderr.write('UserWarning: something noisy\\n')\n")
    edit(path, "d_k = query.size(-1)", "d_k = query.size(-1)\n    print('debug', d_k, file=sys.stderr)")
    report = graded(course, sub, "sdpa", "additive")
    assert report.tests and all(t.passed for t in report.tests)


@pytest.mark.skipif(sandbox.isolation_level() != "namespaces+nobody", reason="needs root with namespaces")
def test_submission_cannot_read_solutions_or_hidden_tests(course, tmp_path):
    sub = make_submission(course, tmp_path / "s", base="assignments")
    root = str(course.root)
    stub_sdpa_with(sub, f"""
        import os, glob
        found = []
        for pattern in ({root!r} + "/solutions/**/*.py", {root!r} + "/autograder/**/*",
                        "/tmp/**/attention.py", "/tmp/**/*.npz"):
            found += [p for p in glob.glob(pattern, recursive=True) if "course-worker-" not in p]
        if found:
            raise RuntimeError("LEAK " + " ".join(found[:5]))
        raise RuntimeError("nothing found")
        """)
    report = graded(course, sub, "sdpa")
    public = [t for t in report.tests if t.visibility == "public"]
    assert public and all("nothing found" in t.message for t in public), [t.message for t in public]

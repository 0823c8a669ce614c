"""The interpreter that runs student code: isolated from the user, configured by the grader.

The worker starts with ``python -s -P`` in an environment the grader builds from
nothing (``Worker.start``): no user site-packages, the script's folder not on
``sys.path``, and the ``PYTHON*`` variables the grader sets in force (``python -I``
would ignore them).
"""

from __future__ import annotations

import pytest

from coursepack.judge.worker import Worker

FLAGS_PROBE = """
import sys

import torch


def interpreter_flags():
    return torch.tensor([float(sys.flags.no_user_site), float(sys.flags.safe_path),
                         float(sys.flags.hash_randomization), float(sys.flags.dont_write_bytecode)])
"""


def test_student_code_runs_isolated_with_the_graders_settings(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "course_torch").mkdir()
    (tmp_path / "course_torch" / "__init__.py").write_text("")
    (tmp_path / "course_torch" / "probe.py").write_text(FLAGS_PROBE)
    request = {"seed": 0, "build": None, "returns": {"flags": "flags"},
               "steps": [{"call": "course_torch.probe:interpreter_flags", "args": {}, "save": "flags"}]}
    with Worker("torch", tmp_path, {"course_torch"}, {}) as worker:
        result = worker.call(request, {}, 60)
    assert result.ok, result.message
    no_user_site, safe_path, hash_randomization, dont_write_bytecode = result.outputs["flags"].tolist()
    assert (no_user_site, safe_path) == (1.0, 1.0)  # isolated from the user's Python
    # PYTHONHASHSEED=0 and PYTHONDONTWRITEBYTECODE=1 from the grader's environment
    assert (hash_randomization, dont_write_bytecode) == (0.0, 1.0)

"""Gradescope: the CPU build of torch, venv on current Ubuntu images, loose files graded
in their track, and a refused quiz that says why even when hidden tests show names only."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coursepack.integrations.ci import grade_one

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@pytest.fixture(scope="module")
def bundle(course, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "coursepack.cli", "--course", str(course.path), "autograder",
                           "gradescope", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def stub(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_installs_venv_support_and_the_cpu_torch(course, bundle, tmp_path):
    """setup.sh on an Ubuntu 24.04-like image: Python 3.12 without ensurepip (no
    python3.12-venv yet). apt-get, the system Python and pip are stand-ins that record
    what they are asked; the venv's Python runs the real one for everything but pip."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.write_text("")
    venv_python = f"""if [ "${{1:-}}" = -m ] && [ "${{2:-}}" = pip ]; then echo "pip $*" >> {log}; exit 0; fi
PYTHONPATH={root / 'source' / 'src'} exec {sys.executable} "$@"
"""
    stub(bin_dir / "python3.13", "exit 1\n")  # not on this image
    stub(bin_dir / "python3.12", f"""case "$*" in
  *ensurepip*) [ -e {tmp_path}/venv-package ] ;;
  *"%d.%d"*) echo 3.12 ;;
  "-m venv .venv") mkdir -p .venv/bin && cat > .venv/bin/python <<'EOF'
{venv_python}EOF
    chmod +x .venv/bin/python ;;
  *) exit 0 ;;
esac
""")
    stub(bin_dir / "apt-get", f"""echo "apt-get $*" >> {log}
case "$*" in *python3.12-venv*) touch {tmp_path}/venv-package ;; esac
""")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = log.read_text().splitlines()
    assert "apt-get install -y python3.12-venv" in calls
    torch = next(i for i, c in enumerate(calls) if f"--index-url {CPU_INDEX} torch==" in c)
    package = next(i for i, c in enumerate(calls) if "-e .[torch,tf]" in c)
    assert torch < package  # the pinned torch comes from the CPU index before the package asks for it


def test_loose_module_files_are_graded_in_their_track(course, tmp_path):
    sub = tmp_path / "submission"
    sub.mkdir()
    shutil.copy2(course.solutions / "course_torch" / "attention.py", sub / "attention.py")
    shutil.copy2(course.solutions / "quiz_answers" / "post.json", sub / "post.json")
    (sub / "notes.txt").write_text("my attention")
    report = grade_one(course, sub)
    points = {(s.id, s.framework): s.score for s in report.tasks}
    assert report.frameworks == ["torch"]
    assert points[("additive", "torch")] == 9 and points[("sdpa", "torch")] == 14
    assert points[("multihead", "torch")] == 0  # not handed in: the stub
    assert points[("quiz-post", "quiz")] > 0 and report.student == "reference"
    assert any("course_torch/attention.py" in e for e in report.errors)
    assert report.submission == str(sub)


def test_a_refused_quiz_gives_its_reason_under_name_and_points():
    from coursepack.reports.results import Report, TestResult, to_gradescope

    report = Report(course="c", submission="s", frameworks=["torch"], isolation="none", mode="grade", tests=[
        TestResult("quiz post (218)", "quiz-post", "quiz", "hidden", False, 0.0, 10.0,
                   "the answers were drawn for 'bob', not for 'alice'", refused=True),
        TestResult("test_x", "sdpa", "torch", "hidden", False, 0.0, 1.0, "secret detail")])
    tests = json.loads(to_gradescope(report, hidden="name-and-points"))["tests"]
    assert tests[0]["output"] == "the answers were drawn for 'bob', not for 'alice'"
    assert tests[1]["output"] == "hidden test failed"

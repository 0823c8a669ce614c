"""Protected files (public tests, course.toml, the workflow, any conftest.py or
pytest.ini) changed or added are flagged in every layout a submission comes in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from coursepack.grading.protected import protected_changes_on_disk


def run_course(*args):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def release(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "student"
    proc = run_course("--course", str(course.path), "release", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_a_repository_submission_with_edited_tests_is_flagged(course, release, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(release, repo)
    assert protected_changes_on_disk(course, repo / "assignments") == []  # untouched: nothing to say
    test_file = next((repo / "assignments" / "tests").glob("test_*.py"))
    test_file.write_text(test_file.read_text() + "\n# made easier\n")
    (repo / "assignments" / "conftest.py").write_text("")
    (repo / "pytest.ini").write_text("[pytest]\n")
    (repo / "course.toml").write_text((repo / "course.toml").read_text().replace("points = ", "points = 1 + ", 1))
    proc = run_course("--course", str(course.path), "grade", str(repo / "assignments"), "--task", "quiz-post",
                      "--format", "json")
    assert proc.returncode == 0, proc.stderr
    note = next(e for e in json.loads(proc.stdout)["errors"] if e.startswith("protected files"))
    for flagged in (f"assignments/tests/{test_file.name} (changed)", "assignments/conftest.py (added)",
                    "pytest.ini (added)", "course.toml (changed)"):
        assert flagged in note


def test_folder_and_loose_layouts_are_flagged(course, tmp_path):
    from coursepack.integrations.lms.loose import lay_out

    folder = tmp_path / "folder"
    shutil.copytree(course.assignments / "course_torch", folder / "course_torch")
    (folder / "course_torch" / "conftest.py").write_text("")
    assert protected_changes_on_disk(course, folder) == ["assignments/course_torch/conftest.py (added)"]
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy2(course.solutions / "course_torch" / "attention.py", loose / "attention.py")
    (loose / "pytest.ini").write_text("[pytest]\n")
    staged = tmp_path / "staged"
    staged.mkdir()
    assert lay_out(course, loose, staged) is not None
    assert protected_changes_on_disk(course, staged) == ["assignments/pytest.ini (added)"]

"""The GitHub Actions workflows the course writes: hardened, linted by actionlint (with
shellcheck) and zizmor, pinned by commit SHA to actions on the node24 runtime, and a
roster that works as generated and as documented, split over jobs past 256 repositories."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from coursepack.integrations.github import github_workflow, write_github_workflow
from coursepack.integrations.lms.ghroster import main as roster_main
from coursepack.grading.protected import student_workflow

BIN = Path(sys.executable).parent
# Each action at a release on the node24 runtime: tag -> the commit it points to
# (verified against the actions' own repositories; their action.yml says `using: node24`).
PINS = {
    "actions/checkout": ("v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1"),
    "actions/setup-python": ("v7.0.0", "5fda3b95a4ea91299a34e894583c3862153e4b97"),
    "actions/upload-artifact": ("v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"),
}


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    assert path, f"{name} is not installed: run `pip install -e '.[dev]'` (it is a test dependency)"
    return str(path)


@pytest.fixture(scope="module")
def workflows(course, tmp_path_factory) -> Path:
    """A repository with every workflow the course writes: the instructors' (for a class
    of up to 1024 and of 300) and the students'."""
    repo = tmp_path_factory.mktemp("workflows")
    folder = repo / ".github" / "workflows"
    write_github_workflow(course, repo)
    (folder / "grade-300.yml").write_text(github_workflow(course, max_repos=300))
    (folder / "course-check.yml").write_text(student_workflow())
    return folder


def test_actionlint_with_shellcheck(workflows):
    proc = subprocess.run([tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"),
                           *map(str, sorted(workflows.glob("*.yml")))], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor(workflows, persona):
    """zizmor's default audits (the regular persona), and its pedantic one too."""
    proc = subprocess.run([tool("zizmor"), "--offline", "--no-progress", "--persona", persona,
                           str(workflows.parent.parent)], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "ZIZMOR_CONFIG")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


def test_hardened(workflows):
    for path in workflows.glob("*.yml"):
        text = path.read_text()
        data = yaml.safe_load(text)
        if path.name == "course-check.yml":
            assert data["permissions"] == {"contents": "read"}
        else:
            assert data["permissions"] == {}  # nothing by default, each job asks for what it needs
            assert all(job["permissions"] == {"contents": "read"} for job in data["jobs"].values())
        for job in data["jobs"].values():
            for step in job["steps"]:
                uses = step.get("uses")
                if not uses:
                    continue
                action, _, ref = uses.partition("@")
                tag, sha = PINS[action]
                assert ref == sha, f"{path.name}: {uses} is not pinned to {action} {tag}"
                if action == "actions/checkout":
                    assert step["with"]["persist-credentials"] is False
        for action, (tag, sha) in PINS.items():  # the version is said beside the SHA, for people and Dependabot
            for line in re.findall(rf"uses: {action}@{sha}.*", text):
                assert line.endswith(f"# {tag}")


def test_the_roster_as_generated_and_documented(course, tmp_path, capsys):
    write_github_workflow(course, tmp_path)
    roster = tmp_path / "roster.txt"
    assert roster_main([str(roster), "--parts", "4"]) == 1  # as generated: the class is still to be listed
    assert "::error file=" in capsys.readouterr().err
    documented = [line[1:].strip() for line in roster.read_text().splitlines() if re.match(r"#\s+my-class/", line)]
    assert len(documented) == 2  # the examples of the file's own comment, uncommented, work
    roster.write_text(roster.read_text() + "\n".join(documented) + "\n")
    assert roster_main([str(roster), "--parts", "4"]) == 0
    outputs = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert outputs["count"] == "2"
    assert [e["student"] for e in json.loads(outputs["part1"])] == ["alice@example.org", "bob@example.org"]
    roster.write_text("alice/attention\n")
    assert roster_main([str(roster)]) == 1
    assert "line=1" in capsys.readouterr().err


def test_a_class_over_256_repositories_is_split_over_jobs(course, tmp_path, capsys):
    workflow = yaml.safe_load(github_workflow(course, max_repos=600))
    grade_jobs = sorted(j for j in workflow["jobs"] if j.startswith("grade-"))
    assert grade_jobs == ["grade-1", "grade-2", "grade-3"]
    roster = tmp_path / "roster.txt"
    roster.write_text("".join(f"class/attention-{i} s{i}@example.org\n" for i in range(600)))
    assert roster_main([str(roster), "--parts", "3"]) == 0
    outputs = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert [len(json.loads(outputs[f"part{i}"])) for i in (1, 2, 3)] == [256, 256, 88]
    assert roster_main([str(roster), "--parts", "2"]) == 1
    assert "--max-repos" in capsys.readouterr().err


def test_the_students_workflow_reports_progress_and_fails_only_on_a_broken_setup(course, tmp_path):
    """The check step of course-check.yml, run in a student's fresh release (stubs only):
    green with the progress in the job summary; red when the course cannot be checked."""
    release = tmp_path / "student"
    proc = subprocess.run([sys.executable, "-m", "coursepack.cli", "--course", str(course.path), "release",
                           str(release)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    step = next(s for s in yaml.safe_load(student_workflow())["jobs"]["check"]["steps"]
                if s.get("name", "").startswith("Public tests"))
    (release / ".venv").symlink_to(Path(sys.prefix))
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "PYTHONPATH": str(release / "src")}
    proc = subprocess.run(["bash", "-e", "-c", step["run"] + " sdpa"], cwd=release, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = summary.read_text()
    assert "| sdpa | torch | 0 /" in text and "What did not pass" in text
    (release / "course.toml").write_text("[course\n")  # broken
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=release, env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "course.toml" in proc.stderr


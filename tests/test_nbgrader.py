"""The generated nbgrader course, driven by the real nbgrader end to end.

Build the nbgrader course from a copy of this course, release it with
`nbgrader generate_assignment`, submit four PyTorch notebooks (the solution, the
untouched release, a classic mistake in one task, an endless loop in one task and a
crash in another), `autograde`, `generate_feedback`, `export`; compare every test cell's
points with `course grade` on the same code as `.py` files. The source notebooks must
also run top to bottom in a Jupyter kernel (nbclient).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
import nbformat  # noqa: E402

from coursepack.course.config import load_course  # noqa: E402
from coursepack.grading.grader import grade  # noqa: E402
from coursepack.judge.worker import close_pool  # noqa: E402
from submissions import edit, make_submission  # noqa: E402

VENV_BIN = str(Path(sys.executable).parent)
ENV = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}

# Edits of the solution (answer cell grade id, or file for the .py version) per submission.
SWAP = ("table[:, 0::2] = torch.sin(angles)\n    table[:, 1::2] = torch.cos(angles)",
        "table[:, 0::2] = torch.cos(angles)\n    table[:, 1::2] = torch.sin(angles)")
LOOP = ("        scores = self.v(torch.tanh(", "        while True:\n            pass\n        scores = self.v(torch.tanh(")
CRASH = ('    if d_model % 2 != 0:', '    import os\n    os._exit(3)\n    if d_model % 2 != 0:')
# Code outside the definitions: autograding must not run it anywhere (no kernel is started).
PROBE = ("    return table.to(torch.float32)",
         "    return table.to(torch.float32)\n\n\nprint('THE KERNEL RAN ME', open('/etc/hostname').read())")
SUBMISSIONS = {
    "ref": {},
    "partial": {"positional-sinusoidal_encoding": [SWAP, PROBE]},
    "broken": {"attention-AdditiveAttention": [LOOP], "positional-sinusoidal_encoding": [CRASH]},
}
FILES = {"positional-sinusoidal_encoding": "positional.py", "attention-AdditiveAttention": "attention.py"}


def nbgrader(*args, cwd):
    proc = subprocess.run([os.path.join(VENV_BIN, "nbgrader"), *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def cell_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def fill(release_nb: Path, source_nb: Path, out: Path, edits: dict) -> None:
    """A student's notebook: the released one with the solution's answer cells typed in."""
    source = {cell_id(c): c.source for c in nbformat.read(source_nb, as_version=4).cells
              if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release_nb, as_version=4)
    for cell in nb.cells:
        if cell_id(cell) in source:
            text = source[cell_id(cell)]
            for old, new in edits.get(cell_id(cell), []):
                assert old in text
                text = text.replace(old, new)
            cell.source = text
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)


@pytest.fixture(scope="module")
def nb_course(tmp_path_factory, repo):
    """A copy of the course (10 s per test, 5 s for the additive task, whose endless loop
    every one of its tests meets) and its nbgrader course, released, with four
    submissions autograded."""
    import shutil

    root = tmp_path_factory.mktemp("nbg") / "course"
    root.mkdir()
    text = (repo / "course.toml").read_text()
    text = re.sub(r"(?m)^time_limit = \d+", "time_limit = 10", text, count=1)
    looping = 'symbols = ["AdditiveAttention"]'
    assert looping in text
    (root / "course.toml").write_text(text.replace(looping, looping + "\ntime_limit = 5", 1))
    for name in ("solutions", "assignments", "autograder", "quizzes"):
        shutil.copytree(repo / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    course = load_course(root / "course.toml")
    out = root / "nbgrader"
    proc = subprocess.run([sys.executable, "-m", "coursepack.cli", "--course", str(course.path), "nbgrader", "build",
                           "--framework", "torch"], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0, proc.stderr
    nbgrader("generate_assignment", "attention", cwd=out)
    source_nb = out / "source/attention/attention_torch.ipynb"
    release_nb = out / "release/attention/attention_torch.ipynb"
    for student, edits in SUBMISSIONS.items():
        fill(release_nb, source_nb, out / f"submitted/{student}/attention/attention_torch.ipynb", edits)
    blank = out / "submitted/blank/attention/attention_torch.ipynb"
    blank.parent.mkdir(parents=True)
    shutil.copy2(release_nb, blank)
    nbgrader("autograde", "attention", cwd=out)
    nbgrader("generate_feedback", "attention", cwd=out)
    nbgrader("export", cwd=out)
    return course, out


def cell_points(out: Path, student: str, course_id: str) -> dict[str, float]:
    """Points of every test cell of an autograded notebook, as nbgrader stored them."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id=course_id) as gb:
        submission = gb.find_submission_notebook("attention_torch", "attention", student)
        return {g.name.removeprefix("tests-"): g.score for g in submission.grades if g.name.startswith("tests-")}


def test_release_holds_no_solution_and_no_hidden_test(nb_course):
    course, out = nb_course
    text = (out / "release/attention/attention_torch.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
    solution = (course.solutions / "course_torch/attention.py").read_text()
    body = "scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)"
    assert body in solution and body not in text
    assert text.count("raise NotImplementedError()") >= 12
    from coursepack.authoring.release import scan_release

    assert scan_release(course, out / "release/attention/course") == []


def test_autograded_points_equal_course_grade_task_by_task(nb_course, tmp_path):
    course, out = nb_course
    # `course grade` gives the solutions every point and the stubs none (test_grading.py).
    assert cell_points(out, "ref", course.id) == {t.id: t.points for t in course.tasks}
    assert cell_points(out, "blank", course.id) == {t.id: 0 for t in course.tasks}
    pool: dict = {}
    try:
        for student in ("partial", "broken"):
            folder = make_submission(course, tmp_path / student)
            for grade_id, changes in SUBMISSIONS[student].items():
                for old, new in changes:
                    edit(folder / "course_torch" / FILES[grade_id], old, new)
            report, _ = grade(course, folder, frameworks=("torch",), pool=pool,
                              tasks={t.id for t in course.tasks})
            expected = {s.id: s.score for s in report.tasks}
            assert cell_points(out, student, course.id) == pytest.approx(expected, abs=1e-3), student
    finally:
        close_pool(pool)


def test_autograding_runs_no_student_code_in_a_kernel(nb_course):
    course, out = nb_course
    graded = nbformat.read(out / "autograded/partial/attention/attention_torch.ipynb", as_version=4)
    answer = next(c for c in graded.cells if cell_id(c) == "positional-sinusoidal_encoding")
    assert "THE KERNEL RAN ME" in answer.source and answer.outputs == []
    html = (out / "feedback/partial/attention/attention_torch.html").read_text()
    assert html.count("THE KERNEL RAN ME") == 1  # in the code shown, never in an output
    assert all(not c.get("outputs") for c in graded.cells if c.cell_type == "code" and not (cell_id(c) or "").startswith("tests-"))


def test_plot_cells_are_released_locked_and_never_graded(nb_course):
    from coursepack.plots import TASK_PLOTS

    course, out = nb_course
    release = nbformat.read(out / "release/attention/attention_torch.ipynb", as_version=4)
    plots = {cell_id(c): c for c in release.cells if (cell_id(c) or "").startswith("plot-")}
    assert set(plots) == {f"plot-{task}" for task in TASK_PLOTS}
    for cell in plots.values():
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and not meta["grade"] and not meta["solution"]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", course_id=course.id) as gb:
        graded = {g.name for g in gb.find_submission_notebook("attention_torch", "attention", "ref").grades}
    assert graded == {f"tests-{t.id}" for t in course.tasks}  # the plot cells hold no grade


def test_plot_does_nothing_under_autograde(monkeypatch, capsys):
    from coursepack.notebooks.plot import plot

    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert plot("additive", framework="torch") is None
    assert "never graded" in capsys.readouterr().out


def test_check_refuses_to_pass_unjudged_under_autograde(monkeypatch):
    from coursepack.notebooks.check import CourseSetupError, check

    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(CourseSetupError, match="nbgrader_config.py"):
        check("sdpa", framework="torch")


def test_one_endless_loop_and_one_crash_cost_only_their_tasks(nb_course):
    course, out = nb_course
    points = cell_points(out, "broken", course.id)
    lost = {task for task, p in points.items() if p < course.task(task).points - 1e-6}
    assert lost == {"additive", "sinusoidal"}
    assert points["additive"] == 0 and points["sinusoidal"] == 0


def test_exported_csv_totals(nb_course):
    course, out = nb_course
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    code_points = sum(t.points for t in course.tasks)
    assert float(rows["ref"]["score"]) == pytest.approx(code_points)
    assert float(rows["blank"]["score"]) == 0
    assert float(rows["broken"]["score"]) == pytest.approx(code_points - 9 - 4)
    assert float(rows["partial"]["score"]) == pytest.approx(code_points - 4)  # every sinusoidal test fails
    assert {float(r["max_score"]) for r in rows.values()} == {code_points}


def test_feedback_holds_no_hidden_test_code(nb_course):
    course, out = nb_course
    hidden_sources = [p.read_text() for p in course.hidden_tests.glob("test_*.py")]
    hidden_lines = {line.strip() for text in hidden_sources for line in text.splitlines()
                    if len(line.strip()) > 30 and not line.strip().startswith(("#", '"""', "def test_"))}
    for student in ("ref", "partial", "broken", "blank"):
        html = (out / f"feedback/{student}/attention/attention_torch.html").read_text()
        assert "hidden=True" not in html and "BEGIN HIDDEN TESTS" not in html
        assert "Task &#39;sdpa&#39; (torch)" in html or "Task 'sdpa' (torch)" in html
        leaked = [line for line in hidden_lines if line in html]
        assert leaked == [], leaked[:3]


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_source_notebook_runs_top_to_bottom(nb_course, framework, tmp_path):
    """With the reference solution in, every cell runs without an error (public and hidden
    checks included) and no test cell writes to stderr."""
    from nbclient import NotebookClient

    if framework == "tf":
        pytest.importorskip("tensorflow")
    course, out = nb_course
    if framework != "torch":  # the fixture's course has the PyTorch notebook only
        out = tmp_path / "nbgrader"
        proc = subprocess.run([sys.executable, "-m", "coursepack.cli", "--course", str(course.path), "nbgrader",
                               "build", str(out), "--framework", framework], capture_output=True, text=True, env=ENV)
        assert proc.returncode == 0, proc.stderr
    path = out / f"source/attention/attention_{framework}.ipynb"
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_TOML"] = str(course.path)  # the kernel's hidden checks need the instructor's course
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        del os.environ["COURSE_TOML"]
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == len(course.tasks)
    for cell in tests:
        kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
        assert ("error", None) not in kinds and ("stream", "stderr") not in kinds
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "FAIL" not in text and "(hidden)" in text and f"({framework})" in text
    plots = [c for c in nb.cells if (cell_id(c) or "").startswith("plot-")]
    assert plots
    for cell in plots:  # the reference draws every picture inline
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), (cell_id(cell), cell.outputs)
        assert not [o for o in cell.outputs if o.output_type == "error"]

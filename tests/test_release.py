"""The student release holds nothing of the instructor's, and works on its own;
submissions are zips with a manifest, graded as they are."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from coursepack.course.config import load_course
from coursepack.grading.grader import grade
from coursepack.authoring.release import make_release, scan_release, student_readme
from coursepack.grading.submission import make_submission


@pytest.fixture(scope="module")
def release(course, tmp_path_factory):
    folder, archive = make_release(course, tmp_path_factory.mktemp("rel") / "student")
    return folder, archive


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_release_is_clean(course, release):
    folder, archive = release
    assert scan_release(course, folder) == []
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert not any(n.startswith(("solutions/", "autograder/")) for n in names)
    assert not any("_hidden" in n for n in names)
    assert {"course.toml", "README.md", ".github/workflows/course-check.yml", "quizzes/pre.json",
            "quizzes/post.json", "assignments/course_torch/attention.py", "assignments/course_tf/attention.py",
            "assignments/tests/expected/test_attention.npz", "assignments/tests/conftest.py",
            "src/coursepack/cli.py"} <= names
    post = json.loads((folder / "quizzes/post.json").read_text())
    assert all(set(q) & {"answer", "answer_hash", "explanation", "explanation_sealed"} == set()
               for q in post["questions"])
    with zipfile.ZipFile(archive) as zf:
        assert sorted(n for n in zf.namelist() if not n.endswith("/")) == sorted(f"{folder.name}/{n}" for n in names)
    # Students' setup installs both tracks' frameworks, not the project's test tools.
    assert 'EXTRAS="${COURSE_EXTRAS:-torch,tf}"' in (folder / "scripts/setup.sh").read_text()


def test_release_notebooks_hold_stubs_and_public_checks(course, release):
    nbformat = pytest.importorskip("nbformat")
    folder, _ = release
    for framework in course.frameworks:
        nb = nbformat.read(folder / "notebooks" / f"attention_{framework}.ipynb", as_version=4)
        nbformat.validate(nb)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        checks = [s for s in code if "check(" in s and "import" not in s]
        assert len(checks) == len(course.tasks)
        assert all("hidden" not in s.lower() for s in checks)
        assert sum("raise NotImplementedError(\"task '" in s for s in code) >= len(course.tasks)
    assert (folder / "notebooks" / "toylang.py").is_file()


def test_scan_finds_planted_leaks(course, tmp_path):
    shutil.copytree(course.assignments / "tests", tmp_path / "assignments" / "tests")
    assert scan_release(course, tmp_path) == []
    shutil.copy2(course.solutions / "course_torch" / "multihead.py", tmp_path / "copied.py")
    shutil.copy2(course.hidden_tests / "test_bert_hidden.py", tmp_path / "notes.txt")
    problems = scan_release(course, tmp_path)
    assert any("copied.py: contains a solution region" in p for p in problems)
    assert any("notes.txt: contains the hidden test name" in p for p in problems)


def test_release_checks_and_quizzes_on_its_own(release, tmp_path):
    folder, _ = release
    proc = cli("check", "sinusoidal", cwd=folder)
    assert proc.returncode == 1 and "not implemented yet" in proc.stdout and "hidden test(s)" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    student = load_course(folder / "course.toml")
    sheet = tmp_path / "a.json"
    proc = cli("quiz", "pre", "--sheet", str(sheet), "--student", "s@example.org", "--lang", "zh", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    filled = json.loads(sheet.read_text())
    for entry in filled["questions"].values():
        entry["answer"] = 0 if entry["type"] == "single" else None
    sheet.write_text(json.dumps(filled, ensure_ascii=False))
    proc = cli("quiz", "pre", "--answers", str(sheet), "--student", "s@example.org", "--lang", "zh", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((student.assignments / "quiz_answers" / "pre.json").read_text())
    assert saved["feedback"], "the hashed bank gave feedback"
    proc = cli("grade", "assignments", cwd=folder)
    assert proc.returncode == 2 and "no hidden tests" in proc.stderr


def test_submission_zip_is_graded_and_protected_files_are_flagged(course, release, tmp_path):
    folder, _ = release
    student = load_course(folder / "course.toml")
    honest = make_submission(student, student.assignments, "torch", tmp_path / "honest.zip", "s@example.org")
    with zipfile.ZipFile(honest) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["student"] == "s@example.org" and manifest["framework"] == "torch"
    assert "course_torch/attention.py" in manifest["files"] and "torch" in manifest["versions"]
    report, _ = grade(course, honest, frameworks=("torch",), tasks={"sinusoidal"})
    assert report.score == 0 and report.errors == [] and report.tests

    test_file = folder / "assignments" / "tests" / "test_positional.py"
    original = test_file.read_text()
    test_file.write_text(original.replace("require(", "(lambda *a: None)("))
    conftest = folder / "assignments" / "tests" / "conftest.py"  # the release's own (plain pytest's guidance)
    shipped = conftest.read_text()
    conftest.write_text("# forces nothing, but is not ours\n")
    try:
        edited = make_submission(student, student.assignments, "torch", tmp_path / "edited.zip", "s@example.org")
    finally:
        test_file.write_text(original)
        conftest.write_text(shipped)
    report, _ = grade(course, edited, frameworks=("torch",), tasks={"sinusoidal"})
    assert any("protected files were changed" in e and "test_positional.py" in e and "conftest.py" in e
               for e in report.errors), report.errors


def test_unsafe_zip_entries_are_refused(course, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.py", "x = 1\n")
    proc = cli("--course", str(course.path), "grade", str(archive))
    assert proc.returncode == 2 and "unsafe entry" in proc.stderr


def test_work_done_in_the_release_notebook_is_submitted_and_graded(course, release, tmp_path):
    """A student who worked in notebooks/attention_torch.ipynb submits with --notebook."""
    import ast

    folder = tmp_path / "student"
    shutil.copytree(release[0], folder)
    notebook = folder / "notebooks" / "attention_torch.ipynb"
    data = json.loads(notebook.read_text())
    solved = {}
    for name in ("masked_softmax", "scaled_dot_product_attention", "MultiHeadAttention"):
        file = "multihead.py" if name == "MultiHeadAttention" else "attention.py"
        text = (course.solutions / "course_torch" / file).read_text()
        node = next(n for n in ast.parse(text).body if getattr(n, "name", None) == name)
        lines = text.splitlines()[node.lineno - 1:node.end_lineno]
        solved[name] = "\n".join(line for line in lines if "SOLUTION" not in line)
    for cell in data["cells"]:
        source = "".join(cell["source"])
        for name, code in solved.items():
            if cell["cell_type"] == "code" and (f"def {name}(" in source or f"class {name}(" in source):
                cell["source"] = code + "\n\nprint('trying it out')\n"  # what a student would leave in
    notebook.write_text(json.dumps(data))
    out = tmp_path / "nb.zip"
    proc = cli("submit", "--notebook", str(notebook), "--student", "s@example.org", "--out", str(out), cwd=folder)
    assert proc.returncode == 0, proc.stderr
    report, _ = grade(course, out, frameworks=("torch",), tasks={"sdpa", "multihead", "additive"})
    points = {s.id: s.score for s in report.tasks}
    assert points == {"sdpa": 14, "multihead": 18, "additive": 0}
    assert report.errors == []  # nothing protected was touched
    notes = " ".join(proc.stderr.split())
    assert "note: not started in the torch track (the stub is still there): additive, sinusoidal," in notes
    assert "sdpa" not in notes and "multihead" not in notes
    assert "the post-lecture quiz (10 points) is not started" in notes


def test_submit_says_when_the_other_track_holds_the_work(course, release, tmp_path):
    folder = tmp_path / "student"
    shutil.copytree(release[0], folder)
    shutil.copy(course.solutions / "course_torch" / "attention.py", folder / "assignments/course_torch/attention.py")
    proc = cli("submit", "--framework", "tf", "--student", "s@example.org", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    notes = " ".join(proc.stderr.split())
    assert "the torch track has work in 2 task(s): did you mean `course submit --framework torch`?" in notes
    assert "(tf track, student s@example.org)" in proc.stdout
    # Quiz answers drawn for another id than the submission's would score 0: said.
    assert cli("quiz", "post", "--sheet", str(tmp_path / "p.json"), "--student", "me@example.org",
               cwd=folder).returncode == 0
    proc = cli("submit", "--framework", "torch", "--student", "s@example.org", cwd=folder)
    notes = " ".join(proc.stderr.split())
    assert "the post-lecture quiz was drawn for 'me@example.org' and scores 0" in notes
    assert "`--student me@example.org`" in notes
    assert "did you mean" not in notes
    todo = notes.split("(the stub is still there): ")[1].split(" note:")[0].split(", ")
    assert set(todo) == {t.id for t in course.tasks} - {"additive", "sdpa"}


def test_the_student_readme_names_this_courses_folders_and_tasks(course):
    """The README's examples come from course.toml (its tracks' folders, its first task),
    so another lesson's release does not tell students about this one's tasks."""
    text = student_readme(course)
    assert "`assignments/course_torch/` (PyTorch) or `assignments/course_tf/` (TensorFlow/Keras):" in text
    assert f"\n.venv/bin/course check {course.tasks[0].id}       # only one task\n" in text
    assert "sdpa" not in text and "@@" not in text

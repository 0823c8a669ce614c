"""The package's templates: files under ``coursepack/templates/``, rendered by one
function, linted here, shipped in the wheel; and no template text hiding in Python
strings, where no linter reads it."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coursepack.templating import TEMPLATES, placeholders, render

SRC = Path(__file__).resolve().parents[1] / "src" / "coursepack"
BIN = Path(sys.executable).parent
#: A string constant with this many line breaks or more is a document, not a message.
MAX_LINE_BREAKS = 3
#: Values that make a template look as it does in use, for the linters (anything else: "sample").
SAMPLES = {"extras": "torch,tf", "hidden": "name-and-points", "id_field": "email", "course_id": "'course-x'",
           "course_rel": "'../course.toml'", "assignment": "'attention'", "cell_timeout": "300", "points": "9",
           "framework": "torch", "task": "sdpa"}


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    assert path, f"{name} is not installed: run `pip install -e '.[dev]'` (it is a test dependency)"
    return str(path)


def templates() -> list[str]:
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts)


def sample(name: str) -> str:
    return render(name, **{key: SAMPLES.get(key, "sample") for key in placeholders(name)})


def is_shell(name: str) -> bool:
    return name.endswith(".sh") or (TEMPLATES / name).read_text(encoding="utf-8").startswith(("#!/bin/bash",
                                                                                              "#!/usr/bin/env bash",
                                                                                              "#!/bin/sh"))


def template_like_strings(path: Path) -> list[str]:
    """Multi-line string constants and f-strings of ``path`` that are not docstrings:
    ``file:line: first line`` for each with :data:`MAX_LINE_BREAKS` line breaks or more."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.JoinedStr):
            skip |= {id(part) for part in node.values}  # counted with their f-string
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
        else:
            continue
        if text.count("\n") >= MAX_LINE_BREAKS and text.strip():
            first = text.strip().splitlines()[0][:60]
            found.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: {first!r}")
    return found


def test_no_template_text_in_python_strings():
    """A document (Markdown, shell, YAML, Python config) written as a Python string escapes
    the linters and the template folder: it belongs in ``coursepack/templates/``."""
    found = [hit for path in sorted(SRC.rglob("*.py")) if TEMPLATES not in path.parents
             for hit in template_like_strings(path)]
    assert not found, ("template text in Python strings (move it to a file under coursepack/templates/ "
                       "and render it with coursepack.templating.render):\n" + "\n".join(found))


def test_the_scan_finds_a_template_string(tmp_path, monkeypatch):
    """The scan above sees a module-level Markdown constant and a multi-line f-string, and
    leaves docstrings and messages alone."""
    module = tmp_path / "coursepack" / "m.py"
    module.parent.mkdir()
    module.write_text('"""A docstring\nof\nmany\nlines."""\n'
                      'README = """\\\n# {title}\n\nText.\n\nMore.\n"""\n'
                      'def f(x):\n    """Doc\n    string\n    here\n    ."""\n'
                      '    return (f"# {x}\\n"\n            "line\\n"\n            "line\\n"\n            "end")\n'
                      'MESSAGE = "one line\\n"\n')
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "coursepack")
    found = template_like_strings(module)
    assert [hit.split(":")[1] for hit in found] == ["5", "17"], found


def test_every_shell_template_passes_shellcheck(tmp_path, repo):
    shells = [name for name in templates() if is_shell(name)]
    assert {"gradescope/setup.sh", "gradescope/run_autograder"} <= set(shells)
    paths = []
    for name in shells:
        path = tmp_path / name.replace("/", "--")
        path.write_text(sample(name))
        paths.append(str(path))
    proc = subprocess.run([tool("shellcheck"), "--shell=bash", *paths, str(repo / "scripts" / "setup.sh")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_every_workflow_template_is_linted():
    """tests/test_lms_workflows.py runs actionlint (with shellcheck) and zizmor on the
    workflows these templates make; a new workflow template must join them there."""
    linted = {"github/grade-submissions.yml", "github/grade-job.yml", "student/course-check.yml"}
    assert {name for name in templates() if name.endswith((".yml", ".yaml"))} == linted


def test_every_python_template_renders_to_valid_python():
    pythons = [name for name in templates() if name.endswith((".py", ".py.in"))]
    assert {"nbgrader/nbgrader_config.py.in", "notebook/setup-cell.py", "notebook/tests-cell.py"} <= set(pythons)
    for name in pythons:
        ast.parse(sample(name), filename=name)


def test_render_refuses_a_missing_or_an_unknown_value():
    with pytest.raises(ValueError, match=r"placeholders \['extras'\], values given \[\]"):
        render("gradescope/setup.sh")
    with pytest.raises(ValueError, match="values given"):
        render("gradescope/setup.sh", extras="torch", colour="blue")
    assert 'COURSE_EXTRAS="@@hidden@@"' in render("gradescope/setup.sh", extras="@@hidden@@")  # values are not rescanned


@pytest.mark.slow
def test_the_wheel_holds_every_template(tmp_path, repo):
    """An installed copy finds its templates: pyproject's package-data lists them all."""
    build = tmp_path / "build"
    (build / "src").mkdir(parents=True)
    shutil.copy2(repo / "pyproject.toml", build)
    shutil.copy2(repo / "README.md", build)
    shutil.copytree(repo / "src" / "coursepack", build / "src" / "coursepack",
                    ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path / "dist"), str(build)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    shipped = {name.removeprefix("coursepack/templates/") for name in zipfile.ZipFile(wheel).namelist()
               if name.startswith("coursepack/templates/")}
    assert set(templates()) <= shipped, sorted(set(templates()) - shipped)

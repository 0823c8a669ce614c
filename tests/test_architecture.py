"""The package's shape (docs/ARCHITECTURE.md): layers imported only downwards, no hidden
function-local imports, and nothing of the package inside the code the worker runs."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "coursepack"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
IN_WORKER = [PACKAGE / "judge" / "runtime", PACKAGE / "plots" / "inworker"]


def lint_imports(src: Path) -> subprocess.CompletedProcess:
    """import-linter with the project's contract (pyproject.toml) on the package under ``src``."""
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the project with `pip install -e '.[dev]'`")
    return subprocess.run([str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
                          cwd=src, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(src)},
                          capture_output=True, text=True, timeout=120)


def _package_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if not any(folder in path.parents for folder in IN_WORKER) and "templates" not in path.parts:
            yield path


def test_the_layers_contract_holds():
    run = lint_imports(REPO / "src")
    assert run.returncode == 0 and "0 broken" in run.stdout, run.stdout + run.stderr


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The contract can fail: the results model importing the grader is refused."""
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "coursepack", ignore=shutil.ignore_patterns("__pycache__"))
    results = copy / "coursepack" / "reports" / "results.py"
    results.write_text(results.read_text(encoding="utf-8") + "\nfrom coursepack.grading import grader  # noqa\n",
                       encoding="utf-8")
    run = lint_imports(copy)
    assert run.returncode != 0
    assert "coursepack.reports.results -> coursepack.grading.grader" in run.stdout, run.stdout


def function_local_imports(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every import inside a function of ``path`` whose lines carry no comment."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for function in ast.walk(ast.parse(text)):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # a reason on a `try:` line covers the imports it guards
            guarded = {id(node) for block in ast.walk(function) if isinstance(block, ast.Try)
                       and "#" in lines[block.lineno - 1] for stmt in block.body for node in ast.walk(stmt)}
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in guarded:
                    span = lines[node.lineno - 2:node.end_lineno]  # the line before may hold the reason
                    if not any("#" in line for line in span):
                        found.append((node.lineno, lines[node.lineno - 1].strip()))
    return found


def test_function_local_imports_say_why():
    """An import inside a function hides a dependency (or a cycle); where one is worth it
    (start-up time, a library only a Jupyter kernel has) a comment says so."""
    unexplained = [f"{path.relative_to(REPO)}:{line}: {text}"
                   for path in _package_modules() for line, text in function_local_imports(path)]
    assert unexplained == [], "move these imports to the top of their module, or say why not:\n" + \
        "\n".join(unexplained)


def test_the_local_import_check_sees_an_unexplained_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\n\ndef f():\n    import json\n    return json\n\n\n"
                      "def g():\n    import csv  # lazy: start-up\n    return csv\n", encoding="utf-8")
    assert function_local_imports(module) == [(5, "import json")]


def test_the_code_copied_into_the_worker_imports_nothing_of_the_package():
    """The worker's folder holds these files and nothing else of the package: an import of
    ``coursepack`` there would either fail or reach the grader's code from student space."""
    files = [path for folder in IN_WORKER for path in sorted(folder.glob("*.py"))]
    assert len(files) >= 6
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(name.split(".")[0] == "coursepack" for name in names), f"{path}:{node.lineno}"


def test_the_cli_imports_neither_the_grader_nor_pytest_at_start_up():
    # `course check` answered by a warm server should cost the command's process its own
    # start-up only: the grader (and pytest, numpy, the worker) load where they are used.
    code = ("import sys, coursepack.cli\n"
            "heavy = ['coursepack.grading.grader', 'coursepack.judge.worker', 'coursepack.authoring.build', 'pytest']\n"
            "print([m for m in heavy if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]", proc.stdout

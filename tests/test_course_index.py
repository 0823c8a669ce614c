"""course.toml is the index of the tests: its file lists and the ``@task`` markers agree.

Each ``[[tasks]]`` table lists its ``public_tests`` and ``hidden_tests`` files, while
grading assigns a test to a task by its ``@task("id")`` marker. The two are checked here
in both directions, by reading the test files with :mod:`ast` (never importing them):

* every test function marked with a task lives in a file that task lists;
* every file a task lists holds at least one test marked with that task.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest


def task_markers(path: Path) -> dict[str, set[str]]:
    """task id -> names of the test functions of ``path`` marked ``@task("id")``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    marked: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
            continue
        for deco in node.decorator_list:
            if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Name) and deco.func.id == "task"
                    and deco.args and isinstance(deco.args[0], ast.Constant)):
                marked.setdefault(deco.args[0].value, set()).add(node.name)
    return marked


def index_problems(course) -> list[str]:
    """Every disagreement between course.toml's test lists and the markers, in words."""
    problems = []
    for kind, base in (("public_tests", course.public_tests), ("hidden_tests", course.hidden_tests)):
        listed = {t.id: set(getattr(t, kind)) for t in course.tasks}
        for path in sorted(base.glob("test_*.py")):
            for task_id, tests in sorted(task_markers(path).items()):
                if task_id not in listed:
                    problems.append(f"{path.name}: {sorted(tests)} marked with unknown task {task_id!r}")
                elif path.name not in listed[task_id]:
                    problems.append(f"{path.name}: {sorted(tests)} marked {task_id!r}, "
                                    f"but that task's {kind} does not list {path.name}")
        for task in course.tasks:
            for name in getattr(task, kind):
                path = base / name
                if not path.is_file():
                    problems.append(f"task {task.id!r} {kind} lists {name}, which does not exist")
                elif task.id not in task_markers(path):
                    problems.append(f"task {task.id!r} {kind} lists {name}, "
                                    f"which has no test marked @task({task.id!r})")
    return problems


def test_markers_agree_with_course_toml(course):
    assert index_problems(course) == []


def test_every_test_function_is_marked(course):
    """A test with no marker belongs to no task (and earns no points): there is none."""
    unmarked = []
    for base in (course.public_tests, course.hidden_tests):
        for path in sorted(base.glob("test_*.py")):
            marked = set().union(*task_markers(path).values())
            tree = ast.parse(path.read_text(encoding="utf-8"))
            unmarked += [f"{path.name}::{n.name}" for n in tree.body
                         if isinstance(n, ast.FunctionDef) and n.name.startswith("test") and n.name not in marked]
    assert unmarked == []


@pytest.mark.parametrize("old, new, expected", [
    # a test moved to the wrong task: its file is not listed by that task
    ('@task("sinusoidal")', '@task("multihead")', "marked 'multihead', but that task's public_tests"),
    # the last tests of a task in a listed file lose their marker
    ('@task("learned_position")', '@task("sinusoidal")', "has no test marked @task('learned_position')"),
])
def test_a_broken_marker_is_found(course_copy, old, new, expected):
    from coursepack.course.config import load_course

    path = course_copy / "assignments" / "tests" / "test_positional.py"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    problems = index_problems(load_course(course_copy / "course.toml"))
    assert any(expected in p for p in problems), problems

"""Every generated stub module opens with a comment naming the tasks it holds.

The header is made by `course build` from course.toml (ids, titles, points and the
`course check TASK` command), so it can never disagree with the index. It is a comment:
the module docstring after it is still the docstring, and the notebooks leave it out.
"""

from __future__ import annotations

import ast
import re

import pytest

from coursepack.notebooks.cells import notebook_json

HEADER_LINE = re.compile(r"^#   (\w+) \((\S+) points\): (.+)\n#     check it with `course check (\w+)`$", re.M)


def header(text: str) -> str:
    """The leading comment block of a file (its lines up to the first non-comment)."""
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_each_stub_names_its_tasks_points_and_check_command(course, framework):
    files = {}
    for task in course.tasks:
        files.setdefault(task.files[framework], []).append(task)
    assert len(files) == 6
    for rel, tasks in files.items():
        text = (course.assignments / rel).read_text(encoding="utf-8")
        found = HEADER_LINE.findall(header(text))
        assert found == [(t.id, f"{t.points:g}", t.title, t.id) for t in tasks], rel
        assert header(text).startswith(f"# Your work in this file: {len(tasks)} task"), rel


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_the_docstring_still_comes_first(course, framework):
    for path in sorted((course.assignments / f"course_{framework}").glob("*.py")):
        stub = path.read_text(encoding="utf-8")
        solution = (course.solutions / path.relative_to(course.assignments)).read_text(encoding="utf-8")
        compile(stub, str(path), "exec")  # a `from __future__` import must still open the code
        assert ast.get_docstring(ast.parse(stub)) == ast.get_docstring(ast.parse(solution)), path.name
        assert ast.get_docstring(ast.parse(stub)), path.name


def test_a_package_file_without_tasks_has_no_header(course):
    for framework in course.frameworks:
        assert not header((course.assignments / f"course_{framework}" / "__init__.py").read_text(encoding="utf-8"))
        assert not header((course.solutions / f"course_{framework}" / "attention.py").read_text(encoding="utf-8"))


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_notebooks_leave_the_header_out(course, framework):
    cells = notebook_json(course, framework, course.assignments, for_nbgrader=False)["cells"]
    sources = ["".join(c["source"]) for c in cells]
    assert not any("Your work in this file" in s for s in sources)
    for s, c in zip(sources, cells):
        if c["cell_type"] == "code":
            compile(s.replace("%", "#"), "cell", "exec")   # every code cell still parses
    assert any(s.startswith("## `attention`\n\nAttention as a soft, differentiable look-up") for s in sources)

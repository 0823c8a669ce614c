"""Solution markers, and the stub a student gets in place of each marked region.

A solution file marks what students must write::

    def scaled_dot_product_attention(query, key, value, mask=None, causal=False):
        \"\"\"...the contract...\"\"\"
        ### BEGIN SOLUTION
        ...reference code...
        ### END SOLUTION

:func:`make_stub` replaces each marked region by a ``raise NotImplementedError`` whose
message starts with :data:`STUB_PREFIX` and names the task, so the grader can tell "not
started" from "wrong" without reading the student's file. A stub file opens with a
comment (:func:`stub_header`) naming the tasks it holds and how to check each.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from coursepack.errors import CourseError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_TOP_LEVEL = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)")

STUB_PREFIX = "task '{task}' "  # how every stub's message starts (the grader reads the task id from it)


def stub_marker(task) -> str:
    """The words a task's stub raises; while they are in a file, the task is not started."""
    return STUB_PREFIX.format(task=task.id) + f"({task.title}): write this part"


def stub_header(tasks) -> str:
    """The comment a stub module opens with: the tasks of course.toml it holds, in the
    course's order, with their titles, points and the command that checks each.

    It is a comment, so a module docstring after it stays the docstring (and the
    notebooks, which start a module at its docstring, leave it out)."""
    if not tasks:
        return ""
    lines = [f"# Your work in this file: {len(tasks)} task{'s' if len(tasks) > 1 else ''} of course.toml.", "#"]
    for task in tasks:
        lines.append(f"#   {task.id} ({task.points:g} points): {task.title}")
        lines.append(f"#     check it with `course check {task.id}`")
    lines += ["#", "# Replace each `raise NotImplementedError` below with your code;",
              "# `course check` alone checks every task.", "", ""]
    return "\n".join(lines)


def make_stub(text: str, path: Path, symbol_tasks: dict[str, object]) -> str:
    """The student's version of a solution file: every marked region made a stub."""
    out: list[str] = []
    inside = False
    symbol = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        match = _TOP_LEVEL.match(line)
        if match and not inside:
            symbol = match.group(1)
        if stripped == BEGIN:
            if inside:
                raise CourseError(f"line {number}: {BEGIN} inside another solution region", path=path,
                                  fix=f"close the first region with {END}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if indent:  # a region at column 0 (a whole helper) simply disappears
                task = symbol_tasks.get(symbol)
                where = stub_marker(task) if task else f"{symbol}: write this part"
                check = f"; `course check {task.id}` tests it" if task else ""
                out.append(f'{indent}raise NotImplementedError("{where}{check}")\n')
            continue
        if stripped == END:
            if not inside:
                raise CourseError(f"line {number}: {END} without {BEGIN}", path=path,
                                  fix="pair every END marker with a BEGIN marker")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise CourseError(f"{BEGIN} is never closed", path=path, fix=f"add {END} after the solution")
    stub = "".join(out)
    try:
        ast.parse(stub, filename=str(path))
    except SyntaxError as exc:
        raise CourseError(f"the stub made from this file does not parse (line {exc.lineno}: {exc.msg})",
                          path=path, fix="put the markers around whole statements of a body") from None
    return stub

"""Modules <-> notebook cells: the one mapping the notebooks and their grading share.

A track's modules become one notebook. Each module is cut at its top-level statements:

* the module docstring becomes a Markdown cell (it teaches the section);
* runs of given statements (imports, constants, helpers without a solution region)
  become one locked code cell each;
* every top-level definition that holds a ``### BEGIN SOLUTION`` region becomes its own
  answer cell, and the tests of a task follow the last answer cell of that task;
* a task with a picture (:data:`coursepack.plots.TASK_PLOTS`) gets a plot cell after its
  tests cell: it draws the task's plot from the student's definitions, and is never graded.

Going back, :func:`assemble_module` puts the definitions of answer cells into the
trusted module file (the stub, or the solution) in place of the originals, so the judge
grades exactly the same files a student of the ``.py`` track would hand in. Only the
definitions of an answer cell count (imports, functions, classes, assignments); code
that would run at import (a print, a quick experiment) is left out.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
import hashlib
import inspect
import json
import shutil

from coursepack.course.stubs import BEGIN, END
from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.plots import TASK_PLOTS
from coursepack.templating import render


@dataclass
class Cell:
    kind: str                    # markdown | given | answer | tests | plot
    source: str
    module: str = ""             # e.g. "attention"
    symbol: str = ""             # answer cells: the definition's name
    task: str = ""               # answer, tests and plot cells: the task id
    grade_id: str = ""


@dataclass
class Chunk:
    """A top-level piece of a module: given statements, or one definition to write."""
    kind: str                    # docstring | given | answer
    text: str
    name: str = ""
    start: int = 0               # first line (1-based), decorators and comments included
    end: int = 0                 # last line
    extra: dict = field(default_factory=dict)


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def split_module(text: str, answer_names: set[str] | None = None) -> list[Chunk]:
    """Cut a module into its docstring, runs of given statements and answer definitions.

    An answer is a top-level definition holding a solution region, or, when
    ``answer_names`` is given, any top-level definition of one of those names."""
    tree = ast.parse(text)
    lines = text.splitlines()
    chunks: list[Chunk] = []
    body = list(tree.body)
    cursor = 0  # lines[:cursor] are consumed
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        chunks.append(Chunk("docstring", body[0].value.value, start=1, end=body[0].end_lineno))
        cursor = body[0].end_lineno
        body = body[1:]
    for node in body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        end = _end_with_trailing_comments(lines, node)
        # leading comments and blank lines belong to the statement that follows them
        segment = "\n".join(lines[cursor:end])
        own = "\n".join(lines[first - 1:end])
        cursor = end
        if _is_main_guard(node):
            continue
        is_definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        is_answer = is_definition and (node.name in answer_names if answer_names is not None
                                       else BEGIN in own)
        if is_answer:
            chunks.append(Chunk("answer", segment.strip("\n"), name=node.name, start=first, end=end))
        elif chunks and chunks[-1].kind == "given":
            chunks[-1].text += "\n" + segment
            chunks[-1].end = end
        else:
            chunks.append(Chunk("given", segment.strip("\n"), start=first, end=end))
    for chunk in chunks:
        if chunk.kind == "given":
            chunk.text = chunk.text.strip("\n")
    return chunks


def _end_with_trailing_comments(lines: list[str], node: ast.stmt) -> int:
    """The last line of ``node``, counting comments indented inside it that follow its
    last statement (such as the ``### END SOLUTION`` that closes its last region)."""
    end = node.end_lineno
    probe = end
    while probe < len(lines):
        line = lines[probe]
        if not line.strip():
            probe += 1
            continue
        indent = len(line) - len(line.lstrip())
        if line.lstrip().startswith("#") and indent > node.col_offset:
            probe += 1
            end = probe
            continue
        break
    return end


_RELATIVE_IMPORT = re.compile(r"^(\s*)(from \.\S* import .+)$", re.M)


def for_notebook(given: str) -> str:
    """Given code as a notebook cell: everything shares one namespace there, so imports
    of the track's own modules are shown as comments."""
    return _RELATIVE_IMPORT.sub(r"\1# \2  (defined above in this notebook)", given)


def markdown_from_docstring(doc: str) -> str:
    """reStructuredText-ish docstrings as Markdown: ``code`` -> `code`, :: blocks indented."""
    text = inspect.cleandoc(doc)
    text = text.replace("``", "`")
    return re.sub(r"::\n", ":\n", text)


def module_order(course: Course, framework: str) -> list[tuple[str, Path]]:
    """(module name, relative file) of a track, in the order the tasks list them."""
    seen: dict[str, Path] = {}
    for task in course.tasks:
        rel = Path(task.files[framework])
        seen.setdefault(rel.stem, rel)
    return list(seen.items())


def task_of_symbol(course: Course) -> dict[str, str]:
    return {s: t.id for t in course.tasks for s in t.symbols}


def answer_symbols(course: Course, framework: str) -> set[str]:
    """The definitions students write: every task symbol (a top-level function or class)."""
    return {s for t in course.tasks for s in t.symbols}


def notebook_cells(course: Course, framework: str, root: Path) -> list[Cell]:
    """The cells of a track's notebook, from the modules under ``root`` (the solutions)."""
    tasks = task_of_symbol(course)
    names = answer_symbols(course, framework)
    split = {module: split_module((root / rel).read_text(encoding="utf-8"), answer_names=names)
             for module, rel in module_order(course, framework)}
    remaining: dict[str, int] = {}  # task -> answer cells still to come
    for module, chunks in split.items():
        for chunk in chunks:
            if chunk.kind == "given" and (BEGIN in chunk.text or END in chunk.text):
                raise CourseError(f"{module}.py has a solution region outside the definitions the tasks "
                                  f"list in their symbols", path=course.path,
                                  fix="add the function or class to its task's symbols")
            if chunk.kind == "answer":
                remaining[tasks[chunk.name]] = remaining.get(tasks[chunk.name], 0) + 1
    cells: list[Cell] = []
    started: set[str] = set()
    for module, chunks in split.items():
        for i, chunk in enumerate(chunks):
            if chunk.kind == "docstring":
                cells.append(Cell("markdown", f"## `{module}`\n\n" + markdown_from_docstring(chunk.text),
                                  module=module))
            elif chunk.kind == "given":
                cells.append(Cell("given", for_notebook(chunk.text), module=module, grade_id=f"{module}-given-{i}"))
            else:
                task = course.task(tasks[chunk.name])
                if task.id not in started:
                    started.add(task.id)
                    names_md = ", ".join(f"`{s}`" for s in task.symbols)
                    text = render("notebook/task.md", task=task.id, title=task.title, points=f"{task.points:g}",
                                  idea=task.idea, symbols=names_md).removesuffix("\n")
                    cells.append(Cell("markdown", text, module=module, task=task.id))
                cells.append(Cell("answer", chunk.text, module=module, symbol=chunk.name, task=task.id,
                                  grade_id=f"{module}-{chunk.name}"))
                remaining[task.id] -= 1
                if remaining[task.id] == 0:
                    cells.append(Cell("tests", tests_cell(task, framework), module=module,
                                      task=task.id, grade_id=f"tests-{task.id}"))
                    if task.id in TASK_PLOTS:
                        cells.append(Cell("plot", plot_cell(task, framework), module=module,
                                          task=task.id, grade_id=f"plot-{task.id}"))
    return cells


def notebook_answers(course: Course, framework: str, path: Path) -> dict[str, str]:
    """The answer definitions of a notebook file: for each, the last code cell defining it."""


    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = [(c.get("id", ""), "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                 for c in data["cells"] if c.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CourseError(f"is not a readable notebook ({exc})", path=path,
                          fix="save it from Jupyter, or restore it from the release") from None
    names = answer_symbols(course, framework)
    answers = answers_from_history(names, [source for _, source in cells])
    # The answer cell itself (its id is <module>-<symbol>) wins over a scratch cell, as in nbgrader.
    by_id = {cell_id.split("-", 1)[1]: source for cell_id, source in cells
             if "-" in cell_id and cell_id.split("-", 1)[1] in names}
    answers.update({name: source for name, source in by_id.items() if name in answers_from_history({name}, [source])})
    return answers


def write_track(course: Course, framework: str, answers: dict[str, str], dest: Path) -> Path:
    """A submission folder like ``assignments/``: the track's trusted stubs with the
    given answer definitions (by symbol) put in. Returns ``dest``."""

    dest = Path(dest)
    for package in sorted(course.package_dirs(framework)):
        shutil.copytree(course.assignments / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    assembled: dict[str, str] = {}
    for module, rel in module_order(course, framework):
        base = (course.assignments / rel).read_text(encoding="utf-8")
        defined = {c.name for c in split_module(base, answer_names=set(answers)) if c.kind == "answer"}
        text = assemble_module(base, {n: answers[n] for n in defined}, earlier=assembled)
        (dest / rel).write_text(text, encoding="utf-8")
        try:
            top_level_names(text)
            assembled[module] = text
        except SyntaxError:
            pass  # this module does not compile: its tests say so; later modules import what they can
    return dest


HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def tests_cell(task, framework: str) -> str:
    """A task's tests cell: its public checks, then the hidden ones inside nbgrader's
    hidden-tests region (``HIDDEN_BEGIN`` ... ``HIDDEN_END``)."""
    return render("notebook/tests-cell.py", task=task.id, points=f"{task.points:g}",
                  framework=framework).removesuffix("\n")


def plot_cell(task, framework: str) -> str:
    """A task's plot cell: ``plot(task)`` draws :data:`~coursepack.plots.TASK_PLOTS`'s picture
    of it inline. Not graded: nbgrader sees a locked cell without points."""
    return render("notebook/plot-cell.py", task=task.id, kind=TASK_PLOTS[task.id][0],
                  framework=framework).removesuffix("\n")


def checks_requested(source: str) -> tuple[str | None, bool]:
    """(task, hidden tests included?) of a tests cell's source."""
    match = re.search(r'check\("([^"]+)"', source)
    return (match.group(1) if match else None), "hidden=True" in source


def definitions_only(source: str) -> str:
    """The definitions of an answer cell (imports, functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source  # graded as written: the judge reports the syntax error
    lines = source.splitlines()
    keep = (ast.Import, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    parts = []
    for node in tree.body:
        if isinstance(node, keep) or (isinstance(node, ast.ImportFrom) and not node.level):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            parts.append("\n".join(lines[first - 1:node.end_lineno]))
    return "\n\n\n".join(parts)


def assemble_module(base: str, answers: dict[str, str], earlier: dict[str, str] | None = None) -> str:
    """``base`` (a trusted module) with each answer definition replaced by ``answers[name]``.

    ``earlier`` maps the track's modules that come before this one in the notebook to
    their text; a notebook shares one namespace, so their top-level names are imported
    here too (the module's own definitions still win)."""
    chunks = split_module(base, answer_names=set(answers))
    lines = base.splitlines()
    out: list[str] = []
    cursor = 0
    for chunk in chunks:
        if chunk.kind != "answer":
            continue
        out += lines[cursor:chunk.start - 1]
        out += definitions_only(answers[chunk.name]).splitlines()
        cursor = chunk.end
    out += lines[cursor:]
    text = "\n".join(out) + "\n"
    imports = "".join(f"from .{m} import {', '.join(names)}  # one namespace, as in the notebook\n"
                      for m, names in ((m, top_level_names(t)) for m, t in (earlier or {}).items()) if names)
    return _insert_after_imports(text, imports) if imports else text


def top_level_names(text: str) -> list[str]:
    """Names a module binds at top level (definitions, assignments, imports)."""
    names: list[str] = []
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom)
                                                                     and node.module == "__future__"):
            names += [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    return sorted({n for n in names if not n.startswith("__")})


def _insert_after_imports(text: str, addition: str) -> str:
    """Insert ``addition`` after the module docstring and imports (so later definitions win)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text  # the module cannot be imported anyway; its tests report the error
    after = 0
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant)
        if is_doc or isinstance(node, (ast.Import, ast.ImportFrom)):
            after = node.end_lineno
            continue
        break
    lines = text.splitlines(keepends=True)
    return "".join(lines[:after]) + addition + "".join(lines[after:])


# -- notebooks as JSON (nbformat 4) ----------------------------------------------------------

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
TRACK_NAMES = {"torch": "PyTorch", "tf": "TensorFlow/Keras"}


def notebook_name(course: Course, framework: str) -> str:
    """A track's notebook, without ``.ipynb``: ``<assignment>_<framework>`` (the release's
    ``notebooks/`` and nbgrader's ``source/`` alike; the judge reads the track from it)."""
    return f"{course.nbgrader.assignment}_{framework}"


def notebook_json(course: Course, framework: str, root: Path, *, for_nbgrader: bool) -> dict:
    """A track's notebook from the modules under ``root``.

    ``for_nbgrader``: the instructor's source notebook (``root`` = the solutions), with
    nbgrader's cell metadata and the hidden-tests regions. Otherwise a plain notebook for
    the student release (``root`` = the stubs), public checks only."""
    ideas = "\n".join(f"* **{t.title}** (`{t.id}`, {t.points:g} points): {t.idea}" for t in course.tasks)
    cells = [_markdown(render("notebook/intro.md", title=course.title, track=TRACK_NAMES[framework],
                                    summary=course.lesson.summary, ideas=ideas)),
             _code(render("notebook/setup-cell.py").removesuffix("\n"), "setup", "given", for_nbgrader)]
    for cell in notebook_cells(course, framework, root):
        if cell.kind == "markdown":
            cells.append(_markdown(cell.source))
            continue
        source = cell.source
        if cell.kind == "tests" and not for_nbgrader:
            source = source.split(HIDDEN_BEGIN)[0].rstrip("\n")
        points = course.task(cell.task).points if cell.kind == "tests" else None
        cells.append(_code(source, cell.grade_id, cell.kind, for_nbgrader, points))
    return {"cells": cells, "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "id": _cell_id(text), "metadata": {}, "source": _lines(text)}


def _code(source: str, grade_id: str, kind: str, for_nbgrader: bool, points=None) -> dict:
    metadata = {}
    if for_nbgrader:
        meta = {"grade": kind == "tests", "grade_id": grade_id, "locked": kind != "answer", "schema_version": 3,
                "solution": kind == "answer"}
        if points is not None:
            meta["points"] = points
        metadata["nbgrader"] = meta
    return {"cell_type": "code", "id": grade_id[:64], "metadata": metadata, "execution_count": None, "outputs": [],
            "source": _lines(source)}


def _cell_id(text: str) -> str:

    return "md-" + hashlib.sha256(text.encode()).hexdigest()[:12]

def answers_from_history(names: set[str], history: list[str]) -> dict[str, str]:
    """For each name, the source of the last run cell that defines it at top level."""
    found: dict[str, str] = {}
    for source in history:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            for name in names:  # a cell that does not parse still counts as the latest attempt
                if f"def {name}(" in source or f"class {name}" in source:
                    found[name] = source
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
                found[node.name] = source
    return found

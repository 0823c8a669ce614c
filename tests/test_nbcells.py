"""Modules -> notebook cells -> modules: the round trip the nbgrader course relies on."""

from __future__ import annotations

import ast
import base64
import copy
import json

import pytest

from coursepack.notebooks.cells import (answer_symbols, answers_from_history, assemble_module, checks_requested,
                                        definitions_only, module_order, notebook_cells, split_module)


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_answer_cells_put_back_into_the_stubs_give_the_solutions(course, framework):
    names = answer_symbols(course, framework)
    for module, rel in module_order(course, framework):
        solution = (course.solutions / rel).read_text()
        answers = {c.name: c.text for c in split_module(solution, answer_names=names) if c.kind == "answer"}
        rebuilt = assemble_module((course.assignments / rel).read_text(), answers)
        assert ast.dump(ast.parse(rebuilt)) == ast.dump(ast.parse(solution)), module


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_notebook_layout(course, framework):
    cells = notebook_cells(course, framework, course.solutions)
    answers = [c for c in cells if c.kind == "answer"]
    assert {c.symbol for c in answers} == answer_symbols(course, framework)
    tests = [c for c in cells if c.kind == "tests"]
    assert [c.task for c in tests] == [t.id for t in sorted(course.tasks, key=lambda t: [c.task for c in answers].index(t.id))]
    for cell in cells:  # every solution region is closed inside its own cell
        assert cell.source.count("### BEGIN SOLUTION") == cell.source.count("### END SOLUTION")
        if cell.kind != "answer":
            assert "### BEGIN SOLUTION" not in cell.source
    given = "\n".join(c.source for c in cells if c.kind == "given")
    assert "\nfrom ." not in given  # the notebook is one namespace: no relative imports run
    for test in tests:
        assert checks_requested(test.source) == (test.task, True)
        last_answer = max(i for i, c in enumerate(cells) if c.kind == "answer" and c.task == test.task)
        assert cells.index(test) > last_answer


def test_only_definitions_of_an_answer_cell_count():
    source = "import math\nprint('debugging')\n\ndef f(x):\n    return math.sqrt(x)\n\nf(4)\nfor i in range(3):\n    pass\n"
    kept = definitions_only(source)
    assert "import math" in kept and "def f(x):" in kept
    assert "print(" not in kept and "f(4)" not in kept and "for i" not in kept
    assert definitions_only("def broken(:\n") == "def broken(:\n"  # graded as written


def test_later_modules_see_earlier_names_as_in_the_notebook(course):
    base = (course.assignments / "course_torch/multihead.py").read_text()
    earlier = {"attention": "def helper():\n    return 1\n\nclass AdditiveAttention:\n    pass\n"}
    text = assemble_module(base, {}, earlier)
    assert "from .attention import AdditiveAttention, helper" in text
    assert text.index("from .attention import AdditiveAttention, helper") < text.index("class MultiHeadAttention")


def test_answers_are_the_last_run_definition():
    history = ["", "def f():\n    return 1\n", "x = f()", "def f():\n    return 2\n", "class G(:\n"]
    found = answers_from_history({"f", "G", "h"}, history)
    assert found["f"] == "def f():\n    return 2\n"
    assert found["G"] == "class G(:\n"  # an attempt that does not parse still counts
    assert "h" not in found


def test_the_notebook_intro_is_the_lessons(course_copy):
    """What the lesson builds is course data ([lesson] summary), not the package's."""
    from coursepack.course.config import load_course
    from coursepack.notebooks.cells import notebook_json

    path = course_copy / "course.toml"
    text = path.read_text()
    start = text.index('summary = """')
    end = text.index('"""', start + len('summary = """')) + 3
    path.write_text(text[:start] + 'summary = "Convolutions slide one small filter over the image."' + text[end:])
    course = load_course(path)
    intro = "".join(notebook_json(course, "torch", course.solutions, for_nbgrader=False)["cells"][0]["source"])
    paragraph = intro.split("\n\n")[1]
    assert paragraph == ("This notebook is the PyTorch track of the assignment. Convolutions slide one small filter "
                         "over the image. You will write each piece in\nturn:")


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_a_plot_cell_follows_the_tests_of_each_task_with_a_picture(course, framework):
    from coursepack.notebooks.cells import notebook_json
    from coursepack.plots import TASK_PLOTS

    cells = notebook_cells(course, framework, course.solutions)
    plots = [c for c in cells if c.kind == "plot"]
    assert {c.task for c in plots} == set(TASK_PLOTS) and len(plots) == len(TASK_PLOTS)
    for cell in plots:
        before = cells[cells.index(cell) - 1]
        assert (before.kind, before.task) == ("tests", cell.task)
        assert f'plot("{cell.task}", framework="{framework}")' in cell.source
        assert "check(" not in cell.source  # never a test cell in disguise
    for for_nbgrader in (True, False):
        nb = notebook_json(course, framework, course.solutions if for_nbgrader else course.assignments,
                           for_nbgrader=for_nbgrader)
        shown = [c for c in nb["cells"] if c["id"].startswith("plot-")]
        assert [c["id"] for c in shown] == [c.grade_id for c in plots]
        setup = "".join(nb["cells"][1]["source"])
        assert "from coursepack.notebooks.plot import plot" in setup
        if for_nbgrader:  # a locked cell without points: nbgrader neither grades it nor lets it be edited
            for cell in shown:
                meta = cell["metadata"]["nbgrader"]
                assert (meta["grade"], meta["solution"], meta["locked"]) == (False, False, True)
                assert "points" not in meta
        else:
            assert all("nbgrader" not in c["metadata"] for c in shown)


def test_plot_cell_draws_inline_from_the_students_definitions(course, tmp_path, monkeypatch):
    """The sinusoidal plot cell of the release notebook, run in a real kernel: before any answer
    cell it says in one line that the task is not written yet; after the reference answers it
    shows a PNG. The student's code ran in the judge: no answer cell defines anything the plot
    reads from this kernel."""
    import nbformat
    from nbclient import NotebookClient

    from coursepack.notebooks.cells import notebook_json

    nb = nbformat.reads(json.dumps(notebook_json(course, "torch", course.solutions, for_nbgrader=False)),
                        as_version=4)
    cells = nb.cells
    end = next(i for i, c in enumerate(cells) if c.get("id") == "plot-sinusoidal")
    setup, plot_cell = cells[1], cells[end]
    answers = [c for c in cells[2:end] if c.cell_type == "code" and not c["id"].startswith(("tests-", "plot-"))]
    # Which workers the kernel started: the plots share one warm worker, which a check then uses.
    probe = nbformat.v4.new_code_cell("from coursepack.notebooks.check import KERNEL_WORKERS\n"
                                      "print([(fw, w.starts) for pool in KERNEL_WORKERS.values()\n"
                                      "       for fw, w in pool.items()])")
    check_cell = nbformat.v4.new_code_cell('check("sinusoidal")')
    nb.cells = [setup, copy.deepcopy(plot_cell), *answers, plot_cell, probe, check_cell, copy.deepcopy(probe)]
    nb.cells[1]["id"] = "plot-before"
    monkeypatch.setenv("COURSE_TOML", str(course.path))
    # The isolation of a grader without root, where a worker is never reused for another
    # submission folder: the kernel's one folder keeps it warm all the same.
    monkeypatch.setenv("COURSE_ISOLATION", "process")
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    before, after = nb.cells[1], nb.cells[-4]
    started = ["".join(o.get("text", "") for o in nb.cells[i].outputs) for i in (-3, -1)]
    assert started == ["[('torch', 1)]\n"] * 2, started
    assert "PASS" in "".join(o.get("text", "") for o in nb.cells[-2].outputs)
    for cell in (before, after):
        assert [o for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"] == []
    text = "".join(o.get("text", "") for o in before.outputs)
    assert "not implemented yet" in text and "sinusoidal" in text and text.count("\n") == 1, text
    assert not any("image/png" in o.get("data", {}) for o in before.outputs)
    images = [o for o in after.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
    assert base64.b64decode(images[0]["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    said = "".join(o.get("text", "") for o in after.outputs)
    # The table alone: no MiniBert is pretrained for the learned positions at this task.
    assert "similarity falls with distance" in said and "learned positions come after pretraining" in said, said

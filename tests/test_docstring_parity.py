"""The torch and tf docstrings say the same thing wherever the framework does not matter.

The docstring is the contract, and one test specification grades both tracks, so the two
tracks' docstrings of a module, and of every task symbol of course.toml, must agree.
They are compared paragraph by paragraph (paragraphs are separated by blank lines)
after this normalisation, and must then be equal:

1. A paragraph that opens with a track label, ``PyTorch:``, ``TensorFlow:``, ``Keras:``
   or ``Hint:``, is that track's own (how to do it with its API) and is left out.
2. In the rest, every inline literal (a ````code```` span) becomes one placeholder:
   literals are where a track spells things in its own API (``nn.Linear(d, d)`` vs
   ``keras.layers.Dense(d)``); the words around them must be the same.
3. The words that name the framework or its building blocks are unified: PyTorch,
   TensorFlow, TensorFlow/Keras and Keras; module and layer; the weight attributes
   ``.weight``, ``.kernel`` and ``.embeddings``; the track packages ``course_torch`` and
   ``course_tf``.
4. Whitespace is collapsed (line breaks differ with the wording of the literals).

So a framework-specific remark goes in its own labelled paragraph; everything else,
the shapes, the conventions the numbers depend on, the attribute names, is written once
and kept identical in both tracks.
"""

from __future__ import annotations

import ast
import difflib
import re

import pytest

LABELS = ("PyTorch:", "TensorFlow:", "Keras:", "Hint:")
_LITERAL = re.compile(r"``[^`]+``")
_WORDS = [
    (re.compile(r"\bTensorFlow/Keras\b|\bPyTorch\b|\bTensorFlow\b|\bKeras\b"), "FRAMEWORK"),
    (re.compile(r"\b(?:module|layer)(s?)\b"), r"LAYER\1"),
    (re.compile(r"\.(?:weight|kernel|embeddings)\b"), ".WEIGHTS"),
    (re.compile(r"\bcourse_(?:torch|tf)\b"), "course_TRACK"),
]


def neutral(doc: str | None) -> list[str]:
    """The framework-neutral paragraphs of a docstring, normalised (rules 1-4 above)."""
    paragraphs = re.split(r"\n\s*\n", doc or "")
    kept = []
    for paragraph in paragraphs:
        text = paragraph.strip()
        if not text or text.startswith(LABELS):
            continue
        text = _LITERAL.sub("``…``", text)
        for pattern, repl in _WORDS:
            text = pattern.sub(repl, text)
        kept.append(" ".join(text.split()))
    return kept


def docstrings(path) -> dict[str, str | None]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {"<module>": ast.get_docstring(tree)}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = ast.get_docstring(node)
    return found


def drift(torch_doc: str | None, tf_doc: str | None) -> str:
    """A readable diff of the neutral parts; empty when they agree."""
    a, b = neutral(torch_doc), neutral(tf_doc)
    return "" if a == b else "\n".join(difflib.unified_diff(a, b, "torch", "tf", lineterm="", n=0))


def pairs(course):
    """(label, torch docstring, tf docstring) for every module and every task symbol."""
    out = []
    modules = {}
    for task in course.tasks:
        modules.setdefault(task.files["torch"], (task.files["tf"], []))[1].extend(task.symbols)
    modules["course_torch/__init__.py"] = ("course_tf/__init__.py", [])
    for torch_rel, (tf_rel, symbols) in modules.items():
        a = docstrings(course.solutions / torch_rel)
        b = docstrings(course.solutions / tf_rel)
        for name in ["<module>", *symbols]:
            out.append((f"{torch_rel.split('/')[-1]} {name}", a.get(name), b.get(name)))
    return out


def test_torch_and_tf_docstrings_agree_outside_track_paragraphs(course):
    problems = [f"{label}:\n{diff}" for label, a, b in pairs(course) if (diff := drift(a, b))]
    assert not problems, "\n\n".join(problems)


def test_every_task_symbol_and_module_has_a_docstring_in_both_tracks(course):
    missing = [label for label, a, b in pairs(course) if not (a and b)]
    assert missing == []


def test_the_rule_sees_a_drift_but_not_a_track_paragraph(course):
    label, torch_doc, tf_doc = next(p for p in pairs(course) if p[0] == "attention.py masked_softmax")
    assert drift(torch_doc, tf_doc) == ""
    assert "True" in torch_doc
    drifted = tf_doc.replace("True", "False", 1)       # e.g. the mask convention flipped in one track
    assert drift(torch_doc, drifted) != ""
    assert drift(torch_doc, tf_doc + "\n\nKeras: a remark only this track needs.") == ""
    assert drift(torch_doc, tf_doc + "\n\nA remark only this track has.") != ""
    assert drift(torch_doc, tf_doc.replace("``scores``", "``tf_scores``")) == ""  # literals are the track's own
    assert drift(torch_doc, tf_doc.replace("all zeros", "all NaN")) != ""  # the words are not


@pytest.mark.parametrize("old, new", [("``nn.Linear(d, d)``", "``keras.layers.Dense(d)``"),
                                      ("a PyTorch module", "a Keras layer"),
                                      ("rows of ``w.weight``", "rows of ``w.kernel``")])
def test_framework_spellings_are_neutral(old, new):
    assert neutral(f"Uses {old}.") == neutral(f"Uses {new}.")

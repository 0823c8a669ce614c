"""The package's templates: every document it writes that is not data, as a plain file.

A template is a file under ``templates/``, in a folder named after what consumes it
(``gradescope/``, ``github/``, ``student/``, ``release/``, ``nbgrader/``,
``notebook/``, ...), so that shellcheck, actionlint or a Markdown viewer can read it
as it is. ``@@name@@`` marks a value filled in by :func:`render`, which refuses to
leave one unfilled or to fill one that is not there. (The HTML report is the one
Jinja2 template, ``plots/report.html.j2``: it loops and escapes.)
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")


def template_path(name: str) -> Path:
    return TEMPLATES / name


def placeholders(name: str) -> set[str]:
    """The ``@@key@@`` names the template ``name`` asks for."""
    return set(_PLACEHOLDER.findall(template_path(name).read_text(encoding="utf-8")))


def render(template: str, /, **values: str) -> str:
    """The template ``template`` with every ``@@key@@`` replaced by ``values[key]`` (any
    key, ``name`` and ``template`` included)."""
    text = template_path(template).read_text(encoding="utf-8")
    wanted = set(_PLACEHOLDER.findall(text))
    if wanted != set(values):
        raise ValueError(f"template {template}: placeholders {sorted(wanted)}, values given {sorted(values)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

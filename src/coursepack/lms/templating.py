"""The shell, YAML and Markdown templates CI platforms run, as package data files.

A template is a plain file under ``templates/`` (so shellcheck and actionlint can read
it); ``@@name@@`` marks a value filled in by :func:`render`, which refuses to leave one
unfilled or to fill one that is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")


def template_path(name: str) -> Path:
    return TEMPLATES / name


def render(name: str, **values: str) -> str:
    """The template ``name`` with every ``@@key@@`` replaced by ``values[key]``."""
    text = template_path(name).read_text(encoding="utf-8")
    wanted = set(_PLACEHOLDER.findall(text))
    if wanted != set(values):
        raise ValueError(f"template {name}: placeholders {sorted(wanted)}, values given {sorted(values)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

"""Write subscript markup the way a plain-text page can show it: with Unicode subscripts.

The banks write subscripts as TeX-like markup, ``y_t``, ``h_1`` or ``α_{t,i}``. The
curriculum's quiz app shows text exactly as written, so an export turns each subscript
into Unicode subscript characters::

    >>> to_unicode("α_{t,i} weighs h_i for y_t")
    'αₜ,ᵢ weighs hᵢ for yₜ'

Unicode has subscripts only for digits, a few signs and some lower-case letters (no
``d``, no ``b``, no capitals), so ``d_model`` cannot be written this way: such markup
is left as it is and :func:`leftover_markup` names it, so that the question can be
given a wording in words instead (see ``[questions.app]`` in :mod:`coursepack.quiz.bank`).
"""

from __future__ import annotations

import re

SUBSCRIPT = dict(zip("0123456789+-−=()aehijklmnoprstuvx",
                     "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
SUBSCRIPT[","] = ","   # no subscript comma exists; a plain one reads well between subscripts

# x_{...} or x_c where c is one character not followed by another letter or digit
# (``d_model`` is a word in a subscript, not ``d_m`` followed by "odel").
_MARKUP = re.compile(r"_\{([^{}]*)\}|_([0-9A-Za-z])(?![0-9A-Za-z])")
_LEFTOVER = re.compile(r"\S*[_{}]\S*")


def to_unicode(text: str) -> str:
    """``text`` with every subscript that Unicode can write turned into subscript characters."""
    def replace(match: re.Match) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        if inner and all(ch in SUBSCRIPT for ch in inner):
            return "".join(SUBSCRIPT[ch] for ch in inner)
        return match.group(0)
    return _MARKUP.sub(replace, text)


def leftover_markup(text: str) -> list[str]:
    """The words of ``text`` that still hold ``_``, ``{`` or ``}`` (markup a page shows raw)."""
    return [word.rstrip(".,;:?!)）？，。") for word in _LEFTOVER.findall(text)]

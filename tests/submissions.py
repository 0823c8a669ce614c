"""Build throw-away submissions (copies of the solutions or the stubs, edited) for tests."""

from __future__ import annotations

import shutil
from pathlib import Path


def make_submission(course, dest: Path, base: str = "solutions", framework: str = "torch") -> Path:
    """Copy one track of ``solutions`` or ``assignments`` into ``dest``."""
    source = course.solutions if base == "solutions" else course.assignments
    dest.mkdir(parents=True, exist_ok=True)
    package = f"course_{framework}"
    shutil.copytree(source / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(source / "toylang.py", dest / "toylang.py")
    return dest


def edit(path: Path, old: str, new: str) -> None:
    """Replace every occurrence of ``old``; fail loudly when the solution changed under us."""
    text = path.read_text()
    assert old in text, f"{path.name}: the text to mutate was not found: {old!r}"
    path.write_text(text.replace(old, new))


# Kinds of submission of a class (PyTorch track): name -> (base, edits (file, old, new)).
KINDS = {
    "correct": ("solutions", []),
    "stub": ("assignments", []),
    "no-scale": ("solutions", [("attention.py", "scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)",
                                "scores = query @ key.transpose(-2, -1)")]),
    "heads-split": ("solutions", [("multihead.py",
                                   "return x.view(batch, length, self.num_heads, self.d_head).transpose(1, 2)",
                                   "return x.reshape(batch, self.num_heads, length, self.d_head)")]),
    "syntax-error": ("solutions", [("multihead.py", "class MultiHeadAttention", "class MultiHeadAttention(:")]),
    "exit-at-import": ("solutions", [("multihead.py", "class MultiHeadAttention",
                                      "import os\nos._exit(0)\n\n\nclass MultiHeadAttention")]),
    "endless-loop": ("solutions", [("attention.py", "        scores = self.v(torch.tanh(",
                                    "        while True:\n            pass\n        scores = self.v(torch.tanh(")]),
}


def make_kind(course, dest: Path, kind: str) -> Path:
    """A submission folder of one of :data:`KINDS`."""
    base, edits = KINDS[kind]
    sub = make_submission(course, dest, base=base)
    for file, old, new in edits:
        edit(sub / "course_torch" / file, old, new)
    return sub

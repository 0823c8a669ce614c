"""The catalogue of known mistakes: ``autograder/mistakes.toml``, loaded and validated.

Each entry is one mistake students make, written once for both tracks::

    [[mistakes]]
    id = "sdpa-no-scale"              # lower case, digits and dashes; unique
    task = "sdpa"                     # the course.toml task it costs points on
    name = "the scores are not divided by sqrt(d_k)"   # what the student reads
    hint = "Look at the line that computes the scores ..."  # where to look, never the code
    per_track = false                 # true: fingerprinted in every track (see Mistake)
    torch = [{ old = "...", new = "..." }]   # how to make it from the reference solution
    tf = [{ old = "...", new = "..." }]

An edit replaces ``old`` (found exactly once, inside a ``### BEGIN SOLUTION`` region) by
``new`` in the task's file of that track, or in ``file`` (relative to ``solutions/``)
when the mistake lives in a helper of another task's file. The catalogue lives in
``autograder/`` because its edits quote the reference solutions: it must never reach
students. What students may see of it (ids, names, hints) is written by ``course build``
to ``<public tests>/expected/mistakes.json``.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from coursepack.course.stubs import BEGIN, END
from coursepack.course.config import Course
from coursepack.errors import CourseError

FILE_NAME = "mistakes.toml"
PUBLIC_INDEX = "mistakes.json"
_ID = re.compile(r"^[a-z][a-z0-9-]{1,60}$")
_TOP_KEYS = {"mistakes"}
_ENTRY_KEYS = {"id", "task", "name", "hint", "per_track", "torch", "tf"}
_EDIT_KEYS = {"old", "new", "file"}
_MIN_QUOTE = 12  # a hint may not quote this many characters of an edit


@dataclass(frozen=True)
class Edit:
    file: str        # relative to solutions/, e.g. course_torch/attention.py
    old: str
    new: str


@dataclass(frozen=True)
class Mistake:
    id: str
    task: str
    name: str
    hint: str
    edits: dict[str, tuple[Edit, ...]]   # framework -> edits
    # True when the tracks' results differ for this mistake (the track's random generator,
    # a framework's default, an unused Keras layer): fingerprinted in every track, not only PyTorch.
    per_track: bool = False

    def public(self) -> dict:
        """What a student may read of this entry."""
        return {"task": self.task, "name": self.name, "hint": self.hint}


@dataclass(frozen=True)
class Catalogue:
    path: Path
    mistakes: tuple[Mistake, ...]

    def by_id(self, mistake_id: str) -> Mistake:
        for m in self.mistakes:
            if m.id == mistake_id:
                return m
        raise KeyError(mistake_id)

    def for_task(self, task: str) -> list[Mistake]:
        return [m for m in self.mistakes if m.task == task]

    def digest_bytes(self) -> bytes:
        return self.path.read_bytes()


def catalogue_path(course: Course) -> Path:
    """``autograder/mistakes.toml``: beside the hidden tests, never released."""
    return course.hidden_tests.parent / FILE_NAME


def load_catalogue(course: Course, path: Path | None = None) -> Catalogue | None:
    """The validated catalogue, or None when the course has none."""
    path = Path(path) if path else catalogue_path(course)
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"is not valid TOML ({exc})", path=path, fix="correct the syntax at that line") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise CourseError(f"unknown top-level key(s) {', '.join(sorted(unknown))}", path=path,
                          fix=f"use only {', '.join(sorted(_TOP_KEYS))}")
    entries = data.get("mistakes", [])
    if not isinstance(entries, list) or not entries:
        raise CourseError("has no [[mistakes]] entries", path=path, fix="add entries or delete the file")
    mistakes: list[Mistake] = []
    seen: set[str] = set()
    for number, raw in enumerate(entries, start=1):
        mistake = _entry(course, path, number, raw, seen)
        seen.add(mistake.id)
        mistakes.append(mistake)
    return Catalogue(path, tuple(mistakes))


def _entry(course: Course, path: Path, number: int, raw: object, seen: set[str]) -> Mistake:
    where = f"entry {number}"
    if not isinstance(raw, dict):
        raise CourseError(f"{where} is not a table", path=path, fix="write each entry as [[mistakes]]")
    if isinstance(raw.get("id"), str):
        where = f"mistake {raw['id']!r}"
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise CourseError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}", path=path,
                          fix=f"use only {', '.join(sorted(_ENTRY_KEYS))}")
    for key in ("id", "task", "name", "hint"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CourseError(f"{where}: {key} is missing or empty", path=path, fix=f"give it a {key} (a string)")
    mistake_id = raw["id"]
    if not _ID.match(mistake_id):
        raise CourseError(f"{where}: the id must be lower case letters, digits and dashes", path=path,
                          fix="rename it, e.g. sdpa-no-scale")
    if mistake_id in seen:
        raise CourseError(f"{where}: the id is used twice", path=path, fix="give each entry its own id")
    if raw["task"] not in {t.id for t in course.tasks}:
        raise CourseError(f"{where}: there is no task {raw['task']!r} in course.toml", path=path,
                          fix=f"use one of: {', '.join(t.id for t in course.tasks)}")
    task = course.task(raw["task"])
    edits: dict[str, tuple[Edit, ...]] = {}
    for fw in course.frameworks:
        listed = raw.get(fw)
        if not isinstance(listed, list) or not listed:
            raise CourseError(f"{where}: no {fw} edits; every mistake is made in every track", path=path,
                              fix=f"add {fw} = [{{ old = \"...\", new = \"...\" }}]")
        items = []
        for i, edit in enumerate(listed, start=1):
            if not isinstance(edit, dict) or set(edit) - _EDIT_KEYS or not isinstance(edit.get("old"), str) \
                    or not isinstance(edit.get("new"), str) or not edit["old"]:
                raise CourseError(f"{where}: {fw} edit {i} must be a table with old, new (and optionally file)",
                                  path=path, fix="write it as { old = \"...\", new = \"...\" }")
            if edit["old"] == edit["new"]:
                raise CourseError(f"{where}: {fw} edit {i} changes nothing", path=path, fix="make new differ from old")
            items.append(Edit(edit.get("file", task.files[fw]), edit["old"], edit["new"]))
        edits[fw] = tuple(items)
    if not isinstance(raw.get("per_track", False), bool):
        raise CourseError(f"{where}: per_track must be true or false", path=path, fix="write per_track = true")
    mistake = Mistake(mistake_id, raw["task"], raw["name"].strip(), raw["hint"].strip(), edits,
                      raw.get("per_track", False))
    _check_hint(path, where, mistake)
    for fw in course.frameworks:
        apply_edits(course, mistake, fw, check_only=True, catalogue=path)
    return mistake


def _check_hint(path: Path, where: str, mistake: Mistake) -> None:
    """A hint says where to look; it never quotes the code of the fix (or of the mistake)."""
    text = " ".join(f"{mistake.name} {mistake.hint}".split())
    for fw, edits in mistake.edits.items():
        for edit in edits:
            for code in (edit.old, edit.new):
                for line in code.splitlines():
                    line = " ".join(line.split())
                    if len(line) >= _MIN_QUOTE and line in text:
                        raise CourseError(f"{where}: the name or hint quotes the {fw} code {line!r}", path=path,
                                          fix="say where to look and what to check, in words")


def _regions(text: str) -> list[tuple[int, int]]:
    """Character spans of the bodies of the solution regions of ``text``."""
    spans, start, offset = [], None, 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            start = offset + len(line)
        elif stripped == END and start is not None:
            spans.append((start, offset))
            start = None
        offset += len(line)
    return spans


def apply_edits(course: Course, mistake: Mistake, framework: str, *, check_only: bool = False,
                catalogue: Path | None = None) -> dict[str, str]:
    """The solution files of ``framework`` that the mistake changes, as edited text (by path
    relative to ``solutions/``); raises :class:`CourseError` naming the entry if an edit
    does not apply."""
    where = f"mistake {mistake.id!r}"
    path = catalogue or catalogue_path(course)
    texts: dict[str, str] = {}
    for i, edit in enumerate(mistake.edits[framework], start=1):
        source = course.solutions / edit.file
        if edit.file not in texts:
            if not source.is_file():
                raise CourseError(f"{where}: {framework} edit {i} names {edit.file}, which is not a solution file",
                                  path=path, fix="give file relative to solutions/, e.g. course_torch/attention.py")
            texts[edit.file] = source.read_text(encoding="utf-8")
        text = texts[edit.file]
        count = text.count(edit.old)
        if count != 1:
            found = "is not found" if count == 0 else f"is found {count} times"
            raise CourseError(
                f"{where}: the {framework} text to replace {found} in solutions/{edit.file}: {edit.old[:80]!r}",
                path=path, fix="copy the text from the current solution (a changed solution needs its "
                               "catalogue entries updated) and quote enough of it to be unique")
        at = text.index(edit.old)
        if not any(start <= at and at + len(edit.old) <= end for start, end in _regions(text)):
            raise CourseError(f"{where}: the {framework} text to replace lies outside the solution regions of "
                              f"solutions/{edit.file}", path=path,
                              fix="make mistakes only in code students write (between the solution markers)")
        texts[edit.file] = text.replace(edit.old, edit.new)
    for rel, text in texts.items():
        try:
            ast.parse(text)
        except SyntaxError as exc:
            raise CourseError(f"{where}: the {framework} edits leave solutions/{rel} unparsable "
                              f"(line {exc.lineno}: {exc.msg})", path=path,
                              fix="check the indentation and brackets of new") from None
    return texts


def make_variant(course: Course, mistake: Mistake, framework: str, dest: Path) -> Path:
    """A submission folder: the reference solutions of ``framework`` with the mistake made."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for package in sorted(course.package_dirs(framework)):
        shutil.copytree(course.solutions / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in course.shared_files:
        shutil.copy2(course.solutions / name, dest / name)
    for rel, text in apply_edits(course, mistake, framework).items():
        (dest / rel).write_text(text, encoding="utf-8")
    return dest


def public_index(catalogue: Catalogue | None) -> bytes:
    """``mistakes.json`` for the public tests folder: id -> task, name, hint (no code)."""
    entries = {} if catalogue is None else {m.id: m.public() for m in catalogue.mistakes}
    return (json.dumps(entries, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")

"""Fingerprints of known mistakes: how they are stored and how a failure is matched.

A fingerprint is what one catalogued mistake returned in one test it fails: the arrays
of every call the test made to the worker, in order. ``course build`` stores them beside
the expected values, one file per test file, ``<tests>/expected/<test file>.mistakes.npz``,
under the key ``<track>/<mistake id>/<test>/<call number>/<output name>``. The track is
``any`` for the usual case (the tracks compute the same numbers, so the PyTorch
recording serves both) and the track's name for tasks whose outputs come from the
track's own random generator.

A fingerprint is kept only when at least one of its arrays differs from what the
reference returned in the same call, so a match never names a mistake for numbers a
correct solution also produces.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

SUFFIX = ".mistakes"
ANY = "any"

Calls = list[dict[str, np.ndarray]]


def file_stem(test_stem: str) -> str:
    return f"{test_stem}{SUFFIX}"


def to_arrays(fingerprints: dict[tuple[str, str, str], Calls]) -> dict[str, np.ndarray]:
    """``{(track, mistake id, test): calls}`` as the flat npz keys."""
    flat = {}
    for (track, mistake_id, test), calls in fingerprints.items():
        for number, outputs in enumerate(calls):
            for name, value in outputs.items():
                flat[f"{track}/{mistake_id}/{test}/{number}/{name}"] = np.asarray(value)
    return flat


def from_arrays(flat: dict[str, np.ndarray]) -> dict[tuple[str, str, str], Calls]:
    out: dict[tuple[str, str, str], dict[int, dict[str, np.ndarray]]] = {}
    for key, value in flat.items():
        track, mistake_id, test, number, name = key.split("/", 4)
        out.setdefault((track, mistake_id, test), {}).setdefault(int(number), {})[name] = value
    return {k: [calls[i] for i in sorted(calls)] for k, calls in out.items()}


CONTRACT = "!contract"  # a call that broke the interface keeps its message under this name
FAILED = "!failed"      # any other failed call keeps only how it failed (never distinctive alone)


def observed(result) -> dict[str, np.ndarray]:
    """What one worker call adds to a fingerprint: its arrays, the interface problem it
    reported (layout and type messages, which name no input), or how it failed."""
    if result.ok:
        return dict(result.outputs)
    if result.failure == "contract":
        return {CONTRACT: np.array(result.message or "")}
    return {FAILED: np.array(result.failure or "failed")}


def differs(got: np.ndarray | None, want: np.ndarray, atol: float, rtol: float) -> bool:
    """True unless ``got`` equals ``want`` within the tolerance (exactly for integers)."""
    if got is None or type(got) is not np.ndarray or got.shape != want.shape or got.dtype != want.dtype:
        return True
    if want.dtype.kind in "fc":
        return not bool(np.isclose(got, want, atol=atol, rtol=rtol, equal_nan=True).all())
    return not np.array_equal(got, want)


def calls_match(got: Calls, recorded: Calls, atol: float, rtol: float) -> bool:
    """The student made the calls the mistake made, and every recorded array matches."""
    if len(got) != len(recorded):
        return False
    return all(not differs(call.get(name), value, atol, rtol)
               for call, outputs in zip(got, recorded) for name, value in outputs.items())


def distinctive(calls: Calls, reference: Calls, atol: float, rtol: float) -> bool:
    """Some array of ``calls`` differs from the reference's in the same call."""
    for number, outputs in enumerate(calls):
        ref = reference[number] if number < len(reference) else {}
        # A crash alone is no fingerprint: code with any bug may crash at the same call.
        if any(name != FAILED and (name not in ref or differs(value, ref[name], atol, rtol))
               for name, value in outputs.items()):
            return True
    return False


class Index:
    """The fingerprints and public names of a course, loaded lazily, for one grading run."""

    def __init__(self, names_file: Path):
        self._names_file = names_file
        self._names: dict[str, dict] | None = None
        self._files: dict[Path, dict[tuple[str, str, str], Calls]] = {}

    @property
    def names(self) -> dict[str, dict]:
        if self._names is None:
            try:
                self._names = json.loads(self._names_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._names = {}  # a course built before the catalogue: nothing to name
        return self._names

    def _load(self, path: Path) -> dict[tuple[str, str, str], Calls]:
        if path not in self._files:
            flat = {}
            if path.is_file():
                with np.load(path, allow_pickle=False) as data:
                    flat = {key: data[key] for key in data.files}
            self._files[path] = from_arrays(flat)
        return self._files[path]

    def match(self, path: Path, task: str, test: str, framework: str, calls: Calls,
              atol: float, rtol: float) -> list[str]:
        """Ids of the task's mistakes whose fingerprint in ``test`` the student's calls match."""
        if not calls:
            return []
        recorded = self._load(path)
        found = []
        for mistake_id, entry in sorted(self.names.items()):
            if entry.get("task") != task:
                continue
            prints = recorded.get((framework, mistake_id, test)) or recorded.get((ANY, mistake_id, test))
            if prints and calls_match(calls, prints, atol, rtol):
                found.append(mistake_id)
        return found

    def describe(self, ids: list[str]) -> str:
        """The sentence a student reads for matched mistakes (never any input or number)."""
        entries = [self.names[i] for i in ids if i in self.names]
        if not entries:
            return ""
        if len(entries) == 1:
            e = entries[0]
            return f"Your result matches what a known mistake gives: {e['name']}. {e['hint']}"
        listed = " ".join(f"({n}) {e['name']}: {e['hint']}" for n, e in enumerate(entries, start=1))
        return f"Your result matches what each of these known mistakes gives: {listed}"


def load_file(path: Path) -> dict[tuple[str, str, str], Calls]:
    if not path.is_file():
        return {}
    with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as data:
        return from_arrays({key: data[key] for key in data.files})

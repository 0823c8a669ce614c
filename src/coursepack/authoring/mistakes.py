"""Recording the fingerprints of the catalogue at build time, and what they show.

:func:`record_fingerprints` makes every catalogued mistake in a copy of the reference
solutions, grades that copy on the mistake's task only (one warm worker per track for
the whole catalogue) and keeps, for every test the mistake fails, the arrays the test
received. Its :class:`Summary` says what the tests make of the catalogue: which
mistakes they catch, which they can name, which only hidden tests catch, and which no
test notices at all (those tests need strengthening).

How the pieces fit: the catalogue of mistakes students really
make is course data (``autograder/mistakes.toml``, read by :mod:`coursepack.course.mistakes`);
this module records each mistake's fingerprint at build time; when a student's test
fails, the judge compares what the student's code returned with the fingerprints of the
task's mistakes (:mod:`coursepack.judge.fingerprints`). A match within the test's
tolerance names the mistake and says where to look. A name is the same whatever the
inputs were, so it is shown for hidden tests too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from coursepack.grading.grader import grade
from coursepack.judge import expected_values
from coursepack.course.config import Course
from coursepack.testing.diagnose import ATOL, RTOL
from coursepack.judge import fingerprints
from coursepack.judge.worker import close_pool
from coursepack.course.mistakes import Catalogue, Mistake, make_variant

TestKey = tuple[str, str, str]  # (visibility, test file stem, test name)


@dataclass
class EntryResult:
    mistake: Mistake
    failed: list[TestKey] = field(default_factory=list)        # tests the mistake fails (recording track)
    named_in: list[TestKey] = field(default_factory=list)      # of those, where its fingerprint is distinctive
    lost: float = 0.0                                         # points lost on its task

    @property
    def caught(self) -> bool:
        return bool(self.failed)

    @property
    def named(self) -> bool:
        return bool(self.named_in)

    @property
    def public(self) -> bool:
        return any(v == "public" for v, _, _ in self.failed)


@dataclass
class Summary:
    entries: list[EntryResult]

    @property
    def undetectable(self) -> list[str]:
        return [e.mistake.id for e in self.entries if not e.caught]

    @property
    def unnamed(self) -> list[str]:
        return [e.mistake.id for e in self.entries if e.caught and not e.named]

    @property
    def hidden_only(self) -> list[str]:
        return [e.mistake.id for e in self.entries if e.caught and not e.public]

    def figures(self) -> dict:
        n = len(self.entries) or 1
        per_task: dict[str, int] = {}
        for e in self.entries:
            per_task[e.mistake.task] = per_task.get(e.mistake.task, 0) + 1
        return {"entries": len(self.entries),
                "caught_pct": 100.0 * sum(e.caught for e in self.entries) / n,
                "named_pct": 100.0 * sum(e.named for e in self.entries) / n,
                "public_pct": 100.0 * sum(e.public for e in self.entries) / n,
                "per_task": per_task}

    def lines(self) -> list[str]:
        f = self.figures()
        out = [f"Known mistakes: {f['entries']} in the catalogue; caught {f['caught_pct']:.0f}%, named "
               f"{f['named_pct']:.0f}%, caught by a public test {f['public_pct']:.0f}%.",
               "  per task: " + ", ".join(f"{task} {count}" for task, count in f["per_task"].items())]
        if self.undetectable:
            out.append("  UNDETECTABLE (no test fails; strengthen the tests rather than drop the entry): "
                       + ", ".join(self.undetectable))
        if self.unnamed:
            out.append("  caught but never named (no failing test sees numbers that differ from the "
                       "reference): " + ", ".join(self.unnamed))
        if self.hidden_only:
            out.append("  caught by hidden tests only: " + ", ".join(self.hidden_only))
        return out


def tracks_for(course: Course, mistake: Mistake) -> list[str]:
    """The tracks a mistake is fingerprinted in: the recording track, or every track when
    the tracks' numbers differ for it (``per_track``)."""
    if mistake.per_track:
        return list(course.frameworks)
    return [expected_values.RECORD_FRAMEWORK]


def record_fingerprints(course: Course, catalogue: Catalogue, *, mistakes: list[Mistake] | None = None,
                        pool: dict | None = None) -> tuple[Summary, dict[tuple[str, str], dict]]:
    """Grade every mistake on its task; return the summary and the fingerprints by
    (visibility, test file stem) as npz-ready dicts."""

    own_pool = pool is None
    pool = {} if own_pool else pool
    selected = list(catalogue.mistakes if mistakes is None else mistakes)
    reference: dict[tuple[str, str], dict] = {}   # (track, task) -> calls by test key
    prints: dict[tuple[str, str], dict] = {}
    results = []
    work = Path(tempfile.mkdtemp(prefix="course-mistakes-"))
    try:
        for mistake in selected:
            entry = EntryResult(mistake)
            for track in tracks_for(course, mistake):
                if (track, mistake.task) not in reference:
                    ref_report, ref_session = grade(course, course.solutions, frameworks=(track,), mode="grade",
                                                    tasks={mistake.task}, pool=pool)
                    reference[(track, mistake.task)] = _calls_by_test(ref_session)
                variant = make_variant(course, mistake, track, work / "class" / mistake.id)
                report, session = grade(course, variant, frameworks=(track,), mode="grade",
                                        tasks={mistake.task}, pool=pool)
                ref_calls = reference[(track, mistake.task)]
                calls = _calls_by_test(session)
                key_track = track if mistake.per_track else fingerprints.ANY
                for test in report.tests:
                    if test.passed:
                        continue
                    key = _result_key(test)
                    if track == expected_values.RECORD_FRAMEWORK:
                        entry.failed.append(key)
                    got = calls.get(key, [])
                    if fingerprints.distinctive(got, ref_calls.get(key, []), ATOL, RTOL):
                        visibility, stem, name = key
                        prints.setdefault((visibility, stem), {})[(key_track, mistake.id, name)] = got
                        if track == expected_values.RECORD_FRAMEWORK:
                            entry.named_in.append(key)
                if track == expected_values.RECORD_FRAMEWORK:
                    summary = next(s for s in report.tasks if s.id == mistake.task)
                    entry.lost = summary.max_score - summary.score
                shutil.rmtree(variant, ignore_errors=True)
            results.append(entry)
    finally:
        if own_pool:
            close_pool(pool)
        shutil.rmtree(work, ignore_errors=True)
    flat = {k: fingerprints.to_arrays(v) for k, v in prints.items()}
    return Summary(results), flat


def _calls_by_test(session) -> dict[TestKey, list]:
    return {(visibility, stem, name): calls for (visibility, stem, name, _fw), calls in session.calls.items()}


def _result_key(test) -> TestKey:
    # TestResult.name is "<file>.py::<test>[<framework>]"
    file_part, _, rest = test.name.partition("::")
    return test.visibility, Path(file_part).stem, rest.split("[", 1)[0]


def meta_text(course: Course, catalogue: Catalogue, test_file: Path) -> str:
    """What the fingerprints of ``test_file`` were recorded from (for ``course build --check``)."""
    h = hashlib.sha256()
    h.update(expected_values.sources_digest(course, test_file).encode())
    h.update(catalogue.digest_bytes())
    for mistake in catalogue.mistakes:  # fingerprinted in every track: their solutions count too
        if mistake.per_track:
            for fw in course.frameworks:
                for edit in mistake.edits[fw]:
                    h.update((course.solutions / edit.file).read_bytes())
    h.update(Path(fingerprints.__file__).read_bytes())  # the format and what counts as distinctive
    return json.dumps({"recorded_from": "solutions with each catalogued mistake made",
                       "sources_sha256": h.hexdigest()}, indent=2) + "\n"

"""JUnit XML as the test-report tools read it (Jenkins, GitLab, test-report actions).

The file validates against the JUnit schema pytest's own tests use (``junit-10.xsd``):
``tests``, ``failures`` and ``errors`` on every suite, one suite per graded track (and
one for the quizzes) named after the course, the submission and the track, with the
time it was written and the host that graded it. A submission that could not be graded
is one test case in error that says why, never an empty, "clean" suite.
"""

from __future__ import annotations

import socket
import time
from pathlib import PurePath
from xml.sax.saxutils import escape, quoteattr

from coursepack.reports.results import Report, TestResult

_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


def _text(text: str) -> str:
    """Student messages may hold characters XML 1.0 forbids: drop them."""
    return str(text).translate(_CONTROL)


def _attr(value) -> str:
    return quoteattr(_text(str(value)))


def submission_name(report: Report) -> str:
    """A short name for the submission: a label (``alice/attention``) as given, a path by
    its last meaningful part, never a long absolute path of the grading machine."""
    name = report.submission
    if "/" in name and (name.startswith("/") or "\\" in name or PurePath(name).is_absolute()):
        path = PurePath(name)
        parts = [p for p in path.parts if p not in ("/", "assignments", "submission")]
        name = parts[-1] if parts else path.name
    return name


def _suite_title(report: Report, track: str) -> str:
    who = report.student or submission_name(report)
    what = "quizzes" if track == "quiz" else f"{track} track"
    return f"{report.course}: {who}: {what}"


def to_junit(report: Report, *, timestamp: str | None = None, hostname: str | None = None) -> str:
    """The report as JUnit XML (one ``testsuite`` per track, quizzes apart)."""
    timestamp = timestamp or time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    hostname = hostname or socket.gethostname()
    tracks: dict[str, list[TestResult]] = {}
    for test in report.tests:
        tracks.setdefault(test.framework, []).append(test)
    properties = [("submission", report.submission), ("student", report.student or ""),
                  ("identity_source", getattr(report, "identity_source", "") or ""),
                  ("isolation", report.isolation), ("score", report.score), ("max_score", report.max_score)]
    suites: list[tuple[str, list[str], int, int, int, float]] = []
    if not report.tests:  # ungradable: one test case in error, with the reason
        reason = " ".join(report.errors) or "nothing was graded"
        case = [f'    <testcase classname={_attr(report.course)} name="submission can be graded" time="0.000">',
                f'      <error type="ungradable" message={_attr(reason[:500])}>{escape(_text(reason))}</error>',
                "    </testcase>"]
        suites.append((f"{report.course}: {report.student or submission_name(report)}: not graded", case, 1, 0, 1, 0.0))
    for track, tests in tracks.items():
        lines, failures = [], 0
        for t in tests:
            attrs = f"classname={_attr(f'{track}.{t.task}')} name={_attr(t.name)} time=\"{t.seconds:.3f}\""
            if t.passed:
                lines.append(f"    <testcase {attrs}/>")
                continue
            failures += 1
            message = _text(t.message or "failed")
            lines += [f"    <testcase {attrs}>",
                      f"      <failure type=\"{'hidden' if t.visibility == 'hidden' else 'public'}\" "
                      f"message={quoteattr(message[:500])}>{escape(message)}</failure>",
                      "    </testcase>"]
        suites.append((_suite_title(report, track), lines, len(tests), failures, 0, sum(t.seconds for t in tests)))
    total_tests = sum(s[2] for s in suites)
    total_failures = sum(s[3] for s in suites)
    total_errors = sum(s[4] for s in suites)
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<testsuites name={_attr(report.course)} tests="{total_tests}" failures="{total_failures}" '
           f'errors="{total_errors}" time="{report.seconds:.3f}">']
    notes = "\n".join(_text(e) for e in report.errors) if report.tests else ""
    for index, (name, cases, tests, failures, errors, seconds) in enumerate(suites):
        out.append(f'  <testsuite name={_attr(name)} tests="{tests}" failures="{failures}" errors="{errors}" '
                   f'skipped="0" time="{seconds:.3f}" timestamp="{timestamp}" hostname={_attr(hostname)} '
                   f'id="{index}">')
        out.append("    <properties>")
        out += [f"      <property name={_attr(k)} value={_attr(v)}/>" for k, v in properties]
        out.append("    </properties>")
        out += cases
        if notes:
            out.append(f"    <system-out>{escape(notes)}</system-out>")
        out.append("  </testsuite>")
    out += ["</testsuites>", ""]
    return "\n".join(out)

"""Feedback that names the mistake (DESIGN.md, invariant 8).

The course keeps a catalogue of mistakes students really make (``autograder/mistakes.toml``,
read by :mod:`coursepack.course.mistakes`). ``course build`` applies each one to a copy of the reference
solutions, grades that copy on the mistake's task and records what every failing test
received from it: the mistake's *fingerprint* (:mod:`.record`). When a student's test
fails, the judge compares what the student's code returned in that test with the
fingerprints of the task's mistakes (:mod:`coursepack.judge.fingerprints`); a match within the test's
tolerance names the mistake and says where to look. A name is the same whatever the
inputs were, so it is shown for hidden tests too.
"""

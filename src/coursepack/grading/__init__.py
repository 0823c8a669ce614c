"""Grading a submission, a class, a student's own progress.

:mod:`.grader` grades one submission (a folder or a zip) with the course's trusted tests
and returns a :class:`~coursepack.reports.results.Report` (with its session); everything else here is built
on it. The judge it drives (:mod:`coursepack.judge`) is in a lower layer; the integrations
that hand it submissions (Gradescope, GitHub Actions, nbgrader) are above.
"""

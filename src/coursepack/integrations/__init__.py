"""Where the course meets other people's tools: CI platforms, nbgrader and gradebooks.

:mod:`.ci` grades one submission per CI job and always writes a result file;
:mod:`.gradescope` and :mod:`.github` make what those platforms run around it;
:mod:`.nbgrader_build` turns the course into an nbgrader course whose autograding calls
back into the judge (:mod:`.nbgrader_judge`); :mod:`.lms` reads rosters and identities and
writes the gradebooks and JUnit files LMSs and CI dashboards import; :mod:`.feedback` writes
a graded class's HTML feedback pages. Everything here is
a thin adapter over :mod:`coursepack.grading`, :mod:`coursepack.notebooks` and
:mod:`coursepack.authoring`.
"""

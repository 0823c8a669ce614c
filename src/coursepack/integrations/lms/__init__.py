"""What CI and an LMS need around a grading: who submitted, JUnit XML, rosters, gradebooks
and loose uploaded files (the CI platforms' scripts and workflows are templates in
:mod:`coursepack.templating`'s folder).

Each module here does one thing and sits above the reports and the grading of one
submission; the CLI and :mod:`coursepack.integrations.ci` call into them.
"""

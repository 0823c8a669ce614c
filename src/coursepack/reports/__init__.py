"""What a grading produced, and every way of showing it.

:mod:`.results` holds the one result model (a :class:`~.results.Report` of
:class:`~.results.TestResult`) and its file formats; :mod:`.render` draws it in the
terminal. Nothing here runs tests: it only reads reports.
"""

"""The instructor's side: everything made from the one source of truth, ``solutions/``.

:mod:`.build` generates the stubs and records the expected values (``course build``);
:mod:`.mistakes` records the fingerprints of the catalogued mistakes on the way;
:mod:`.release` writes the student release, and refuses while the build has drifted.
:mod:`.build` and :mod:`.mistakes` grade the reference solutions (or copies of them)
through :mod:`coursepack.grading`, a lower layer.
"""

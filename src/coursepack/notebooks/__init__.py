"""The course as Jupyter notebooks, and grading from inside them.

:mod:`.cells` is the one mapping between modules and notebook cells: it cuts a track's
modules into given code and answer cells (for the student release and for nbgrader's
source notebooks) and puts a notebook's answers back into a copy of the track's stubs.
:mod:`.check` is what a notebook calls: ``check("sdpa")`` grades the answers run so far
through the same judge as ``course check``; :mod:`.plot` draws a task's picture inline
(``plot("additive")``) from the same answers, run in the same judge, never graded.
:mod:`.submit` is ``course submit``: the zip a student hands in, from the track folder or
from a notebook's answer cells.
"""

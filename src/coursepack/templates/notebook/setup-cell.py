# Run this cell first. `check(task)` runs the tests of a task in the course's judge;
# `plot(task)` draws what your code of that task computes (never graded).
# If the import fails, install the course package into this kernel's Python
# (`pip install ./course` beside an nbgrader release, `pip install -e .` in a course folder).
from coursepack.notebooks.check import check
from coursepack.notebooks.plot import plot

"""The course as data: ``course.toml`` read and checked (:mod:`.config`), and the solution
markers that turn a reference file into a student's stub (:mod:`.stubs`).

The bottom layer of the package: everything else reads the course through it, and it
imports nothing of the package but :mod:`coursepack.errors`.
"""

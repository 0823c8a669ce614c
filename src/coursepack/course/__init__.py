"""The course as data: ``course.toml`` read and checked (:mod:`.config`), the catalogue of
known mistakes (:mod:`.mistakes`), and the solution markers that turn a reference file
into a student's stub (:mod:`.stubs`).

The lowest subpackage: everything else reads the course through it, and it imports
nothing of the package but :mod:`coursepack.errors`.
"""

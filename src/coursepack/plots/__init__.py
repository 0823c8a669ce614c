"""See your model: plots drawn from the arrays the student's own code computes.

``course plot KIND`` runs the student's modules in the sandboxed worker (as grading
does), gets plain arrays back and draws them here: :mod:`.data` asks the worker,
:mod:`.figures` draws PNG files, :mod:`.terminal` draws a heat map in the terminal,
:mod:`.report` writes the HTML page of ``course report``. Nothing here changes a grade.
"""

KINDS = ("alignment", "attention", "positional", "pretraining")  # `course plot KIND` (and `all`)

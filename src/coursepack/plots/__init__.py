"""See your model: plots drawn from the arrays the student's own code computes.

``course plot KIND`` runs the student's modules in the sandboxed worker (as grading
does), gets plain arrays back and draws them here: :mod:`.data` asks the worker,
:mod:`.figures` draws PNG files, :mod:`.terminal` draws a heat map in the terminal,
:mod:`.report` writes the HTML page of ``course report``. Nothing here changes a grade.
"""

KINDS = ("alignment", "attention", "positional", "pretraining")  # `course plot KIND` (and `all`)

# The picture a task's notebook cell draws, and whose weights it uses: (kind, checkpoint);
# "none" draws only what needs no trained weights (the sinusoidal table, not the learned one).
# A task gets the first plot its own code makes possible. The attention maps need a whole
# MiniBert, so they follow mini_bert (with the course's trained weights in the student's
# model), not sdpa or multihead, whose cells would only say "needs task mini_bert first".
# A task without a fitting picture (the masks, the encoder block, ...) has no plot cell.
TASK_PLOTS = {"additive": ("alignment", "student"), "sinusoidal": ("positional", "none"),
              "mini_bert": ("attention", "reference"), "pretraining": ("pretraining", "student")}

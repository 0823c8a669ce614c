# See it (not graded): the @@kind@@ plot, drawn from your definitions above. As in the
# test cell, your code runs in the course's judge, a separate sandboxed process; only the
# numbers come back, and the picture is drawn here. `course plot @@kind@@` draws it too.
plot("@@task@@", framework="@@framework@@")

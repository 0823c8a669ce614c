"""The one exception type a user sees.

Every mistake a student, an instructor or a CI job can make (a malformed
``course.toml``, a submission missing a file, an unknown task id) is raised as a
:class:`CourseError` whose message names the file, the problem and the fix. The CLI
prints the message as a paragraph and exits with status 2, never a traceback.
"""

from __future__ import annotations


class CourseError(Exception):
    """A user-facing error: ``str(error)`` is the whole explanation."""

    def __init__(self, message: str, *, path: object | None = None, fix: str | None = None):
        parts = []
        if path is not None:
            parts.append(f"{path}:")
        parts.append(message.rstrip("."))
        text = " ".join(parts) + "."
        if fix:
            text += f" Fix: {fix.rstrip('.')}."
        super().__init__(text)

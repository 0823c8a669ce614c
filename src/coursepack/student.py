"""Who is working here: the student's id and language, from what they said or their setup.

The id draws a student's quiz questions and is written into their submission, so
``course quiz`` and ``course submit`` must agree on it: both ask :func:`student_id`.
"""

from __future__ import annotations

import getpass
import locale
import os
import subprocess


def student_id(given: str | None = None) -> str:
    """``given``, else ``COURSE_STUDENT``, else git's ``user.email``, else the login name."""
    if given:
        return given
    if os.environ.get("COURSE_STUDENT"):
        return os.environ["COURSE_STUDENT"]
    try:
        email = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        email = ""
    return email or getpass.getuser()


def default_lang() -> str:
    """``zh`` when the locale is Chinese, else ``en``."""
    name = os.environ.get("LC_ALL") or os.environ.get("LANG") or (locale.getlocale()[0] or "")
    return "zh" if name.lower().startswith("zh") else "en"

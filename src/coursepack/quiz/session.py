"""Opening a quiz for a student: the refusals, then their saved or freshly drawn questions.

``course quiz pre|post`` is a thin layer over :func:`open_quiz`. Everything that can go
wrong before a first question is asked is refused here, with the file and the fix: a
bank that cannot check answers, a sheet and an answers file at once, a sheet inside the
folder where answers are saved, a sheet that would overwrite one being filled in,
progress drawn for another student, and no terminal to ask in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from coursepack.course.config import Course
from coursepack.errors import CourseError
from coursepack.fileio import write_atomic
from coursepack.quiz.bank import Bank, course_bank
from coursepack.quiz.progress import Progress, answers_path, save, start_or_resume
from coursepack.quiz.terminal import answer_sheet


@dataclass
class QuizRun:
    kind: str
    bank: Bank
    progress: Progress
    path: Path        # where the answers are saved after each one
    feedback: bool    # each answer checked at once (pre-lecture) or graded later


def open_quiz(course: Course, kind: str, *, student: str, lang: str | None = None, work: Path | None = None,
              sheet: Path | None = None, answers: Path | None = None, interactive: bool = True,
              default_lang: str = "en") -> QuizRun:
    """The student's quiz, ready to answer (their progress saved); raises :class:`CourseError`
    for every reason it cannot be taken the way they asked."""
    config = course.quiz(kind)
    bank = course_bank(course, kind)
    feedback = config.feedback == "immediate"
    if feedback and not bank.can_check:
        raise CourseError("this copy of the bank cannot check answers", path=config.bank,
                          fix="ask your instructor for the quiz files of the release")
    if sheet and answers:
        raise CourseError("--sheet writes a sheet to fill in and --answers reads it back: use one at a time",
                          path=sheet, fix=f"run `course quiz {kind} --sheet FILE`, fill it in, "
                                          f"then `course quiz {kind} --answers FILE`")
    path = answers_path(work or course.assignments, kind)
    for given in (sheet, answers):
        if given is not None and Path(given).resolve().parent == path.parent.resolve():
            raise CourseError(f"is in {path.parent.name}/, where the quizzes save your answers; the sheet is a "
                              "file of its own", path=given,
                              fix=f"choose another place, e.g. `course quiz {kind} --sheet {kind}-sheet.json`")
    if sheet is not None and Path(sheet).exists():
        raise CourseError("exists already: writing the sheet again would replace what you filled in", path=sheet,
                          fix=f"pass it with `course quiz {kind} --answers {sheet}`, or remove it first")
    if sheet is None and answers is None and not interactive:
        raise CourseError("the quiz needs a terminal to ask its questions", path=path,
                          fix=f"run it in a terminal, or write your questions with `course quiz {kind} --sheet FILE`, "
                              f"fill in the answers and pass the file with --answers")
    progress = start_or_resume(path, bank, student, lang, config.draw, default_lang=default_lang)
    if progress.student != student:
        raise CourseError(f"holds answers drawn for {progress.student!r}, not for {student!r} "
                          "(each student's questions are their own)", path=path,
                          fix=f"pass --student {progress.student} (as for `course submit`), or move the file away "
                              "to start again")
    save(path, progress)
    return QuizRun(kind=kind, bank=bank, progress=progress, path=path, feedback=feedback)


def write_sheet(run: QuizRun, sheet: Path) -> None:
    """The student's questions (ids, options, answers so far) as a JSON file to fill in."""
    write_atomic(sheet, json.dumps(answer_sheet(run.bank, run.progress), indent=2, ensure_ascii=False) + "\n")

"""The quiz in a terminal: one question at a time, arrow keys or numbers, resumable.

Keys: a number picks (or, for multiple choice, ticks) an option; up/down (or k/j) move
the cursor; space ticks the option under the cursor; Enter confirms; q quits, keeping
every answer given so far. :func:`read_keys` reads the keys (the arrow keys arrive as
different codes on Unix and Windows terminals; all are accepted).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from coursepack.errors import CourseError
from coursepack.quiz.bank import Bank
from coursepack.quiz.draw import Drawn
from coursepack.quiz.keys import explanation, is_correct
from coursepack.quiz.progress import Progress, save

UP = {"\x1b[A", "\xe0H", "\x00H", "k"}
DOWN = {"\x1b[B", "\xe0P", "\x00P", "j"}
ENTER = {"\r", "\n"}
QUIT = {"q", "Q", "\x03", "\x04"}


def read_keys() -> str:
    """The keys typed since the last read (at least one), as one string.

    ``click.getchar`` puts the terminal in raw mode with ``TCSAFLUSH``, which throws away
    whatever was typed while the question was being drawn: a student who types ``1`` and
    Enter quickly loses the Enter. Here raw mode starts at once (``TCSANOW``) and keeps
    those keys. Elsewhere (Windows, no terminal) ``click.getchar`` reads them.
    """
    try:
        import termios  # Unix only
        import tty
    except ImportError:
        return click.getchar()
    if not sys.stdin.isatty():
        return click.getchar()
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        data = os.read(fd, 32)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
    return data.decode(sys.stdin.encoding or "utf-8", "replace")

TEXT = {
    "en": {"question": "Question {i} of {n}", "keys_single": "number or up/down + Enter; q = save and quit",
           "keys_multiple": "numbers or space tick options, Enter confirms; q = save and quit",
           "numeric": "Your answer (a number, or q to save and quit)",
           "right": "Correct.", "wrong": "Not quite.",
           "saved": "Your answers are saved: run the same command to continue.",
           "pick_one": "Tick at least one option.", "not_number": "Please type a number.",
           "done_pre": "Done: {k} of {n} right.", "done_post": "Done: your {n} answers are recorded for grading.",
           "continue": "Press any key for the next question."},
    "zh": {"question": "第 {i} 题，共 {n} 题", "keys_single": "按数字，或用上下方向键选择后按回车；q = 保存并退出",
           "keys_multiple": "按数字或空格勾选，回车确认；q = 保存并退出",
           "numeric": "你的答案（输入数字，或输入 q 保存并退出）",
           "right": "回答正确。", "wrong": "回答不正确。",
           "saved": "答案已保存：再次运行同一命令即可继续。",
           "pick_one": "请至少勾选一个选项。", "not_number": "请输入一个数字。",
           "done_pre": "完成：答对 {k} 题，共 {n} 题。", "done_post": "完成：你的 {n} 个答案已记录，等待评分。",
           "continue": "按任意键进入下一题。"},
}


class Quit(Exception):
    """The student asked to stop; everything answered so far is saved."""


def run_interactive(bank: Bank, progress: Progress, path: Path, console: Console, *, feedback: bool,
                    getchar=read_keys) -> bool:
    """Ask every unanswered question; True when the quiz is complete."""
    lang = progress.lang
    t = TEXT[lang]
    drawn = progress.drawn(bank)
    try:
        for i, item in enumerate(drawn, start=1):
            qid = item.question.id
            if qid in progress.answers:
                continue
            answer = _ask(item, i, len(drawn), lang, console, getchar)
            progress.answers[qid] = answer
            if feedback:
                progress.feedback[qid] = is_correct(bank, item.question, answer)
            save(path, progress)
            if feedback:
                _show_feedback(bank, item, progress.feedback[qid], answer, lang, console)
                if i < len(drawn):
                    console.print(Text(t["continue"], style="dim"))
                    if getchar() in QUIT:
                        raise Quit
    except (Quit, KeyboardInterrupt, EOFError):
        console.print(t["saved"])
        return False
    _summary(progress, console)
    return True


SHEET_HOW = ("Fill in each question's \"answer\", then run the same quiz command with --answers THIS_FILE. "
             "An answer is an option's text (copied exactly) or its index in \"options\" counting from 0; "
             "a list of them for type \"multiple\"; true or false for type \"truefalse\"; "
             "a number for type \"numeric\". Questions left at null (or []) stay unanswered.")


def answer_sheet(bank: Bank, progress: Progress) -> dict:
    """The student's questions as a JSON sheet to fill in and pass to ``--answers``."""
    lang = progress.lang
    questions = {}
    for item in progress.drawn(bank):
        q = item.question
        entry = {"question": q.prompt[lang], "type": q.type}
        if q.type in ("single", "multiple"):
            entry["options"] = list(q.options[lang])  # the bank's order: the indices --answers takes
        entry["answer"] = progress.answers.get(q.id)
        questions[q.id] = entry
    return {"how": SHEET_HOW, "quiz": bank.kind, "student": progress.student, "lang": lang, "questions": questions}


def answer_from_file(bank: Bank, progress: Progress, path: Path, answers_file: Path, console: Console, *,
                     feedback: bool) -> None:
    """Non-interactive: take answers from a JSON file.

    Either a filled-in sheet (``course quiz KIND --sheet FILE``) or a plain object
    ``{question id: answer}``.
    """
    fix = f"write your sheet with `course quiz {bank.kind} --sheet FILE`, fill in the answers and pass it here"
    try:
        given = json.loads(Path(answers_file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CourseError(f"cannot read the answers ({exc.strerror or exc})", path=answers_file,
                          fix=f"check the file name; {fix}") from None
    except ValueError as exc:
        raise CourseError(f"is not valid JSON ({exc})", path=answers_file, fix=fix) from None
    if isinstance(given, dict) and isinstance(given.get("questions"), dict):  # a sheet
        given = {qid: entry.get("answer") if isinstance(entry, dict) else entry
                 for qid, entry in given["questions"].items()}
    if not isinstance(given, dict):
        raise CourseError("must hold a JSON object {question id: answer}", path=answers_file, fix=fix)
    given = {qid: answer for qid, answer in given.items() if answer is not None and answer != []}  # unanswered
    drawn = progress.drawn(bank)
    unknown = sorted(set(given) - {item.question.id for item in drawn})
    if unknown:
        raise CourseError(f"names question(s) that are not on your sheet: {', '.join(unknown)}",
                          path=answers_file, fix=f"remove them from the file, or {fix}")
    for item in drawn:
        qid = item.question.id
        if qid in given:
            progress.answers[qid] = _parse_given(item, given[qid], progress.lang, answers_file)
            if feedback:
                progress.feedback[qid] = is_correct(bank, item.question, progress.answers[qid])
    save(path, progress)
    if feedback:
        for i, item in enumerate(drawn, start=1):
            qid = item.question.id
            if qid in progress.feedback and qid in given:
                console.print(Text(f"{i}. {qid}: {item.question.prompt[progress.lang]}", style="bold"))
                _show_feedback(bank, item, progress.feedback[qid], progress.answers[qid], progress.lang, console)
    left = [f"{i}. {item.question.id}" for i, item in enumerate(drawn, start=1)
            if item.question.id not in progress.answers]
    if left:
        console.print(Text(f"Not answered yet ({len(left)}): {', '.join(left)}", style="yellow"))
    _summary(progress, console)


def _parse_given(item: Drawn, value, lang: str, source: Path):
    """An answer from a file: original option index(es) or option text, a bool, a number."""
    q = item.question

    def index(v):
        if isinstance(v, str):
            # The text of an option in either language (a sheet may have been written in the other).
            for texts in (q.options[lang], *q.options.values()):
                if v in texts:
                    return texts.index(v)
            raise CourseError(f"{q.id}: {v!r} is not one of its options", path=source, fix="copy the option text exactly")
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < q.option_count:
            raise CourseError(f"{q.id}: {v!r} is not an option index", path=source,
                              fix=f"use an index 0..{q.option_count - 1} of the sheet's options, or an option's text")
        return v

    if q.type == "single":
        return index(value)
    if q.type == "multiple":
        values = value if isinstance(value, list) else [value]
        return sorted({index(v) for v in values})
    if q.type == "truefalse":
        if not isinstance(value, bool):
            raise CourseError(f"{q.id}: answer true or false", path=source, fix="use a JSON boolean")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CourseError(f"{q.id}: answer with a number", path=source, fix="use a JSON number")
    return value


def _ask(item: Drawn, i: int, n: int, lang: str, console: Console, getchar):
    t = TEXT[lang]
    q = item.question
    if q.type == "numeric":
        _render(item, i, n, lang, console, cursor=None, ticked=set(), hint=None)
        while True:
            raw = click.prompt(t["numeric"], default="", show_default=False).strip()
            if raw.lower() == "q":
                raise Quit
            try:
                return float(raw.replace(",", "."))
            except ValueError:
                console.print(t["not_number"])
    options = item.options(lang)
    cursor, ticked, hint = 0, set(), None
    while True:
        _render(item, i, n, lang, console, cursor=cursor, ticked=ticked, hint=hint)
        hint = None
        for key in split_keys(getchar()):  # a held arrow key sends several codes in one read
            if key in QUIT:
                raise Quit
            if key in UP:
                cursor = (cursor - 1) % len(options)
            elif key in DOWN:
                cursor = (cursor + 1) % len(options)
            elif key.isdigit() and 1 <= int(key) <= len(options):
                if q.type == "multiple":
                    ticked ^= {int(key) - 1}
                else:
                    return _original(item, int(key) - 1)
            elif key == " " and q.type == "multiple":
                ticked ^= {cursor}
            elif key in ENTER:
                if q.type != "multiple":
                    return _original(item, cursor)
                if not ticked:
                    hint = t["pick_one"]
                    break
                return sorted(_original(item, p) for p in ticked)


def split_keys(raw: str) -> list[str]:
    """The keys in one read of the terminal: arrow codes (3 characters on Unix, 2 on
    Windows) or single characters."""
    keys, rest = [], raw
    while rest:
        code = next((c for c in (*UP, *DOWN) if len(c) > 1 and rest.startswith(c)), None)
        keys.append(code or rest[0])
        rest = rest[len(code or rest[0]):]
    return keys


def _original(item: Drawn, position: int):
    if item.question.type == "truefalse":
        return position == 0
    return item.order[position]


def _render(item: Drawn, i: int, n: int, lang: str, console: Console, *, cursor, ticked, hint) -> None:
    t = TEXT[lang]
    q = item.question
    console.clear()
    parts = [Text(q.prompt[lang] + "\n", style="bold", overflow="fold")]  # fold: Chinese has no spaces
    if q.type != "numeric":
        # A grid, so that an option too long for the terminal wraps under its own text.
        options = Table.grid(padding=(0, 1))
        options.add_column(no_wrap=True)
        options.add_column(ratio=1)
        for position, option in enumerate(item.options(lang)):
            box = ("[x]" if position in ticked else "[ ]") if q.type == "multiple" else ""
            pointer = ">" if position == cursor else " "
            style = "reverse" if position == cursor else ""
            options.add_row(Text(f"{pointer} {position + 1}. {box}".rstrip(), style=style),
                            Text(option, style=style, overflow="fold"))
        keys = t["keys_multiple"] if q.type == "multiple" else t["keys_single"]
        parts += [options, Text(f"\n{keys}", style="dim")]
    if hint:
        parts.append(Text(hint, style="yellow"))
    # The command's console keeps long lines whole (soft wrap, for copyable paths);
    # a question must wrap inside its panel instead of being cut at the edge.
    console.print(Panel(Group(*parts), title=t["question"].format(i=i, n=n), title_align="left"), soft_wrap=False)


def _show_feedback(bank: Bank, item: Drawn, correct: bool, given, lang: str, console: Console) -> None:
    t = TEXT[lang]
    console.print(Text(t["right"] if correct else t["wrong"], style="green" if correct else "red"))
    text = explanation(bank, item.question, lang, given)
    if text:  # plain text ([MASK] is not markup), wrapped between words
        console.print(Text(text, overflow="fold"), soft_wrap=False)


def _summary(progress: Progress, console: Console) -> None:
    t = TEXT[progress.lang]
    n = len(progress.questions)
    if progress.feedback:
        console.print(t["done_pre"].format(k=sum(progress.feedback.values()), n=n) if progress.finished
                      else t["saved"])
    else:
        console.print(t["done_post"].format(n=len(progress.answers)) if progress.finished else t["saved"])

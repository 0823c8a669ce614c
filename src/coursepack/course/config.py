"""Load and validate ``course.toml``, the one description of the course.

Nothing else in the package lists tasks, points, files or limits: every command asks
:func:`load_course` for a :class:`Course`. Validation is strict, because a typo in a key
silently changing a grade is worse than a refusal: unknown keys, missing files,
duplicate ids, non-positive points and bad TOML all stop with a message that names the
file, the key and the fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
import re

from coursepack.errors import CourseError

CONFIG_NAME = "course.toml"
KNOWN_FRAMEWORKS = ("torch", "tf")

_COURSE_KEYS = {
    "id", "title", "frameworks", "framework", "solutions", "assignments",
    "public_tests", "hidden_tests", "shared_files",
}
_LIMIT_KEYS = {"time_limit", "memory_mb"}
_TASK_KEYS = {
    "id", "title", "idea", "points", "time_limit", "files", "symbols",
    "public_tests", "hidden_tests",
}
_TOP_KEYS = {"course", "limits", "tasks", "quizzes", "nbgrader", "lesson"}
_NBGRADER_KEYS = {"assignment", "duedate", "cell_timeout"}
_QUIZ_KEYS = {"bank", "id", "draw", "feedback", "points", "curriculum"}
_LESSON_KEYS = {"number", "summary", "sections", "quiz_app_title"}
LANGS = ("en", "zh")
QUIZ_KINDS = ("pre", "post")


@dataclass(frozen=True)
class Task:
    """One graded unit of work: a symbol (or a few) a student implements."""
    id: str
    title: str
    idea: str
    points: float
    time_limit: float
    files: dict[str, str]          # framework -> path relative to the solutions root
    symbols: tuple[str, ...]
    public_tests: tuple[str, ...]  # file names inside the public test folder
    hidden_tests: tuple[str, ...]  # file names inside the hidden test folder

    def module(self, framework: str) -> str:
        """Dotted module name of this task's file, e.g. ``course_torch.attention``."""
        return self.files[framework].removesuffix(".py").replace("/", ".")


@dataclass(frozen=True)
class QuizConfig:
    """One quiz of ``[quizzes.pre]`` / ``[quizzes.post]``."""
    kind: str
    bank: Path          # the instructor's bank (with answers)
    draw: int           # questions each student gets
    feedback: str       # immediate (pre-lecture) | deferred (graded later)
    points: float
    id: int                          # the curriculum's quiz id; the bank's [quiz] id must agree
    curriculum: tuple[str, ...]      # ideas every draw (and the quiz app) covers, one question each
    sections: tuple[str, ...]        # the lesson's sections ([lesson.sections]) its questions test


@dataclass(frozen=True)
class LessonConfig:
    """``[lesson]``: the lesson this course teaches, as the curriculum numbers and outlines it."""
    summary: str                                               # what the lesson builds (the notebooks' intro)
    number: int | None = None                                  # the curriculum's lesson number (quiz app file)
    sections: dict[str, str] = field(default_factory=dict)     # id -> what it teaches, in the lesson's order
    quiz_app_title: dict[str, str] = field(default_factory=dict)  # lang -> the quiz app's title of the lesson


@dataclass(frozen=True)
class NbgraderConfig:
    """``[nbgrader]``: how ``course nbgrader build`` names and dates the assignment."""
    assignment: str            # the nbgrader assignment id (default: the course id)
    duedate: str | None        # e.g. "2026-12-18 23:59:00 UTC"; None: no due date
    cell_timeout: int          # seconds a notebook cell may run in nbgrader's kernel


@dataclass(frozen=True)
class Course:
    """The validated contents of ``course.toml``; paths are absolute."""
    path: Path
    id: str
    title: str
    frameworks: tuple[str, ...]
    framework: str
    solutions: Path
    assignments: Path
    public_tests: Path
    hidden_tests: Path
    shared_files: tuple[str, ...]
    time_limit: float
    memory_mb: int
    tasks: tuple[Task, ...] = field(default_factory=tuple)
    quizzes: dict[str, QuizConfig] = field(default_factory=dict)
    nbgrader: NbgraderConfig | None = None
    lesson: LessonConfig | None = None

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def total_points(self) -> float:
        return sum(t.points for t in self.tasks) + sum(q.points for q in self.quizzes.values())

    def quiz(self, kind: str) -> QuizConfig:
        if kind not in self.quizzes:
            raise CourseError(f"this course has no {kind}-lecture quiz", path=self.path,
                              fix=f"add a [quizzes.{kind}] table")
        return self.quizzes[kind]

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        known = ", ".join(t.id for t in self.tasks)
        raise CourseError(f"there is no task {task_id!r}", path=self.path,
                          fix=f"use one of: {known}")

    def resolve_frameworks(self, choice: str | None) -> tuple[str, ...]:
        """Turn a ``--framework`` option (None, a name or ``all``) into the tracks to run."""
        if choice is None:
            return (self.framework,)
        if choice == "all":
            return self.frameworks
        if choice not in self.frameworks:
            raise CourseError(
                f"this course does not offer the framework {choice!r}", path=self.path,
                fix=f"use --framework with one of: {', '.join(self.frameworks)}, all")
        return (choice,)

    def shared_source(self, name: str) -> Path:
        """The trusted copy of a shared file: the solutions' when present (instructor side),
        else the release's own (a student's checkout has no solutions/)."""
        return self.solutions / name if (self.solutions / name).is_file() else self.assignments / name

    def package_dirs(self, framework: str) -> set[str]:
        """Top-level folders (relative to a submission root) holding a track's files."""
        return {t.files[framework].split("/")[0] for t in self.tasks if framework in t.files}


def find_course(start: Path | None = None) -> Path:
    """The nearest ``course.toml`` at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise CourseError(f"no {CONFIG_NAME} found in {here} or any folder above it",
                      fix="run `course` from inside the course folder, or pass --course PATH")


def load_course(path: Path | str | None = None) -> Course:
    """Read and validate a course file; raise :class:`CourseError` on any problem."""
    path = Path(path).resolve() if path else find_course()
    if path.is_dir():
        path = path / CONFIG_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CourseError("is not UTF-8 text", path=path, fix="save the file as UTF-8") from None
    except FileNotFoundError:
        raise CourseError("file not found", path=path,
                          fix="pass the path of the course's course.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"is not valid TOML ({exc})", path=path,
                          fix="correct the syntax at the line shown") from None
    return _parse(raw, path)


def _parse(raw: dict, path: Path) -> Course:
    _no_unknown(raw, _TOP_KEYS, "the top level", path)
    course = _table(raw, "course", path)
    _no_unknown(course, _COURSE_KEYS, "[course]", path)
    limits = raw.get("limits", {})
    if not isinstance(limits, dict):
        raise CourseError("[limits] must be a table", path=path)
    _no_unknown(limits, _LIMIT_KEYS, "[limits]", path)
    root = path.parent

    frameworks, framework = _parse_frameworks(course, path)

    def folder(key: str) -> Path:
        value = root / _get(course, key, str, "[course]", path)
        if not value.is_dir():
            raise CourseError(f"[course] {key} = {course[key]!r} is not a folder",
                              path=path, fix=f"create it or correct the path of {key}")
        return value

    solutions = root / _get(course, "solutions", str, "[course]", path)
    public_tests = folder("public_tests")
    # A student release has no hidden tests; only grading needs them (grading/grader.py checks).
    hidden_tests = root / _get(course, "hidden_tests", str, "[course]", path)
    assignments = root / _get(course, "assignments", str, "[course]", path)
    shared = tuple(_strings(course.get("shared_files", []), "[course] shared_files", path))
    source = solutions if solutions.is_dir() else assignments  # a student release has no solutions/
    for name in shared:
        if not (source / name).is_file():
            raise CourseError(f"[course] shared_files lists {name!r}, which is not in {source}",
                              path=path, fix="add the file or remove it from shared_files")

    default_limit = _positive(limits.get("time_limit", 60), "[limits] time_limit", path)
    memory_mb = int(_positive(limits.get("memory_mb", 4096), "[limits] memory_mb", path))

    tasks_raw = raw.get("tasks")
    if not isinstance(tasks_raw, list) or not tasks_raw:
        raise CourseError("no [[tasks]] defined", path=path,
                          fix="add at least one [[tasks]] table")
    tests_dirs = {"public_tests": public_tests, "hidden_tests": hidden_tests}
    tasks: list[Task] = []
    seen: set[str] = set()
    for index, t in enumerate(tasks_raw):
        tasks.append(_parse_task(t, index, path, seen=seen, frameworks=frameworks, source=source,
                                 tests_dirs=tests_dirs, default_limit=default_limit))

    lesson = _parse_lesson(raw.get("lesson"), bool(raw.get("quizzes")), path)
    quizzes = _parse_quizzes(raw.get("quizzes", {}), root, path, lesson)
    course_id = _get(course, "id", str, "[course]", path)
    return Course(
        path=path,
        quizzes=quizzes,
        lesson=lesson,
        nbgrader=_parse_nbgrader(raw.get("nbgrader", {}), course_id, path),
        id=course_id,
        title=_get(course, "title", str, "[course]", path),
        frameworks=frameworks,
        framework=framework,
        solutions=solutions,
        assignments=assignments,
        public_tests=public_tests,
        hidden_tests=hidden_tests,
        shared_files=shared,
        time_limit=default_limit,
        memory_mb=memory_mb,
        tasks=tuple(tasks),
    )




def _parse_frameworks(course: dict, path: Path) -> tuple[tuple[str, ...], str]:
    """[course] frameworks (the tracks offered) and framework (a student's default track)."""
    frameworks = tuple(_strings(_get(course, "frameworks", list, "[course]", path), "[course] frameworks", path))
    if not frameworks:
        raise CourseError("[course] frameworks is empty", path=path,
                          fix='list at least one of "torch", "tf"')
    for fw in frameworks:
        if fw not in KNOWN_FRAMEWORKS:
            raise CourseError(f"[course] frameworks names unknown framework {fw!r}", path=path,
                              fix=f"use only {', '.join(KNOWN_FRAMEWORKS)}")
    framework = course.get("framework", frameworks[0])
    if framework not in frameworks:
        raise CourseError(f"[course] framework = {framework!r} is not in frameworks {list(frameworks)}",
                          path=path, fix="choose one of the offered frameworks")
    return frameworks, framework


def _parse_task(t, index: int, path: Path, *, seen: set[str], frameworks: tuple[str, ...], source: Path,
                tests_dirs: dict[str, Path], default_limit: float) -> Task:
    """One [[tasks]] table, checked against the course's tracks, files and test folders."""
    where = f"[[tasks]] #{index + 1}"
    if not isinstance(t, dict):
        raise CourseError(f"{where} must be a table", path=path)
    _no_unknown(t, _TASK_KEYS, where, path)
    task_id = _get(t, "id", str, where, path)
    where = f"[[tasks]] id={task_id!r}"
    if task_id in seen:
        raise CourseError(f"duplicate task id {task_id!r}", path=path,
                          fix="give every task a unique id")
    seen.add(task_id)
    files = _get(t, "files", dict, where, path)
    _strings(list(files.values()), f"{where} files", path)
    for fw, rel in files.items():
        if fw not in frameworks:
            raise CourseError(f"{where} files names framework {fw!r}, not offered in [course] frameworks",
                              path=path, fix="remove it or add the framework to the course")
        if not (source / rel).is_file():
            raise CourseError(f"{where} files.{fw} = {rel!r} does not exist under {source}",
                              path=path, fix="correct the path or add the solution file")
    for fw in frameworks:
        if fw not in files:
            raise CourseError(f"{where} has no file for framework {fw!r}", path=path,
                              fix=f"add files.{fw} = \"...\" to the task")
    tests = {}
    for key, base in tests_dirs.items():
        names = _strings(_get(t, key, list, where, path), f"{where} {key}", path)
        if not names:
            raise CourseError(f"{where} {key} is empty", path=path,
                              fix="list at least one test file")
        for name in names:
            if base.is_dir() and not (base / name).is_file():
                raise CourseError(f"{where} {key} lists {name!r}, which is not in {base}",
                                  path=path, fix="correct the file name or add the test file")
        tests[key] = tuple(names)
    symbols = tuple(_strings(_get(t, "symbols", list, where, path), f"{where} symbols", path))
    if not symbols:
        raise CourseError(f"{where} symbols is empty", path=path,
                          fix="name the functions or classes the task implements")
    return Task(
        id=task_id,
        title=_get(t, "title", str, where, path),
        idea=_get(t, "idea", str, where, path),
        points=_positive(_get(t, "points", (int, float), where, path), f"{where} points", path),
        time_limit=_positive(t.get("time_limit", default_limit), f"{where} time_limit", path),
        files=dict(files),
        symbols=symbols,
        **tests,
    )


def _parse_lesson(raw, has_quizzes: bool, path: Path) -> LessonConfig:
    if raw is None:
        raise CourseError("missing the [lesson] table", path=path,
                          fix='add [lesson] with summary = "..." (what the lesson builds, for the notebooks\' '
                              "introduction)" + (", number, quiz_app_title and [lesson.sections] for the quizzes"
                                                 if has_quizzes else ""))
    if not isinstance(raw, dict):
        raise CourseError("[lesson] must be a table", path=path, fix='write [lesson] then summary = "..."')
    _no_unknown(raw, _LESSON_KEYS, "[lesson]", path)
    summary = _get(raw, "summary", str, "[lesson]", path)
    if not summary.strip():
        raise CourseError("[lesson] summary is empty", path=path,
                          fix="say in a few sentences what the lesson builds; the notebooks open with it")
    number = raw.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
        raise CourseError(f"[lesson] number = {number!r} must be a positive whole number", path=path,
                          fix="use the curriculum's number of the lesson, e.g. number = 18")
    sections = raw.get("sections", {})
    if not isinstance(sections, dict) or not all(isinstance(v, str) and v.strip() for v in sections.values()):
        raise CourseError("[lesson.sections] must map each section id to what it teaches", path=path,
                          fix='write [lesson.sections] then one line per section: attention = "What it teaches"')
    title = raw.get("quiz_app_title", {})
    if not isinstance(title, dict) or (title and set(title) != set(LANGS)) \
            or not all(isinstance(v, str) and v.strip() for v in title.values()):
        raise CourseError(f"[lesson] quiz_app_title = {title!r} needs a title in each of {', '.join(LANGS)}",
                          path=path, fix='write quiz_app_title = { en = "...", zh = "..." }')
    if has_quizzes:
        for key, value in (("number", number), ("sections", sections), ("quiz_app_title", title)):
            if not value:
                raise CourseError(f"[lesson] has no {key}, which the quizzes need", path=path,
                                  fix={"number": "add number = N (the curriculum's lesson number; the quiz app's "
                                                 "file is lesson-N.json)",
                                       "sections": "add [lesson.sections] with one line per section of the lesson: "
                                                   'id = "what it teaches"; every question names one',
                                       "quiz_app_title": 'add quiz_app_title = { en = "...", zh = "..." } (the quiz '
                                                         "app's title of the lesson)"}[key])
    return LessonConfig(summary=summary, number=number, sections=dict(sections), quiz_app_title=dict(title))


def _parse_quizzes(raw, root: Path, path: Path, lesson: LessonConfig) -> dict[str, QuizConfig]:
    if not isinstance(raw, dict):
        raise CourseError("[quizzes] must be a table", path=path, fix="use [quizzes.pre] and [quizzes.post]")
    quizzes = {}
    for kind, table in raw.items():
        where = f"[quizzes.{kind}]"
        if kind not in QUIZ_KINDS:
            raise CourseError(f"unknown quiz {where}", path=path, fix="use [quizzes.pre] or [quizzes.post]")
        if not isinstance(table, dict):
            raise CourseError(f"{where} must be a table", path=path)
        _no_unknown(table, _QUIZ_KEYS, where, path)
        feedback = table.get("feedback", "immediate" if kind == "pre" else "deferred")
        if feedback not in ("immediate", "deferred"):
            raise CourseError(f"{where} feedback = {feedback!r}", path=path, fix='use "immediate" or "deferred"')
        draw = _get(table, "draw", int, where, path)
        if draw <= 0:
            raise CourseError(f"{where} draw = {draw} must be positive", path=path, fix="draw at least one question")
        points = table.get("points", 0)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise CourseError(f"{where} points = {points!r} must be a number >= 0", path=path,
                              fix="use 0 for an ungraded quiz")
        quiz_id = _get(table, "id", int, where, path)
        if quiz_id < 1:
            raise CourseError(f"{where} id = {quiz_id} must be positive", path=path,
                              fix="use the curriculum's id of this quiz (its quiz app routes by it)")
        for other in quizzes.values():
            if other.id == quiz_id:
                raise CourseError(f"{where} id = {quiz_id} is also [quizzes.{other.kind}]'s id", path=path,
                                  fix="give every quiz its own id")
        curriculum = tuple(_plain_strings(table.get("curriculum", []), f"{where} curriculum", path))
        if len(set(curriculum)) != len(curriculum):
            raise CourseError(f"{where} curriculum lists an idea twice", path=path, fix="list each idea once")
        quizzes[kind] = QuizConfig(kind=kind, bank=root / _get(table, "bank", str, where, path), draw=draw,
                                   feedback=feedback, points=points, id=quiz_id, curriculum=curriculum,
                                   sections=tuple(lesson.sections))
    return quizzes


def _parse_nbgrader(raw, course_id: str, path: Path) -> NbgraderConfig:

    if not isinstance(raw, dict):
        raise CourseError("[nbgrader] must be a table", path=path, fix='write [nbgrader] then assignment = "..."')
    _no_unknown(raw, _NBGRADER_KEYS, "[nbgrader]", path)
    assignment = raw.get("assignment", course_id)
    if not isinstance(assignment, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", assignment):
        raise CourseError(f"[nbgrader] assignment = {assignment!r} is not a valid nbgrader assignment id",
                          path=path, fix="use letters, digits, '-' and '_' only")
    duedate = raw.get("duedate")
    if duedate is not None:
        if hasattr(duedate, "isoformat"):  # a TOML date-time
            duedate = duedate.isoformat(sep=" ") if hasattr(duedate, "hour") else duedate.isoformat()
        if not isinstance(duedate, str) or not duedate.strip():
            raise CourseError(f"[nbgrader] duedate = {duedate!r} is not a date", path=path,
                              fix='write it like duedate = "2026-12-18 23:59:00 UTC"')
    timeout = _positive(raw.get("cell_timeout", 300), "[nbgrader] cell_timeout", path)
    return NbgraderConfig(assignment=assignment, duedate=duedate, cell_timeout=int(timeout))


def _plain_strings(values, what: str, path: Path) -> list:
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise CourseError(f"{what} must be a list of non-empty strings (got {values!r})", path=path,
                          fix='write it like ["a", "b"]')
    return values


def _strings(values, what: str, path: Path) -> list:
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise CourseError(f"{what} must be a list of non-empty strings (got {values!r})", path=path,
                          fix='write it like ["a", "b"]')
    for value in values:
        if value.startswith("/") or ".." in Path(value).parts:
            raise CourseError(f"{what} names {value!r}, outside the course folder", path=path,
                              fix="use a path relative to course.toml, inside the course")
    return values


def _table(raw: dict, key: str, path: Path) -> dict:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise CourseError(f"missing the [{key}] table", path=path, fix=f"add a [{key}] table")
    return value


def _no_unknown(table: dict, allowed: set[str], where: str, path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CourseError(f"unknown key {unknown[0]!r} in {where}", path=path,
                          fix=f"remove it or use one of: {', '.join(sorted(allowed))}")


def _get(table: dict, key: str, kind, where: str, path: Path):
    if key not in table:
        raise CourseError(f"{where} is missing the key {key!r}", path=path, fix=f"add {key} = ...")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        names = {"str": "a string", "int": "an integer", "float": "a number", "list": "a list", "dict": "a table"}
        kinds = [kind] if isinstance(kind, type) else [k for k in kind if not (k is int and float in kind)]
        expected = " or ".join(dict.fromkeys(names.get(k.__name__, k.__name__) for k in kinds))
        raise CourseError(f"{where} {key} = {value!r} should be {expected}", path=path,
                          fix=f"give {key} {expected} as its value")
    return value


def _positive(value, what: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise CourseError(f"{what} = {value!r} must be a positive number", path=path,
                          fix="use a number greater than zero")
    return float(value) if isinstance(value, float) else value

"""Put our lesson file into a checkout of the curriculum's quiz app, in every language.

The app (``etc/quiz-app`` of the curriculum's repository) finds its quizzes through
three hand-written files, and knows a language only when all three name it (here for
lesson 18)::

    src/assets/translations/index.js       import zhQuizzes from './zh';  messages = { ..., zh: zhQuizzes }
    src/assets/translations/zh/index.js    import zh18 from './lesson-18.json';  quiz = { 0: zh18[0] }
    src/App.vue                            <select v-model="locale"> ... <option>zh</option>

:func:`install` writes ``<lang>/lesson-N.json`` for each language (N: course.toml's
``[lesson] number``) and adds to those files exactly the lines a language or a lesson
is still missing, in the style of the entries already there. It is idempotent (a second run finds nothing to add and writes
nothing) and touches no other file. It plans every change before writing any, so a
checkout it does not recognise is left as it was, with an error saying what to add by
hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from coursepack.errors import CourseError
from coursepack.fileio import write_atomic
from coursepack.templating import render

LANGUAGE_NAMES = {"en": "englishQuizzes", "zh": "chineseQuizzes"}
_IMPORT = re.compile(r"^import\s+(\w+)\s+from\s+['\"]([^'\"]+)['\"];?[ \t]*$", re.M)


def install(app_dir: Path, lessons: dict[str, str], lesson: int) -> list[Path]:
    """Write ``lessons`` (language -> lesson JSON text) into the app at ``app_dir`` (the
    app's folder, or its ``src/assets/translations``) as lesson number ``lesson``; return
    the files that changed."""
    translations = _translations(Path(app_dir))
    app_vue = translations.parents[1] / "App.vue"
    plan: dict[Path, str] = {}

    def edit(path: Path, change) -> None:
        old = plan.get(path, _read(path))
        plan[path] = change(old)

    for lang, text in lessons.items():
        plan[translations / lang / f"lesson-{lesson}.json"] = text
        index = translations / lang / "index.js"
        if not index.exists() and index not in plan:
            plan[index] = render("quizapp/lesson-index.js", name=f"{lang}{lesson}", lesson=str(lesson))
        else:
            edit(index, lambda js: _add_lesson(js, index, lang, lesson))
        edit(translations / "index.js", lambda js: _add_language(js, translations / "index.js", lang))
        edit(app_vue, lambda vue: _add_option(vue, app_vue, lang))
    changed = []
    for path, text in plan.items():
        if path.exists() and _read(path) == text:
            continue
        write_atomic(path, text.replace("\n", "\r\n") if _crlf(path) else text)
        changed.append(path)
    return changed


def _translations(app_dir: Path) -> Path:
    for folder in (app_dir / "src" / "assets" / "translations", app_dir):
        if (folder / "index.js").is_file() and (folder / "en").is_dir():
            return folder
    raise CourseError("is not a checkout of the curriculum's quiz app: there is no src/assets/translations/index.js "
                      "with an en/ folder beside it", path=app_dir,
                      fix="pass the app's folder, the one holding package.json and src/ (etc/quiz-app in the "
                          "curriculum's repository)")


def _read(path: Path) -> str:
    if not path.is_file():
        raise CourseError("is missing, and the quiz app needs it to know its languages", path=path,
                          fix="pass a complete checkout of the app (etc/quiz-app in the curriculum's repository)")
    return path.read_bytes().decode("utf-8").replace("\r\n", "\n")


def _crlf(path: Path) -> bool:
    return path.exists() and b"\r\n" in path.read_bytes()


def _add_lesson(js: str, path: Path, lang: str, lesson: int) -> str:
    """``<lang>/index.js`` importing ``lesson-N.json`` and listing its element [0]."""
    js, name = _ensure_import(js, f"./lesson-{lesson}.json", f"{lang}{lesson}")
    return _ensure_entry(js, path, "quiz", present=re.search(rf"\b{name}\s*\[\s*0\s*\]", js),
                         entry=lambda keys: f"{max(keys, default=-1) + 1}: {name}[0]")


def _add_language(js: str, path: Path, lang: str) -> str:
    """``translations/index.js`` importing ``./<lang>`` and registering it in ``messages``."""
    js, name = _ensure_import(js, f"./{lang}", LANGUAGE_NAMES.get(lang, f"{lang}Quizzes"))
    body = _object(js, path, "messages").group("body")
    return _ensure_entry(js, path, "messages", present=re.search(rf"(^|[\s,])['\"]?{lang}['\"]?\s*:", body),
                         entry=lambda keys: f"{lang}: {name}")


def _add_option(vue: str, path: Path, lang: str) -> str:
    """``App.vue``'s language select offering ``<option><lang></option>``."""
    select = re.search(r"<select[^>]*v-model=\"locale\"[^>]*>(?P<body>.*?)</select>", vue, re.S)
    options = list(re.finditer(r"^([ \t]*)<option[^>]*>\s*([\w-]+)\s*</option>[ \t]*$", select.group("body"), re.M)) \
        if select else []
    if not options:
        raise CourseError('has no language select (<select v-model="locale"> with <option> lines) to offer '
                          "our languages in", path=path,
                          fix=f"add <option>{lang}</option> (and any other of en, zh it lacks) to the app's language "
                              "select by hand, then run this again")
    if lang in {m.group(2) for m in options}:
        return vue
    last = options[-1]
    at = select.start("body") + last.end()
    return vue[:at] + f"\n{last.group(1)}<option>{lang}</option>" + vue[at:]


def _ensure_import(js: str, module: str, name: str) -> tuple[str, str]:
    """``js`` importing ``module`` (as ``name``, or a free variant of it), and the name it has."""
    def same(a: str) -> bool:
        return a.rstrip("/").removesuffix("/index.js").removesuffix(".json") == \
            module.rstrip("/").removesuffix(".json")
    imports = list(_IMPORT.finditer(js))
    for m in imports:
        if same(m.group(2)):
            return js, m.group(1)
    taken = {m.group(1) for m in imports}
    while name in taken:
        name += "_"
    line = f"import {name} from '{module}';"
    if not imports:
        return f"{line}\n{js}", name
    at = imports[-1].end()
    return js[:at] + "\n" + line + js[at:], name


def _object(js: str, path: Path, variable: str) -> re.Match:
    match = re.search(rf"const\s+{variable}\s*=\s*\{{(?P<body>[^{{}}]*)\}}", js)
    if not match:
        raise CourseError(f"has no `const {variable} = {{ ... }}` to add an entry to", path=path,
                          fix="restore the file from the app's repository, or add the entry by hand")
    return match


def _ensure_entry(js: str, path: Path, variable: str, *, present, entry) -> str:
    """``js`` with ``entry(existing numeric keys)`` added to ``const <variable> = {...}``
    unless ``present``, on a line of its own or inline, as the object's entries are."""
    if present:
        return js
    match = _object(js, path, variable)
    body = match.group("body")
    text = entry([int(k) for k in re.findall(r"(?:^|[\s,])(\d+)\s*:", body)])
    content = body.rstrip()
    tail = body[len(content):]
    comma = "," if content.strip() and not content.endswith(",") else ""
    if "\n" in body:
        indent = re.search(r"\n([ \t]*)\S", body)
        content += f"{comma}\n{indent.group(1) if indent else '  '}{text}"
        tail = tail if "\n" in tail else "\n"
    else:
        content += f"{comma} {text}"
        tail = tail or " "
    return js[:match.start("body")] + content + tail + js[match.end("body"):]

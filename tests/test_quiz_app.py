"""The quiz-app export as a specification of the curriculum's quiz app.

What the app does (``etc/quiz-app`` of the curriculum's repository, a Vue site): it
imports ``lesson-18.json`` per language folder and uses element ``[0]``; it routes by
quiz id (118, 218); it shows one question at a time with one button per answer option;
a click on the option whose ``isCorrect`` is true moves on, any other says "try again".
As shipped it stops after 3 questions. It has no multiple selections, no numbers to
type, no markup, and buttons half a phone wide. Each test below states one of those
rules for our export; the last one checks that the options alone give the answer away
no more often than chance would.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursepack.errors import CourseError
from coursepack.quiz.appdir import install
from coursepack.course.config import load_course
from coursepack.quiz.bank import LANGS, load_bank, parse_bank
from coursepack.quiz.export import to_gift
from coursepack.quiz.oneclick import OPTION_WIDTH, PROMPT_WIDTH, width
from coursepack.quiz.quizapp import to_quiz_app
from coursepack.quiz.subscripts import to_unicode

MINI_APP = Path(__file__).parent / "data" / "quiz-app-mini"
COUNTS = [3, None]   # the default, and --questions all
COURSE = load_course(Path(__file__).resolve().parents[1] / "course.toml")
LESSON = COURSE.lesson.number


@pytest.fixture(scope="module")
def banks(course):
    return {kind: load_bank(config.bank, config) for kind, config in course.quizzes.items()}


def lesson_file(banks, lang, questions=3) -> str:
    return to_quiz_app(list(banks.values()), lang, questions, title=COURSE.lesson.quiz_app_title[lang])


def export(banks, lang, questions=3) -> list:
    return json.loads(lesson_file(banks, lang, questions))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "coursepack.cli", *args], capture_output=True, text=True)


def exported(banks, lang, questions):
    """(bank question, exported item) pairs of both quizzes."""
    data = export(banks, lang, questions)
    pairs = []
    for quiz in data[0]["quizzes"]:
        bank = banks["pre" if quiz["id"] == 118 else "post"]
        for item in quiz["quiz"]:
            pairs.append((_source(bank.questions, item, lang), item))
    return pairs


def _source(questions, item, lang):
    """The bank question an exported item came from (by its prompt, or its app prompt)."""
    for q in questions:
        prompts = [q.prompt[lang]] + ([q.app.prompt[lang]] if q.app and q.app.prompt else [])
        if item["questionText"] in {to_unicode(p) for p in prompts} | set(prompts):
            return q
    raise AssertionError(f"no bank question for {item['questionText']!r}")


# -- the lesson file's shape -----------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_one_lesson_object_in_an_array_with_quizzes_118_and_218(banks, lang, repo):
    data = export(banks, lang)
    assert isinstance(data, list) and len(data) == 1, "the app reads element [0] of the lesson file"
    top = data[0]
    assert set(top) == {"title", "complete", "error", "quizzes"}
    assert [quiz["id"] for quiz in top["quizzes"]] == [118, 218]
    reference = repo.parent / "shared/reference/quiz-app-lesson-18.en.json"
    if reference.is_file():  # the curriculum's own file for this lesson, where present
        theirs = json.loads(reference.read_text(encoding="utf-8"))[0]
        assert set(top) == set(theirs)
        assert set(top["quizzes"][0]) == set(theirs["quizzes"][0])
        assert set(top["quizzes"][0]["quiz"][0]) == set(theirs["quizzes"][0]["quiz"][0])
    for quiz in top["quizzes"]:
        for item in quiz["quiz"]:
            assert set(item) == {"questionText", "answerOptions"}
            for option in item["answerOptions"]:
                assert set(option) == {"answerText", "isCorrect"}
                assert type(option["isCorrect"]) is bool


@pytest.mark.parametrize("questions", [1, 3, 5, 24, None])
def test_exactly_n_questions_per_quiz(banks, questions):
    for lang in LANGS:
        for quiz in export(banks, lang, questions)[0]["quizzes"]:
            bank = banks["pre" if quiz["id"] == 118 else "post"]
            assert len(quiz["quiz"]) == (questions or len(bank.questions))


def test_the_default_is_three_single_clicks_covering_the_curriculum_ideas(banks, course):
    proc = cli("--course", str(course.path), "quiz", "export", "--format", "quiz-app")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for quiz in data[0]["quizzes"]:
        kind = "pre" if quiz["id"] == 118 else "post"
        chosen = [_source(banks[kind].questions, item, "en") for item in quiz["quiz"]]
        assert len(chosen) == 3
        assert {q.curriculum for q in chosen} == set(course.quiz(kind).curriculum)
        assert len({q.section for q in chosen}) == 3, "three questions, three parts of the lesson"
        assert {q.type for q in chosen} <= {"single", "truefalse"}, "single clicks by nature"


def test_question_count_mistakes_say_what_to_use(course):
    for value, message in [("0", "neither a number"), ("lots", "neither a number"), ("25", "quiz 118 has 24")]:
        proc = cli("--course", str(course.path), "quiz", "export", "--format", "quiz-app", "--questions", value)
        assert proc.returncode == 2 and message in proc.stderr and "Fix:" in proc.stderr, proc.stderr
    proc = cli("--course", str(course.path), "quiz", "export", "--format", "gift", "--questions", "3")
    assert proc.returncode == 2 and "GIFT holds every question" in proc.stderr


# -- every question one honest click ----------------------------------------------------------

@pytest.mark.parametrize("questions", COUNTS)
@pytest.mark.parametrize("lang", LANGS)
def test_one_correct_option_and_no_combined_options(banks, lang, questions):
    for q, item in exported(banks, lang, questions):
        options = [o["answerText"] for o in item["answerOptions"]]
        assert sum(o["isCorrect"] for o in item["answerOptions"]) == 1, q.id
        assert len(options) >= 2 and len(set(options)) == len(options), q.id
        statements = set(q.options.get(lang, [])) | set(q.app.options[lang] if q.app and q.app.options else [])
        for option in options:  # "A + C", the old way of showing a set of answers
            parts = option.split(" + ")
            assert len(parts) == 1 or not set(parts) <= statements, f"{q.id}: {option!r} combines options"
        for a in options:
            for b in options:
                if a != b and len(b.split()) > 1:
                    assert b not in a, f"{q.id}: {a!r} contains the option {b!r}"


@pytest.mark.parametrize("questions", COUNTS)
@pytest.mark.parametrize("lang", LANGS)
def test_no_raw_markup_and_no_instructions_the_app_cannot_follow(banks, lang, questions):
    for q, item in exported(banks, lang, questions):
        for text in [item["questionText"]] + [o["answerText"] for o in item["answerOptions"]]:
            assert not re.search(r"[_{}]", text), f"{q.id}: {text!r}"
        assert not re.search(r"select all|enter a|选出所有|请输入", item["questionText"], re.I), q.id


@pytest.mark.parametrize("lang", LANGS)
def test_multiple_answer_questions_show_one_true_statement_among_the_false(banks, lang):
    pick_one = {"en": "Pick one.", "zh": "选出一项。"}[lang]
    pairs = [(q, item) for q, item in exported(banks, lang, None) if q.type == "multiple"]
    assert len(pairs) == 7
    for q, item in pairs:
        assert item["questionText"].endswith(pick_one), q.id
        texts = (q.app.options or q.options)[lang]
        shown = {o["answerText"]: o["isCorrect"] for o in item["answerOptions"]}
        right = [i for i in q.answer if texts[i] in shown]
        assert len(right) == 1 and shown[texts[right[0]]], f"{q.id}: one correct statement, marked correct"
        wrong = [texts[i] for i in range(q.option_count) if i not in q.answer]
        assert sorted(t for t, ok in shown.items() if not ok) == sorted(wrong), f"{q.id}: every false statement"


@pytest.mark.parametrize("lang", LANGS)
def test_numeric_questions_are_a_choice_of_values_of_the_answers_form(banks, lang):
    which = {"en": "which value", "zh": "哪个值"}[lang]
    pairs = [(q, item) for q, item in exported(banks, lang, None) if q.type == "numeric"]
    assert len(pairs) == 6
    for q, item in pairs:
        assert which in item["questionText"].lower(), q.id
        values = [float(o["answerText"]) for o in item["answerOptions"]]
        assert values == sorted(values) and len(values) >= 3
        correct = [float(o["answerText"]) for o in item["answerOptions"] if o["isCorrect"]]
        assert correct == [pytest.approx(q.answer)]
        whole = float(q.answer).is_integer()
        assert all(v.is_integer() == whole for v in values), f"{q.id}: a value of another form gives itself away"


@pytest.mark.parametrize("lang", LANGS)
def test_texts_fit_a_phone(banks, lang):
    longest = 0
    for q, item in exported(banks, lang, None):
        assert width(item["questionText"]) <= PROMPT_WIDTH, q.id
        for option in item["answerOptions"]:
            assert width(option["answerText"]) <= OPTION_WIDTH, f"{q.id}: {option['answerText']!r}"
            longest = max(longest, width(option["answerText"]))
    assert longest > OPTION_WIDTH // 2, "the limit is measured on real options"
    assert width("注意力") == 6 and width("abc") == 3


# -- guessing from the options alone ----------------------------------------------------------

def _tokens(text: str) -> list[str]:
    return re.findall(r"[\u4e00-\u9fff]|[a-z0-9']+", text.lower())


def _numbers(options):
    try:
        return [float(o) for o in options]
    except ValueError:
        return None


def _by(key):
    """A solver picking the option with the largest ``key(option, options)`` (first on ties)."""
    def solve(options):
        scores = [key(o, options) for o in options]
        return scores.index(max(scores))
    return solve


def _shared(option, options):
    others = {t for o in options if o != option for t in _tokens(o)}
    return sum(t in others for t in _tokens(option))


ABSOLUTE = re.compile(r"\b(only|always|never|all|none|no|exactly|whatever|every)\b|只|总是|从不|所有|完全|恰好|一定|根本")

SOLVERS = {
    **{f"option {k + 1}": (lambda k: lambda options: min(k, len(options) - 1))(k) for k in range(4)},
    "last option": lambda options: len(options) - 1,
    "longest": _by(lambda o, _: width(o)),
    "shortest": _by(lambda o, _: -width(o)),
    "most words shared with the others": _by(_shared),
    "fewest words shared with the others": _by(lambda o, options: -_shared(o, options)),
    "no absolute words": _by(lambda o, _: not ABSOLUTE.search(o.lower())),
    # These two only guess values (None: not a question of values).
    "middle value": lambda options: (sorted(range(len(options)), key=lambda i: _numbers(options)[i])[
        (len(options) - 1) // 2] if _numbers(options) else None),
    "value farthest from the others": lambda options: (_by(
        lambda o, options: sum(abs(float(o) - v) for v in _numbers(options)))(options) if _numbers(options) else None),
}


def _p_at_least(hits: int, chances: list[float]) -> float:
    """P(at least ``hits`` right) for a guesser right with probability ``chances[i]`` on question i."""
    dist = [1.0]
    for p in chances:
        dist = [a * (1 - p) + b * p for a, b in zip(dist + [0.0], [0.0] + dist)]
    return sum(dist[hits:])


@pytest.mark.parametrize("questions", COUNTS)
@pytest.mark.parametrize("lang", LANGS)
def test_options_alone_give_the_answer_away_no_more_than_chance(banks, lang, questions):
    """Each solver sees only a question's options (their texts and order), never the
    question or the key. Over the exported quizzes it must not beat random guessing
    significantly: the chance of guessing at least as many right must stay above 5%."""
    items = [item for _, item in exported(banks, lang, questions)]
    beaten = {}
    for name, solve in SOLVERS.items():
        hits, chances = 0, []
        for item in items:
            pick = solve([o["answerText"] for o in item["answerOptions"]])
            if pick is not None:
                hits += item["answerOptions"][pick]["isCorrect"]
                chances.append(1 / len(item["answerOptions"]))
        p = _p_at_least(hits, chances)
        print(f"{lang} {questions or 'all'}: {name}: {hits} of {len(chances)} (chance {sum(chances):.1f}), p = {p:.3f}")
        if p < 0.05:
            beaten[name] = f"{hits} of {len(chances)} right (chance: {sum(chances):.1f}), p = {p:.3f}"
    assert not beaten, beaten


def test_the_solvers_find_what_they_look_for():
    """The solvers are not blind: each wins on options built with its giveaway."""
    assert SOLVERS["longest"](["no", "the much longer right one", "neither"]) == 1
    assert SOLVERS["most words shared with the others"](["A", "A + B", "A + C", "B + C"]) == 1
    assert SOLVERS["middle value"](["9", "1", "5"]) == 2
    assert SOLVERS["value farthest from the others"](["10", "11", "12", "160"]) == 3
    assert SOLVERS["no absolute words"](["it is always so", "it may be so"]) == 1
    assert _p_at_least(0, [0.5, 0.5]) == 1 and _p_at_least(2, [0.5, 0.5]) == pytest.approx(0.25)


# -- wiring into a checkout of the app --------------------------------------------------------

@pytest.fixture
def app(tmp_path) -> Path:
    dest = tmp_path / "quiz-app"
    shutil.copytree(MINI_APP, dest)
    return dest


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_app_dir_writes_both_languages_and_wires_zh_once(app, course, banks):
    before = _snapshot(app)
    proc = cli("--course", str(course.path), "quiz", "export", "--format", "quiz-app", "--app-dir", str(app))
    assert proc.returncode == 0, proc.stderr
    after = _snapshot(app)
    translations = "src/assets/translations"
    assert set(after) - set(before) == {f"{translations}/zh/lesson-18.json", f"{translations}/zh/index.js"}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {f"{translations}/en/lesson-18.json", f"{translations}/index.js", "src/App.vue"}
    for lang in LANGS:
        assert json.loads(after[f"{translations}/{lang}/lesson-18.json"]) == export(banks, lang)
    index = after[f"{translations}/index.js"].decode()
    assert "import chineseQuizzes from './zh';" in index
    assert re.search(r"es: spanishQuizzes,\n  zh: chineseQuizzes\n};", index)
    zh = after[f"{translations}/zh/index.js"].decode()
    assert "import zh18 from './lesson-18.json';" in zh and re.search(r"0: zh18\[0\]", zh)
    assert "        <option>es</option>\n        <option>zh</option>\n" in after["src/App.vue"].decode()
    assert after[f"{translations}/en/index.js"] == before[f"{translations}/en/index.js"], "en has lesson 18 already"

    again = cli("--course", str(course.path), "quiz", "export", "--format", "quiz-app", "--app-dir", str(app))
    assert again.returncode == 0 and "up to date" in again.stderr
    assert _snapshot(app) == after, "a second run changes nothing"


def test_app_dir_adds_the_lesson_where_a_language_lacks_it(app, banks):
    translations = app / "src/assets/translations"
    (translations / "en/index.js").write_bytes(
        b'import x17 from "./lesson-17.json";\r\nconst quiz = { 0 : x17[0] };\r\nexport default quiz;\r\n')
    (translations / "zh").mkdir()
    (translations / "zh/index.js").write_text("import zh17 from './lesson-17.json';\nconst quiz = {\n  0: zh17[0],\n};\n"
                                              "export default quiz;\n")
    lessons = {lang: lesson_file(banks, lang) for lang in LANGS}
    install(translations, lessons, LESSON)  # the translations folder itself works too
    en = (translations / "en/index.js").read_bytes()
    assert en == (b'import x17 from "./lesson-17.json";\r\nimport en18 from \'./lesson-18.json\';\r\n'
                  b'const quiz = { 0 : x17[0], 1: en18[0] };\r\nexport default quiz;\r\n'), "CRLF kept"
    zh = (translations / "zh/index.js").read_text()
    assert zh == ("import zh17 from './lesson-17.json';\nimport zh18 from './lesson-18.json';\n"
                  "const quiz = {\n  0: zh17[0],\n  1: zh18[0]\n};\nexport default quiz;\n")
    snapshot = _snapshot(app)
    assert install(app, lessons, LESSON) == [] and _snapshot(app) == snapshot


def test_app_dir_leaves_an_unknown_checkout_untouched_and_says_why(app, banks, tmp_path):
    lessons = {lang: lesson_file(banks, lang) for lang in LANGS}
    with pytest.raises(CourseError, match=r"not a checkout of the curriculum's quiz app.*Fix: pass the app's folder"):
        install(tmp_path / "elsewhere", lessons, LESSON)
    vue = app / "src/App.vue"
    vue.write_text(vue.read_text().replace('v-model="locale"', 'v-model="language"'))
    before = _snapshot(app)
    with pytest.raises(CourseError, match=r"App.vue: has no language select.*Fix: add <option>en</option>"):
        install(app, lessons, LESSON)
    assert _snapshot(app) == before, "nothing is written when one file cannot be wired"


# -- the bank's [questions.app] table -----------------------------------------------------------

def _bank(question: dict) -> dict:
    base = {"id": "pre-x", "type": "multiple", "section": "attention", "prompt": {"en": "P", "zh": "题"},
            "options": {"en": ["a", "b", "c"], "zh": ["甲", "乙", "丙"]}, "answer": [0, 1],
            "explanation": {"en": "E", "zh": "解"}}
    base.update(question)
    return {"quiz": {"id": 118, "kind": "pre", "title": {"en": "T", "zh": "标题"}}, "questions": [base]}


@pytest.mark.parametrize("changes, message", [
    (dict(app={"keep": 2}), r"keep = 2 is not one of the correct options"),
    (dict(app={"options": {"en": ["a"], "zh": ["甲"]}}), r"options must give 3 non-empty texts"),
    (dict(app={"distractors": [1, 2]}), r"distractors are only for numeric questions"),
    (dict(app={"colour": "red"}), r"unknown key 'colour'"),
])
def test_app_table_mistakes_name_file_question_and_fix(tmp_path, changes, message):
    path = tmp_path / "pre.toml"
    with pytest.raises(CourseError, match=message) as info:
        parse_bank(_bank(changes), path, COURSE.quiz("pre"))
    assert str(path) in str(info.value) and "question 'pre-x' app" in str(info.value) and "Fix:" in str(info.value)


@pytest.mark.parametrize("question, message", [
    (dict(), r"'pre-x' \(en\): a multiple-answer question .*Fix: add \[questions.app\] with prompt"),
    (dict(type="numeric", options=None, answer=35, app={"prompt": {"en": "Which?", "zh": "哪个？"},
                                                        "distractors": [12, 24.5]}),
     r"the distractor 24.5 is not a whole number like the answer 35"),
    (dict(type="single", answer=0, prompt={"en": "What is d_model?", "zh": "d_model 是多少？"}),
     r"d_model would show its markup as typed"),
    (dict(type="single", answer=0, options={"en": ["a" * 81, "b"], "zh": ["甲", "乙"]}),
     r"is 81 columns wide, more than 80"),
])
def test_questions_the_app_cannot_show_are_errors(tmp_path, question, message):
    raw = _bank(question)
    if raw["questions"][0]["options"] is None:
        del raw["questions"][0]["options"]
    bank = parse_bank(raw, tmp_path / "pre.toml", COURSE.quiz("pre"))
    with pytest.raises(CourseError, match=message):
        to_quiz_app([bank], "en", None, title="T")


def test_gift_ignores_the_app_wording(banks):
    gift = to_gift(list(banks.values()), "en")
    multiple = next(q for q in banks["post"].questions if q.type == "multiple" and q.app and q.app.options)
    assert multiple.app.prompt["en"].split("?")[0] not in gift.replace("\\", "")
    assert multiple.prompt["en"].split("?")[0] in gift.replace("\\", "")


def test_students_copies_leave_the_app_table_out(banks):
    from coursepack.quiz.publish import student_copy
    for kind, bank in banks.items():
        text = student_copy(bank, feedback=kind == "pre")
        assert all("app" not in q for q in json.loads(text)["questions"])
        for q in bank.questions:  # keep names a correct option of a multiple-answer question
            if q.app and q.app.prompt:
                assert q.app.prompt["en"] not in text


def test_another_lesson_needs_only_course_data(course_copy, app):
    """The lesson's number, its quizzes' ids, its sections and the app's title are course
    data: changed in course.toml (and the banks, which must agree), the export follows."""
    path = course_copy / "course.toml"
    text = path.read_text()
    for old, new in [("number = 18 ", "number = 19 "), ("id = 118 ", "id = 119 "), ("id = 218\n", "id = 219\n"),
                     ('en = "Attention mechanisms and Transformers: quizzes"', 'en = "Another lesson: quizzes"'),
                     ('variants = "', 'beyond-bert = "')]:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text)
    for kind, old, new in (("pre", 118, 119), ("post", 218, 219)):
        bank = course_copy / "quizzes" / f"{kind}.toml"
        bank.write_text(bank.read_text().replace(f"id = {old}\n", f"id = {new}\n", 1)
                        .replace('section = "variants"', 'section = "beyond-bert"'))
    proc = cli("--course", str(path), "quiz", "validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = cli("--course", str(path), "quiz", "export", "--format", "quiz-app", "--app-dir", str(app))
    assert proc.returncode == 0, proc.stderr
    translations = app / "src" / "assets" / "translations"
    for lang in LANGS:
        (top,) = json.loads((translations / lang / "lesson-19.json").read_text())
        assert [quiz["id"] for quiz in top["quizzes"]] == [119, 219]
    assert top["title"] == COURSE.lesson.quiz_app_title["zh"]
    assert json.loads((translations / "en" / "lesson-19.json").read_text())[0]["title"] == "Another lesson: quizzes"
    assert "import zh19 from './lesson-19.json';" in (translations / "zh" / "index.js").read_text()

"""Which questions of a bank go into the quiz app, when it shows only a few.

The curriculum's quiz app as shipped shows 3 questions per quiz (its ``Quiz.vue`` says
"always 3 questions per quiz" and stops counting there), so an export writes a fixed
number N of each bank's questions, chosen once for everyone:

1. one question for each of the curriculum's ideas of that quiz (the ideas its own
   three questions test: ``curriculum`` of the quiz in course.toml), each from a lesson
   section not yet covered where possible;
2. then one question from each lesson section not covered yet, in the lesson's order
   (``[lesson.sections]`` of course.toml);
3. then the remaining questions, in the bank's order.

Within each step, questions that are single clicks by nature come first (single
choice, then true/false), then numeric ones, then multiple-answer ones, which lose the
most when reduced to one click. The chosen questions keep the bank's order, which
follows the lesson.
"""

from __future__ import annotations

from coursepack.quiz.bank import Bank, Question

NATURE = {"single": 0, "truefalse": 1, "numeric": 2, "multiple": 3}


def select(bank: Bank, count: int | None) -> list[Question]:
    """``count`` questions of ``bank`` (all of them for ``None``), in the bank's order."""
    if count is None or count >= len(bank.questions):
        return list(bank.questions)
    order = {q.id: i for i, q in enumerate(bank.questions)}
    chosen: list[Question] = []

    def best(candidates: list[Question]) -> Question | None:
        covered = {q.section for q in chosen}
        fresh = [q for q in candidates if q not in chosen]
        fresh.sort(key=lambda q: (q.section in covered, NATURE[q.type], order[q.id]))
        return fresh[0] if fresh else None

    for idea in bank.curriculum:
        pick = best([q for q in bank.questions if q.curriculum == idea])
        if pick and len(chosen) < count:
            chosen.append(pick)
    for section in bank.sections:
        if section not in {q.section for q in chosen} and len(chosen) < count:
            pick = best([q for q in bank.questions if q.section == section])
            if pick:
                chosen.append(pick)
    while len(chosen) < count:
        chosen.append(best(list(bank.questions)))
    return sorted(chosen, key=lambda q: order[q.id])

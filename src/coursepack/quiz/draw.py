"""The questions a student gets: a seeded, per-student draw from the bank's pool.

The same student always gets the same questions in the same order with the same
option order, so a quiz can be interrupted and resumed, and two students rarely see the
same sheet. The draw always contains at least one question for each of the
curriculum's ideas (when the bank has them), then fills up at random.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from coursepack.quiz.bank import Bank, Question


@dataclass(frozen=True)
class Drawn:
    question: Question
    order: tuple[int, ...]      # display position -> original option index

    def options(self, lang: str) -> list[str]:
        if self.question.type == "truefalse":
            return {"en": ["True", "False"], "zh": ["正确", "错误"]}[lang]
        return [self.question.options[lang][i] for i in self.order]


def draw(bank: Bank, student: str, count: int) -> list[Drawn]:
    digest = hashlib.sha256(f"{bank.id}:{student}".encode("utf-8")).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    pool = list(bank.questions)
    count = min(count, len(pool))
    chosen: list[Question] = []
    for idea in bank.curriculum:
        candidates = [q for q in pool if q.curriculum == idea and q not in chosen]
        if candidates and len(chosen) < count:
            chosen.append(rng.choice(candidates))
    rest = [q for q in pool if q not in chosen]
    chosen += rng.sample(rest, count - len(chosen))
    rng.shuffle(chosen)
    drawn = []
    for q in chosen:
        order = list(range(q.option_count))
        if q.type in ("single", "multiple"):
            rng.shuffle(order)
        drawn.append(Drawn(q, tuple(order)))
    return drawn

"""``course plot``: one kind of plot (or all), drawn from the student's code.

:func:`make_plots` asks :mod:`.data` for the arrays (the student's code runs in the
worker), writes each figure with :mod:`.figures`, and returns one :class:`Drawn` per
kind: the PNG, a short text summary, the seconds it took, and a terminal heat map; or,
when the student's part is not written yet, the reason (never a traceback).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from rich.text import Text

from coursepack.course.config import Course
from coursepack.plots import figures, terminal
from coursepack.plots.data import NotReady, PlotData



@dataclass
class Drawn:
    kind: str
    framework: str
    path: Path | None = None         # the PNG, when drawn
    summary: str = ""                # what the picture shows, in a sentence or two
    problem: str = ""                # why there is no picture
    seconds: float = 0.0
    heat_map: object = field(default=None, repr=False)  # a rich renderable for the terminal


def _alignment(data: PlotData, out: Path, checkpoint: str) -> Drawn:
    result = data.alignment()
    path = figures.save(figures.alignment_figure(result), out / "alignment.png")
    summary = (f"{result.alignment_accuracy:.0%} of the output words (</s> aside) look most at the source word "
               f"they translate; the model writes {result.word_accuracy:.0%} of the held-out words right "
               f"(loss {result.losses[0]:.2f} -> {result.losses[-1]:.3f} in {len(result.losses)} steps).")
    heat = terminal.heat_map(result.weights[0], result.outputs[0], result.sources[0],
                             "alignment: rows = words written, columns = source words")
    return Drawn("alignment", data.framework, path, summary, heat_map=heat)


def _attention(data: PlotData, out: Path, checkpoint: str) -> Drawn:
    result = data.attention(checkpoint)
    path = figures.save(figures.attention_figure(result), out / "attention.png")
    tokens = result.tokens[0]
    t = len(tokens)
    maps = result.maps[0]
    focus = ", ".join(f"layer {layer} head {head} -> mostly {tokens[int(maps[layer, head, :t, :t].sum(0).argmax())]!r}"
                      for layer in range(maps.shape[0]) for head in range(maps.shape[1]))
    weights = "your pretrained weights" if checkpoint == "student" else "the course's reference weights"
    summary = f"MiniBert with {weights} on {' '.join(tokens)!r}: {focus}."
    heat = terminal.heat_map(maps[0, 0, :t, :t], tokens, tokens, f"attention, layer 0 head 0 ({weights})")
    return Drawn("attention", data.framework, path, summary, heat_map=heat)


def _positional(data: PlotData, out: Path, checkpoint: str) -> Drawn:
    # checkpoint "none": the sinusoidal table alone, without pretraining a MiniBert first
    # (the notebook's cell at the sinusoidal task, long before pretraining is written).
    result = data.positional(with_learned=checkpoint != "none")
    path = figures.save(figures.positional_figure(result), out / "positional.png")
    sim = figures.similarity(result.sinusoidal)
    summary = (f"sinusoidal: similarity falls with distance (next position {sim[10, 11]:.2f}, 5 apart "
               f"{sim[10, 15]:.2f}, 20 apart {sim[10, 30]:.2f}), the same for every starting position. "
               + (f"Learned: {result.learned_note}." if result.learned is not None else result.learned_note + "."))
    heat = terminal.heat_map(sim[:16, :16], [str(i) for i in range(16)], [str(i) for i in range(16)],
                             "similarity of sinusoidal positions 0-15", vmin=-1.0)
    return Drawn("positional", data.framework, path, summary, heat_map=heat)


def _pretraining(data: PlotData, out: Path, checkpoint: str) -> Drawn:
    run = data.pretraining().experiment
    path = figures.save(figures.pretraining_figure(data.pretraining()), out / "pretraining.png")
    summary = (f"MLM loss {run.loss_start:.2f} -> {run.loss_end:.2f}; masked-token accuracy {run.mlm_accuracy:.2f} "
               f"(unigram baseline {run.unigram_accuracy:.2f}); topic accuracy pretrained "
               f"{run.pretrained_accuracy:.2f}, scratch {run.scratch_accuracy:.2f}, chance {run.chance_accuracy:.2f}.")
    return Drawn("pretraining", data.framework, path, summary)


_DRAW = {"alignment": _alignment, "attention": _attention, "positional": _positional,
         "pretraining": _pretraining}


def make_plots(course: Course, submission: Path, framework: str, kinds: tuple[str, ...], out: Path,
               checkpoint: str = "student", on_done=None, hide: tuple[Path, ...] = (),
               pool: dict | None = None) -> list[Drawn]:
    """Draw ``kinds`` for one track of ``submission`` into ``out`` (PNG files).

    ``on_done(drawn)`` hears about each kind as soon as it is finished; ``hide`` adds
    folders the worker must not see, as in grading; ``pool`` (framework -> Worker) lends
    a warm worker, e.g. the one that just checked the submission, and keeps it.
    """
    out = Path(out)
    data = PlotData(course, submission, framework, fine_tune_too="pretraining" in kinds, hide=tuple(hide), pool=pool)
    drawn = []
    try:
        for kind in kinds:
            began = time.monotonic()
            try:
                item = _DRAW[kind](data, out / framework, checkpoint)
            except NotReady as why:
                item = Drawn(kind, framework, problem=str(why))
            item.seconds = round(time.monotonic() - began, 1)
            drawn.append(item)
            if on_done:
                on_done(item)
    finally:
        data.close()
    return drawn


def show(item: Drawn, console, heat_maps: bool) -> None:
    """Print one kind's result: where the PNG is and what it shows, or why there is none."""
    head = f"{item.kind} ({item.framework}, {item.seconds:.1f} s)"
    if item.problem:
        console.print(Text(f"{head}: no plot: {item.problem}", style="yellow"))
        return
    console.print(Text(f"{head}: {item.path}", style="bold"))
    console.print(Text(item.summary))
    if heat_maps and item.heat_map is not None:
        console.print(item.heat_map)
    console.print()

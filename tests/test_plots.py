"""`course plot`: the data comes from the (reference) code in the worker and means what the
pictures say; stubs get a message, never a traceback; figures and terminal maps are drawn."""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from coursepack.cli import main
from coursepack.testing import toyeval
from coursepack.testing import layouts
from coursepack.plots import data as plot_data
from coursepack.plots import figures, terminal, toytask
from coursepack.plots.data import PlotData
from coursepack.plots.run import make_plots


@pytest.fixture(scope="module")
def reference(course):
    """The reference solution's plot data (PyTorch), computed once for the module."""
    data = PlotData(course, course.solutions, "torch")
    yield data
    data.close()


def test_toy_task_alignment_names_the_word_each_output_translates():
    pairs = toytask.make_pairs(300, seed=3)
    moved = 0
    for row in range(len(pairs.src)):
        source, target = pairs.source_tokens(row), pairs.target_tokens(row)
        order = pairs.alignment[row][: len(target)]
        assert [toytask.TRANSLATION[source[p]] for p in order] == target
        assert sorted(order) == list(range(len(source)))  # a permutation of the source
        moved += list(order) != list(range(len(source)))
    assert moved == len(pairs.src)  # never the plain diagonal
    assert len({tuple(a) for a in pairs.alignment}) > 2  # and not one fixed order either


def test_reference_alignment_follows_the_reordering(reference):
    result = reference.alignment()
    assert result.alignment_accuracy >= 0.9
    assert result.word_accuracy >= 0.95
    for sources, outputs, weights in zip(result.sources, result.outputs, result.weights):
        assert weights.shape == (len(outputs), len(sources))
        assert np.allclose(weights.sum(-1), 1.0, atol=1e-4)
        # each word written looks most at the source word it is the translation of
        looked_at = [sources[j] for j in weights.argmax(-1)]
        hits = [toytask.TRANSLATION[src] == out for src, out in zip(looked_at, outputs) if out != toytask.EOS]
        assert np.mean(hits) >= 0.75, (sources, outputs, looked_at)


def test_causal_maps_are_lower_triangular_and_the_encoder_s_are_not(reference):
    result = reference.attention("student")
    t = result.maps.shape[-1]
    upper = np.triu(np.ones((t, t), dtype=bool), k=1)
    assert np.all(result.causal[..., upper] == 0)
    assert np.all(result.maps[..., upper].max(axis=-1) > 0)  # bidirectional: it does look ahead
    for row, tokens in enumerate(result.tokens):
        n = len(tokens)
        assert np.allclose(result.causal[row, :, :n, :n].sum(-1), 1.0, atol=1e-4)


def test_sinusoidal_similarity_depends_only_on_the_distance(reference):
    table = reference.positional(with_learned=False).sinusoidal
    dots = table @ table.T
    for distance in range(0, 20):
        diagonal = np.diagonal(dots, offset=distance)
        assert np.ptp(diagonal) < 1e-4, distance
    sim = figures.similarity(table)
    assert sim[10, 11] > sim[10, 15] > sim[10, 30]  # nearer positions are more alike


def test_reference_checkpoint_is_a_pretrained_mini_bert(course, reference):
    weights = plot_data.reference_checkpoint()
    toylang = reference._toylang()
    config = toyeval.model_config(toylang)
    shapes = layouts.mini_bert(config["vocab_size"], config["max_len"], config["d_model"], config["d_ff"],
                               config["num_layers"], num_classes=config["num_classes"])
    assert {k: v.shape for k, v in weights.items()} == shapes
    # loaded into the reference MiniBert, it guesses held-out masked words well above the baseline
    masked, labels = toyeval.masked_eval_set(toylang, 300, seed=123)
    out = reference._run("mini_bert", build=reference._bert_build(toylang, "eval"),
                         steps=[{"call": "model", "args": {"input_ids": "@ids", "key_mask": "@mask"}, "save": "h"},
                                {"call": "model.mlm_logits", "args": {"hidden": "$h"}, "save": "logits"}],
                         returns={"logits": "logits"},
                         arrays={"ids": masked, "mask": masked != toylang.PAD_ID,
                                 **{f"w:{k}": v for k, v in weights.items()}})
    accuracy = toyeval.masked_accuracy(out["logits"], labels)
    corpus = toylang.make_corpus(toyeval.N_CORPUS, seed=plot_data.DATA_SEED)[0]
    assert accuracy >= toylang.unigram_baseline(corpus, labels) + 0.1
    maps = reference.attention("reference")
    assert maps.weights_used == "reference" and maps.maps.shape[:3] == (3, 1, 2)


def test_stubs_say_not_implemented_and_name_the_task(course, tmp_path):
    drawn = make_plots(course, course.assignments, "torch", ("alignment", "positional"), tmp_path)
    by_kind = {d.kind: d for d in drawn}
    for kind, task in (("alignment", "additive"), ("positional", "sinusoidal")):
        item = by_kind[kind]
        assert item.path is None
        assert "not implemented yet" in item.problem and f"task {task}" in item.problem, item.problem
        assert "Traceback" not in item.problem
    assert not list(tmp_path.rglob("*.png"))


def test_cli_plot_on_stubs_prints_the_reason_and_no_traceback(course):
    result = CliRunner().invoke(main, ["--course", str(course.path), "plot", "positional", "--framework", "torch",
                                       "--out", "unused"])
    assert result.exit_code == 0, result.output
    assert "positional (torch" in result.output and "not implemented yet" in result.output
    assert "needs task sinusoidal first" in result.output
    assert "Traceback" not in result.output


def test_cli_plot_writes_png_and_summary(course, tmp_path):
    result = CliRunner().invoke(main, ["--course", str(course.path), "plot", "positional", "--framework", "torch",
                                       "--path", str(course.solutions), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    png = tmp_path / "torch" / "positional.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "similarity falls with distance" in result.output


def test_figures_are_not_blank(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    fake = plot_data.Alignment(sources=[["a", "b", "</s>"]], outputs=[["B", "A", "</s>"]],
                               weights=[rng.dirichlet(np.ones(3), 3)], right_outputs=[["B", "A", "</s>"]],
                               word_accuracy=1.0, alignment_accuracy=1.0, losses=np.ones(3))
    path = figures.save(figures.alignment_figure(fake), tmp_path / "a.png")
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert pixels.shape[0] > 100 and pixels.std() > 20


def test_terminal_heat_map_colours_each_cell():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=80)
    console.print(terminal.heat_map(np.array([[1.0, 0.0], [0.0, 1.0]]), ["x", "y"], ["p", "q"], "title"))
    text = out.getvalue()
    assert text.count("\x1b[48;2;") == 4  # one background colour per weight
    assert "columns: 0 p  1 q" in text

"""The numbers behind the plots, computed by the student's code in the sandboxed worker.

Nothing here imports the submission: every array comes back from the worker, as in
grading (see :mod:`coursepack.testing`), and is checked for its shape and for NaN
before anything is drawn. The small models the plots need around the student's
modules (the encoder-decoder of the alignment plot, the probe that reads each block's
attention weights) are the course's own files in ``inworker/``, copied into the worker
beside the submission like ``toylang.py``.

A part that is not written yet gives :class:`NotReady` with the usual "not implemented
yet" message naming the task; nothing here changes a grade.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from coursepack.testing import toyeval
from coursepack.testing import layouts
from coursepack.course.config import Course
from coursepack.testing.diagnose import GradingFailure
from coursepack.judge.session import GradingSession
from coursepack.testing import Judge
from coursepack.plots import toytask

HELPER = {"torch": "course_plots_torch", "tf": "course_plots_tf"}
REFERENCE_CHECKPOINT = "reference_minibert.npz"  # package data, in weights/
CHECKPOINTS = ("student", "reference")

# The alignment experiment: small enough to train in seconds on one CPU core.
ALIGN = dict(embed=24, hidden=32, steps=80, batch_size=64, lr=0.02)
ALIGN_TRAIN, ALIGN_SHOWN, ALIGN_SEED = 2000, 4, 0
ATTENTION_SENTENCES = 3  # toylang sentences in the attention plot
PLOT_TIME_LIMIT = 60.0  # seconds: the least time limit of a plot's call (see PlotData._judge)
DATA_SEED = 7


class NotReady(Exception):
    """A plot cannot be drawn from this submission; the message says why, for the student."""


class PlotSession(GradingSession):
    """A check-mode session whose workers also get the course's plot helpers."""

    def worker_files(self, framework: str) -> dict[str, Path]:
        files = super().worker_files(framework)
        name = f"{HELPER[framework]}.py"
        files[name] = Path(str(resources.files("coursepack.plots") / "inworker" / name))
        return files


@dataclass
class Alignment:
    """Alignment matrices of held-out sentences, from the tiny encoder-decoder."""

    sources: list[list[str]]        # the source words of each sentence (with </s>)
    outputs: list[list[str]]        # what the trained model wrote (up to and with </s>)
    weights: list[np.ndarray]       # (len(outputs[i]), len(sources[i])) per sentence
    right_outputs: list[list[str]]  # the correct translation
    word_accuracy: float            # outputs right, over every held-out sentence
    alignment_accuracy: float       # target words (</s> aside) whose largest weight is on their source word
    losses: np.ndarray


@dataclass
class Attention:
    """Attention weights of MiniBert on a few toylang sentences."""

    tokens: list[list[str]]         # the tokens of each sentence (no padding)
    maps: np.ndarray                # (sentences, layers, heads, T, T), T = MAX_LEN
    causal: np.ndarray              # (sentences, heads, T, T): the first block with causal=True
    weights_used: str               # "student" or "reference"


@dataclass
class Positional:
    sinusoidal: np.ndarray                 # (max_len, d_model), the student's table
    learned: np.ndarray | None = None      # (max_len, d_model) after pretraining, when available
    learned_note: str = ""                 # why there is no learned table, or which weights it is


@dataclass
class Pretraining:
    experiment: toyeval.Experiment


@dataclass
class PlotData:
    """Runs the student's code in the worker and keeps what came back (one run per kind)."""

    course: Course
    submission: Path
    framework: str
    fine_tune_too: bool = False  # pretraining will be plotted: fine-tune in the same run
    hide: tuple[Path, ...] = ()  # more folders the worker must not see (a class's other submissions)
    pool: dict | None = None  # warm workers to use and keep (framework -> Worker), as in grading

    def __post_init__(self):
        # The worker sees what it sees in grading: the submission's copy, nothing of the course.
        submission = Path(self.submission).resolve()
        hide = [self.course.root, Path(tempfile.gettempdir()), submission.parent, *self.hide]
        self.session = PlotSession(self.course, submission, (self.framework,), "check", hide=hide, pool=self.pool)
        self._bundle: dict | None = None

    def close(self) -> None:
        self.session.close()

    def _judge(self, task: str) -> Judge:
        # A plot trains a small model in one call, more work than one test's call: it gets
        # the task's limit, but never less than PLOT_TIME_LIMIT (an endless loop still ends).
        return Judge(self.session, self.framework, "public", max(self.course.task(task).time_limit, PLOT_TIME_LIMIT))

    def _run(self, task: str, **request) -> dict[str, np.ndarray]:
        try:
            return self._judge(task).run(**request)
        except GradingFailure as failure:
            raise NotReady(str(failure)) from None

    def target(self, name: str) -> str:
        return self.session.target(name, self.framework)

    def helper(self, name: str) -> str:
        return f"{HELPER[self.framework]}:{name}"

    # -- alignment -------------------------------------------------------------
    def alignment(self) -> Alignment:
        train = toytask.make_pairs(ALIGN_TRAIN, seed=ALIGN_SEED)
        test = toytask.make_pairs(200, seed=ALIGN_SEED + 1)
        key_dim = ALIGN["embed"] + 2 * ALIGN["hidden"]
        out = self._run(
            "additive",
            build={"target": self.target("AdditiveAttention"), "mode": "train",
                   "kwargs": {"query_dim": ALIGN["hidden"], "key_dim": key_dim, "hidden_dim": ALIGN["hidden"]}},
            steps=[{"call": self.helper("train_alignment"), "save": "out", "args": {
                "attention": "$model", "src": "@src", "src_mask": "@src_mask", "tgt_in": "@tgt_in",
                "tgt_out": "@tgt_out", "test_src": "@test_src", "test_mask": "@test_mask",
                "src_vocab": len(toytask.SOURCE_WORDS), "tgt_vocab": len(toytask.TARGET_WORDS),
                "bos": toytask.TARGET_ID[toytask.BOS], "max_out": toytask.MAX_TARGET, **ALIGN}}],
            returns={"weights": "out.0", "predictions": "out.1", "losses": "out.2"},
            arrays={"src": train.src, "src_mask": train.src_mask, "tgt_in": train.tgt_in,
                    "tgt_out": train.tgt_out, "test_src": test.src, "test_mask": test.src_mask},
            seed=ALIGN_SEED)
        n = len(test.src)
        weights = _checked(out["weights"], (n, toytask.MAX_TARGET, toytask.MAX_SOURCE), "the alignment weights "
                           "AdditiveAttention returned")
        predictions = np.asarray(out["predictions"]).astype(np.int64)
        real = test.tgt_out >= 0
        words = real & (test.tgt_out != toytask.TARGET_ID[toytask.EOS])
        result = Alignment([], [], [], [], word_accuracy=float((predictions == test.tgt_out)[real].mean()),
                           alignment_accuracy=float((weights.argmax(-1) == test.alignment)[words].mean()),
                           losses=np.asarray(out["losses"], dtype=np.float64))
        for row in range(ALIGN_SHOWN):
            written = [toytask.TARGET_WORDS[i] if 0 <= i < len(toytask.TARGET_WORDS) else "?"
                       for i in predictions[row]]
            if toytask.EOS in written:
                written = written[:written.index(toytask.EOS) + 1]
            length = int(test.src_mask[row].sum())
            result.sources.append(test.source_tokens(row))
            result.outputs.append(written)
            result.right_outputs.append(test.target_tokens(row))
            result.weights.append(weights[row, :len(written), :length])
        return result

    # -- MiniBert: pretraining, attention maps, learned positions ----------------
    def _toylang(self):
        return self.session.shared_module("toylang")

    def examples(self) -> np.ndarray:
        return self._toylang().make_corpus(ATTENTION_SENTENCES, seed=DATA_SEED + 10)[0]

    def pretrained(self, finetune: bool) -> dict[str, np.ndarray]:
        """One worker call: the student's pretraining, then everything read from the model.

        Kept for the other kinds of this run (``course plot all`` pretrains once).
        """
        if self._bundle is not None and (not finetune or "class_logits" in self._bundle):
            return self._bundle
        finetune = finetune or self.fine_tune_too
        toylang = self._toylang()
        corpus = toylang.make_corpus(toyeval.N_CORPUS, seed=DATA_SEED)[0]
        masked, labels = toyeval.masked_eval_set(toylang, toyeval.N_MASKED_EVAL, seed=DATA_SEED + 1)
        examples = self.examples()
        arrays = {"corpus": corpus, "masked": masked, "masked_mask": masked != toylang.PAD_ID,
                  "examples": examples, "examples_mask": examples != toylang.PAD_ID}
        steps = [{"call": self.target("pretrain_mlm"), "save": "losses",
                  "args": {"model": "$model", "corpus_ids": "@corpus", "seed": DATA_SEED, **toyeval.PRETRAIN}},
                 {"mode": "eval"},
                 {"call": "model", "args": {"input_ids": "@masked", "key_mask": "@masked_mask"}, "save": "hidden"},
                 {"call": "model.mlm_logits", "args": {"hidden": "$hidden"}, "save": "mlm_logits"},
                 *self._probe_steps()]
        returns = {"losses": "losses", "mlm_logits": "mlm_logits", **self._probe_returns()}
        finetune_steps, classification, test_labels = self._finetune_steps(toylang)
        if finetune:
            steps += finetune_steps
            arrays.update(classification)
            returns["class_logits"] = "class_logits"
        out = self._run("pretraining", build=self._bert_build(toylang, "train"), steps=steps, returns=returns,
                        arrays=arrays, seed=DATA_SEED)
        losses = np.asarray(out["losses"], dtype=np.float64).reshape(-1)
        if losses.shape != (toyeval.PRETRAIN["steps"],) or not np.all(np.isfinite(losses)):
            raise NotReady(f"pretrain_mlm must return one finite loss per step ({toyeval.PRETRAIN['steps']} "
                           f"floats), got {losses.size} values{'' if np.all(np.isfinite(losses)) else ' with NaN'}")
        out["losses"] = losses
        out["unigram"] = np.float64(toylang.unigram_baseline(corpus, labels))
        out["mlm_accuracy"] = np.float64(toyeval.masked_accuracy(
            _checked(out["mlm_logits"], masked.shape + (toylang.VOCAB_SIZE,), "mlm_logits"), labels))
        if finetune:
            scratch = self._run("pretraining", build=self._bert_build(toylang, "train"), steps=finetune_steps,
                                returns={"class_logits": "class_logits"}, arrays=classification, seed=DATA_SEED)
            shape = (len(test_labels), toylang.NUM_TOPICS)
            out["pretrained_accuracy"] = np.float64(toyeval.class_accuracy(
                _checked(out["class_logits"], shape, "classify's logits"), test_labels))
            out["scratch_accuracy"] = np.float64(toyeval.class_accuracy(
                _checked(scratch["class_logits"], shape, "classify's logits"), test_labels))
        self._bundle = out
        return out

    def _bert_build(self, toylang, mode: str) -> dict:
        return {"target": self.target("MiniBert"), "kwargs": toyeval.model_config(toylang), "mode": mode}

    def _probe_steps(self) -> list[dict]:
        return [{"call": self.helper("bert_attention"), "save": "probe",
                 "args": {"model": "$model", "input_ids": "@examples", "key_mask": "@examples_mask"}},
                {"call": self.helper("position_table"), "args": {"model": "$model"}, "save": "positions"}]

    @staticmethod
    def _probe_returns() -> dict[str, str]:
        return {"maps": "probe.0", "causal": "probe.1", "positions": "positions"}

    def _finetune_steps(self, toylang) -> tuple[list[dict], dict, np.ndarray]:
        """Fine-tuning steps, their arrays, and the test labels (which stay in this process)."""
        train_ids, train_labels, test_ids, test_labels = toylang.make_classification_split(
            toyeval.N_TRAIN_PER_CLASS, toyeval.N_TEST, seed=DATA_SEED + 2)
        steps = [{"call": self.target("finetune_classifier"),
                  "args": {"model": "$model", "ids": "@train_ids", "labels": "@train_labels", "seed": DATA_SEED,
                           **toyeval.FINETUNE}},
                 {"mode": "eval"},
                 {"call": "model", "args": {"input_ids": "@test_ids", "key_mask": "@test_mask"}, "save": "test_hidden"},
                 {"call": "model.classify", "args": {"hidden": "$test_hidden"}, "save": "class_logits"}]
        arrays = {"train_ids": train_ids, "train_labels": train_labels, "test_ids": test_ids,
                  "test_mask": test_ids != toylang.PAD_ID}
        return steps, arrays, test_labels

    def with_reference_weights(self) -> dict[str, np.ndarray]:
        """The student's MiniBert with the course's pretrained reference weights loaded."""
        toylang = self._toylang()
        examples = self.examples()
        weights = reference_checkpoint()
        return self._run("mini_bert", build=self._bert_build(toylang, "eval"), steps=self._probe_steps(),
                         returns=self._probe_returns(),
                         arrays={"examples": examples, "examples_mask": examples != toylang.PAD_ID,
                                 **{f"w:{k}": v for k, v in weights.items()}}, seed=DATA_SEED)

    def attention(self, checkpoint: str = "student") -> Attention:
        if checkpoint not in CHECKPOINTS:
            raise NotReady(f"--checkpoint must be one of {', '.join(CHECKPOINTS)}, not {checkpoint!r}")
        out = self.pretrained(finetune=False) if checkpoint == "student" else self.with_reference_weights()
        toylang = self._toylang()
        examples = self.examples()
        config = toyeval.model_config(toylang)
        n, t = examples.shape
        maps = _checked(out["maps"], (n, config["num_layers"], config["num_heads"], t, t), "the attention weights")
        causal = _checked(out["causal"], (n, config["num_heads"], t, t), "the causal attention weights")
        vocab = toylang.vocabulary()
        tokens = [[vocab[i] for i in row if i != toylang.PAD_ID] for row in examples]
        return Attention(tokens, maps, causal, checkpoint)

    # -- positions -------------------------------------------------------------
    def positional(self, with_learned: bool = True) -> Positional:
        toylang = self._toylang()
        max_len, d_model = 50, 32
        out = self._run("sinusoidal", steps=[{"call": self.target("sinusoidal_encoding"), "save": "out",
                                               "args": {"max_len": max_len, "d_model": d_model}}],
                        returns={"table": "out"}, arrays={})
        result = Positional(_checked(out["table"], (max_len, d_model), "sinusoidal_encoding's table"))
        if not with_learned:
            result.learned_note = "the learned positions come after pretraining (`course plot positional`)"
            return result
        try:
            bundle = self.pretrained(finetune=False)
            config = toyeval.model_config(toylang)
            result.learned = _checked(bundle["positions"], (config["max_len"], config["d_model"]),
                                      "the learned position table")
            result.learned_note = "MiniBert's position_embedding after your pretrain_mlm"
        except NotReady as why:
            result.learned_note = f"no learned positions: {why}"
        return result

    # -- pretraining -------------------------------------------------------------
    def pretraining(self) -> Pretraining:
        out = self.pretrained(finetune=True)
        toylang = self._toylang()
        return Pretraining(toyeval.Experiment(
            losses=out["losses"], mlm_accuracy=float(out["mlm_accuracy"]), unigram_accuracy=float(out["unigram"]),
            pretrained_accuracy=float(out["pretrained_accuracy"]), scratch_accuracy=float(out["scratch_accuracy"]),
            chance_accuracy=1.0 / toylang.NUM_TOPICS))


def _checked(value, shape: tuple, what: str) -> np.ndarray:
    """``value`` as float arrays of ``shape``, or NotReady saying what is wrong."""
    array = np.asarray(value)
    if array.shape != tuple(shape):
        raise NotReady(f"{what} should have shape {tuple(shape)}, got {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise NotReady(f"{what} should be numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise NotReady(f"{what} contain NaN or infinite values")
    return array


def reference_checkpoint() -> dict[str, np.ndarray]:
    """The course's pretrained MiniBert weights (canonical layout, see :mod:`coursepack.testing.layouts`)."""
    path = resources.files("coursepack.plots") / "weights" / REFERENCE_CHECKPOINT
    with resources.as_file(path) as file, np.load(file, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def make_reference_checkpoint(course: Course, out: Path, framework: str = "torch") -> Path:
    """Pretrain the reference solution (``solutions/``) as ``course plot`` does and save its
    weights in the canonical layout: the weights ``--checkpoint reference`` loads."""
    data = PlotData(course, course.solutions, framework)
    try:
        toylang = data._toylang()
        config = toyeval.model_config(toylang)
        names = sorted(layouts.mini_bert(config["vocab_size"], config["max_len"], config["d_model"],
                                         config["d_ff"], config["num_layers"],
                                         num_classes=config["num_classes"]))
        corpus = toylang.make_corpus(toyeval.N_CORPUS, seed=DATA_SEED)[0]
        out_arrays = data._run(
            "pretraining", build=data._bert_build(toylang, "train"),
            steps=[{"call": data.target("pretrain_mlm"), "save": "losses",
                    "args": {"model": "$model", "corpus_ids": "@corpus", "seed": DATA_SEED, **toyeval.PRETRAIN}},
                   {"call": data.helper("canonical_weights"), "args": {"model": "$model", "names": names},
                    "save": "weights"}],
            returns={name: f"weights.{i}" for i, name in enumerate(names)}, arrays={"corpus": corpus},
            seed=DATA_SEED)
    finally:
        data.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **{name: np.asarray(out_arrays[name], dtype=np.float32) for name in names})
    return out


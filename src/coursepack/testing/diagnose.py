"""Compare a submission's arrays with expected ones and explain the difference.

Messages describe shapes, dtypes and the pattern of the error, never the expected
numbers themselves. For a hidden test (``hidden=True``) the hints also leave out the
indices, counts and values they would otherwise name (which positions are off, which head
is which, what the weights sum to): student code could choose its errors from the hidden
inputs and read them back from such a message. They keep the axis and the kind of error.
"""

from __future__ import annotations

import numpy as np

# float32 carries ~7 significant digits. Two correct implementations that sum in a
# different order (einsum vs matmul, fused softmax) differ by a few ulps per reduction;
# over reductions of <= 256 terms of O(1) values that stays below 1e-5 absolute. A real
# mistake (a missing scale, a wrong axis) moves values by 1e-2 or more.
ATOL = 1e-5
RTOL = 1e-4


class GradingFailure(AssertionError):
    """A test failed for a reason that can be shown to the student as is."""


def compare(name: str, got: np.ndarray | None, want: np.ndarray, *,
            atol: float = ATOL, rtol: float = RTOL, hidden: bool = False) -> str | None:
    """None when ``got`` matches ``want``; otherwise a one-paragraph diagnostic."""
    if got is None:
        return f"`{name}` was not returned"
    if type(got) is not np.ndarray:
        return f"`{name}` is not a plain array"
    if got.dtype != want.dtype:
        hint = ""
        if want.dtype == np.float32 and got.dtype == np.float64:
            hint = " (a float64 constant or torch.tensor(..., dtype=float64) in the computation?)"
        return f"`{name}` has dtype {got.dtype}, expected {want.dtype}{hint}"
    if got.shape != want.shape:
        hint = ""
        if sorted(got.shape) == sorted(want.shape):
            hint = " The same sizes in another order: are two axes swapped (a missing transpose)?"
        elif got.size == want.size:
            hint = " Same number of elements: reshaped without the right transpose?"
        return f"`{name}` has shape {got.shape}, expected {want.shape}.{hint}"
    if want.dtype.kind in "fc":
        bad = ~np.isfinite(got) & np.isfinite(want)
        if bad.any():
            return (f"`{name}` contains {int(bad.sum())} NaN/inf value(s) where finite values are "
                    "expected (softmax over a row that is entirely -inf gives NaN: give fully "
                    "masked rows a defined result)")
        close = np.isclose(got, want, atol=atol, rtol=rtol, equal_nan=True)
        if close.all():
            return None
        err = float(np.nanmax(np.abs(got.astype(np.float64) - want)))
        frac = 1.0 - float(close.mean())
        msg = (f"`{name}` differs from the reference: max abs error {err:.3g} "
               f"(tolerance {atol:g} + {rtol:g}*|x|), {frac:.0%} of entries off.")
        hint = _pattern_hint(got, want, atol, rtol, name, hidden)
        return msg + (f" {hint}" if hint else "")
    if np.array_equal(got, want):
        return None
    frac = float((got != want).mean())
    return f"`{name}` differs from the reference in {frac:.0%} of entries"


def _pattern_hint(got: np.ndarray, want: np.ndarray, atol: float, rtol: float, name: str = "",
                  hidden: bool = False) -> str:
    """What the error looks like, in words; "" when no pattern is clear.

    First one hint about the whole array (axes swapped, opposite sign, a scale factor,
    a reference that is zero, slices in another order, weights normalised over the wrong
    axis), then where the error lies (zero where it should not be, which indices).
    """
    def near(a, b):
        return a.shape == b.shape and np.allclose(a, b, atol=10 * atol, rtol=10 * rtol)

    axes = axis_names(name, got.ndim)
    close = np.isclose(got, want, atol=atol, rtol=rtol, equal_nan=True)
    zero_want = bool(np.all(np.abs(want) <= atol))
    hints = []
    if got.ndim >= 2 and got.shape[-1] == got.shape[-2] and near(np.swapaxes(got, -1, -2), want):
        hints.append("It equals the reference with the last two axes swapped.")
    elif near(-got, want) and not zero_want:
        hints.append("It has the opposite sign.")
    elif zero_want:
        what = "gradient" if name.startswith("grad:") else "result"
        hints.append(f"The reference's {what} is zero in every entry (to within the tolerance); yours is not"
                     + (": with a correct computation the output does not depend on this input or parameter."
                        if what == "gradient" else "."))
    else:
        hint = (_scale_hint(got, want, near, hidden) or _permutation_hint(got, want, axes, near, hidden)
                or normalisation_hint(got, want, axes, hidden=hidden))
        if hint:
            hints.append(hint)
    if not zero_want:
        hints.append(_zero_hint(got, want, close, atol, name, hidden))
    hints.append(_where_hint(close, axes, hidden))
    return " ".join(h for h in hints if h)


def axis_names(name: str, ndim: int) -> tuple[str, ...]:
    """What the axes of an output called ``name`` usually hold (for messages only)."""
    if name == "weights" and ndim == 4:
        return ("batch entry", "head", "query", "key")
    if name == "weights" and ndim == 3:
        return ("batch entry", "query", "key")
    if ndim == 4:
        return ("batch entry", "head", "position", "feature")
    if ndim == 3:
        return ("batch entry", "position", "feature")
    if ndim == 2:
        return ("row", "column")
    return tuple(f"entry along axis {axis}" for axis in range(ndim))


def _plural(axis_name: str, count: int = 2) -> str:
    if count == 1:
        return axis_name
    if "entry" in axis_name:
        return axis_name.replace("entry", "entries")
    return axis_name[:-1] + "ies" if axis_name.endswith("y") and axis_name[-2] not in "aeiou" else axis_name + "s"


def _indices(indices) -> str:
    """1, 3, 5-7: consecutive runs joined."""
    runs, start = [], None
    values = [int(i) for i in indices]
    for i, value in enumerate(values):
        if start is None:
            start = value
        if i + 1 == len(values) or values[i + 1] != value + 1:
            runs.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ", ".join(runs)


def _scale_hint(got, want, near, hidden: bool = False) -> str:
    scale = _best_scale(got, want)
    if scale is None or not near(got * scale, want):
        return ""
    # The factor must explain the error, not just shrink ``got`` towards a small reference.
    if np.linalg.norm(got * scale - want) > 1e-2 * np.linalg.norm(want):
        return ""
    if hidden:
        return "It is the reference times a constant factor: a missing or extra scale factor?"
    return f"It is the reference scaled by {1 / scale:.3g}: a missing or extra scale factor?"


def _permutation_hint(got, want, axes, near, hidden: bool = False) -> str:
    """Some axis of at most 16 entries holds the reference's slices in another order."""
    for axis in range(got.ndim):
        size = got.shape[axis]
        if not 2 <= size <= 16:
            continue
        g, w = np.moveaxis(got, axis, 0), np.moveaxis(want, axis, 0)
        order = []
        for i in range(size):
            matches = [j for j in range(size) if near(g[i], w[j])]
            if len(matches) != 1:
                break
            order.append(matches[0])
        if len(order) == size and sorted(order) == list(range(size)) and order != list(range(size)):
            moved = "" if hidden else " (" + ", ".join(f"your {i} is its {j}" for i, j in enumerate(order) if i != j) + ")"
            return (f"Your {_plural(axes[axis])} are the reference's in another order{moved}: "
                    f"look at how the {axes[axis]} axis is laid out.")
    return ""


def normalisation_hint(got: np.ndarray, want: np.ndarray | None, axes: tuple[str, ...] = (),
                       tol: float = 1e-4, hidden: bool = False) -> str:
    """Which axis ``got`` sums to 1 over, when the reference (or, without one, a softmax
    over the last axis) sums to 1 over another; "" when they agree or ``want`` is no
    set of weights."""
    axes = axes or axis_names("", got.ndim)
    if want is not None:
        if not (np.all(want >= -tol) and np.all(want <= 1 + tol)):
            return ""
        target = _sums_to_one(want, tol)
    else:
        target = [got.ndim - 1]
    if not target:
        return ""
    mine = _sums_to_one(got, tol)
    if set(mine) & set(target):
        return ""
    over = " and ".join(f"the {_plural(axes[a])} (axis {a - got.ndim})" for a in target)
    if mine:
        instead = " and ".join(f"the {_plural(axes[a])} (axis {a - got.ndim})" for a in mine)
        return f"Weights should sum to 1 over {over}; yours sum to 1 over {instead}: a softmax over the wrong axis?"
    sums = got.sum(axis=target[0])
    if hidden:
        text = f"Weights should sum to 1 over {over}; yours do not"
        if got.min() < -tol or got.max() > 1 + tol:
            text += ", and do not all lie in [0, 1]"
        return text + ": is the softmax applied, and over the right axis?"
    text = f"Weights should sum to 1 over {over}; yours sum to between {sums.min():.3g} and {sums.max():.3g}"
    if got.min() < -tol or got.max() > 1 + tol:
        text += f", and range from {got.min():.3g} to {got.max():.3g} instead of lying in [0, 1]"
    return text + ": is the softmax applied, and over the right axis?"


def _sums_to_one(x: np.ndarray, tol: float) -> list[int]:
    """The axes (of more than one entry) over which every sum is 1, or 0 for a fully blocked row."""
    found = []
    for axis in range(x.ndim):
        if x.shape[axis] < 2:
            continue
        sums = x.astype(np.float64).sum(axis=axis)
        ones = np.abs(sums - 1) <= tol
        if np.all(ones | (np.abs(sums) <= tol)) and ones.any():
            found.append(axis)
    return found


def _zero_hint(got, want, close, atol, name, hidden: bool = False) -> str:
    """Yours is zero where the reference is not (a gradient that does not flow, a result
    that is masked or never written)."""
    zero = (np.abs(got) <= atol) & ~close
    if not zero.any() or zero.sum() < 0.5 * (~close).sum():
        return ""
    everywhere = bool(np.all(np.abs(got) <= atol))
    off = int((~close).sum())
    where = ("in every entry" if everywhere else "in every entry that is off" if zero.sum() == off
             else "in most entries that are off" if hidden
             else f"in {int(zero.sum())} of the {off} entries that are off")
    if name.startswith("grad:"):
        return (f"Your gradient is zero {where}, where the reference's is not: does the gradient reach it "
                "(a detach, stop_gradient or no_grad, a constant or an integer cast on the way)?")
    return f"Yours is zero {where}, where the reference is not."


def _where_hint(close: np.ndarray, axes: tuple[str, ...], hidden: bool = False) -> str:
    """The axes along which only some indices hold entries that are off."""
    if close.ndim == 0 or close.all():
        return ""
    parts = []
    for axis in range(close.ndim):
        size = close.shape[axis]
        if size < 2:
            continue
        others = tuple(a for a in range(close.ndim) if a != axis)
        bad = ~close.all(axis=others) if others else ~close
        if 0 < bad.sum() < size:
            parts.append((bad.mean(), axis, np.flatnonzero(bad)))
    if not parts:
        return ""
    parts.sort(key=lambda p: (p[0], p[1]))
    if hidden:
        listed = " and ".join(f"some {_plural(axes[axis])}" for _, axis, _ in parts[:2])
        return f"The entries that are off all lie in {listed} only; the others match."
    listed = " and ".join(f"{_plural(axes[axis], len(bad))} {_indices(bad)} (of {close.shape[axis]})"
                          for _, axis, bad in parts[:2])
    return f"The entries that are off all lie in {listed}; the others match."


def _best_scale(got: np.ndarray, want: np.ndarray) -> float | None:
    denom = float(np.vdot(got, got))
    if denom == 0:
        return None
    scale = float(np.vdot(got, want)) / denom
    return scale if np.isfinite(scale) and abs(scale - 1) > 1e-3 and scale != 0 else None


def weights_problem(weights: np.ndarray, shape: tuple[int, ...], blocked: np.ndarray | None = None) -> str | None:
    """What is wrong with attention weights that must have ``shape``, be a softmax over the
    last axis (the keys) and be exactly 0 where ``blocked`` (broadcastable) is True; None
    when nothing is. Checked in that order, so that the first message names the first
    thing to fix: unnormalised weights are not reported as a masking problem."""
    shape = tuple(shape)
    if weights.shape != shape:
        return f"the weights must have shape {shape} (..., queries, keys); yours have {weights.shape}"
    live = np.ones(shape[:-1], bool)
    if blocked is not None:
        blocked = np.broadcast_to(blocked, shape)
        live = ~blocked.all(axis=-1)  # a query with no key to attend has all-zero weights
    sums = weights.astype(np.float64).sum(axis=-1)
    if np.any(weights < 0) or not np.allclose(sums[live], 1, atol=1e-5):
        return ("each query's weights must be a softmax over the keys (the last axis): non-negative and "
                "summing to 1. " + (normalisation_hint(weights, None, axis_names("weights", weights.ndim))
                                      or "Yours are not."))
    if blocked is not None and np.any(weights[blocked] != 0):
        return "padded keys (mask False) must get attention weight exactly 0"
    return None

"""Compare a submission's arrays with expected ones and explain the difference.

Messages describe shapes, dtypes and the pattern of the error, never the expected
numbers themselves, so the same text is safe to show for a hidden test.
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
            atol: float = ATOL, rtol: float = RTOL) -> str | None:
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
        hint = _pattern_hint(got, want, atol, rtol)
        return msg + (f" {hint}" if hint else "")
    if np.array_equal(got, want):
        return None
    frac = float((got != want).mean())
    return f"`{name}` differs from the reference in {frac:.0%} of entries"


def _pattern_hint(got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> str:
    def near(a, b):
        return a.shape == b.shape and np.allclose(a, b, atol=10 * atol, rtol=10 * rtol)

    if got.ndim >= 2 and near(np.swapaxes(got, -1, -2), want):
        return "It equals the reference with the last two axes swapped."
    if near(-got, want):
        return "It has the opposite sign."
    scale = _best_scale(got, want)
    if scale is not None and near(got * scale, want):
        return f"It is the reference scaled by {1 / scale:.3g}: a missing or extra scale factor?"
    return ""


def _best_scale(got: np.ndarray, want: np.ndarray) -> float | None:
    denom = float(np.vdot(got, got))
    if denom == 0:
        return None
    scale = float(np.vdot(got, want)) / denom
    return scale if np.isfinite(scale) and abs(scale - 1) > 1e-3 and scale != 0 else None

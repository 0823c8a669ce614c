"""Properties of an MLM masking (which tokens were selected, how labels were set), checked
by public and hidden tests alike; the grader computes them itself from returned arrays."""

from __future__ import annotations

import numpy as np

IGNORE_INDEX = -100  # the label of unselected MLM positions, as bert.py documents it (toyeval uses this one)


def masking_problems(ids: np.ndarray, masked: np.ndarray, labels: np.ndarray, *, mask_id: int,
                     special_ids, mask_prob: float, replace_prob: float, random_prob: float,
                     vocab_size: int, sigmas: float = 4.5) -> list[str]:
    """What is wrong with one run of ``mask_tokens``; an empty list when nothing is.

    Exact rules are checked exactly; rates are checked against binomial standard
    deviations (``sigmas`` of them), so a correct implementation fails only with a
    probability far below one in a hundred thousand.
    """
    problems: list[str] = []
    if masked.shape != ids.shape or labels.shape != ids.shape:
        return [f"masked_ids and labels must have the input's shape {ids.shape}; got "
                f"{masked.shape} and {labels.shape}"]
    if masked.dtype != np.int64 or labels.dtype != np.int64:
        return [f"masked_ids and labels must be int64; got {masked.dtype} and {labels.dtype}"]
    special = np.isin(ids, list(special_ids))
    selected = labels != IGNORE_INDEX
    replaced = masked != ids
    labels_everywhere = selected.mean() > 2 * mask_prob
    if np.any(replaced & special) or (np.any(selected & special) and not labels_everywhere):
        problems.append("special tokens were selected for prediction (given a label or replaced); only "
                        "non-special positions may be")
    elif np.any(selected & special):
        # Labels far beyond the selected fraction, special positions included: a labelling
        # problem (labels everywhere), not a selection that happened to keep every token.
        problems.append(f"{selected.mean():.0%} of the positions have a label, special ones included, though "
                        f"{mask_prob:.0%} are meant to be selected: only the selected positions get their "
                        f"original id as label, every other position gets {IGNORE_INDEX}")
    if np.any(labels[selected] != ids[selected]):
        problems.append("at a selected position the label must be the original token id")
    if np.any(masked[~selected] != ids[~selected]):
        problems.append("positions that are not selected (label -100) must keep their original id")
    if problems:
        return problems

    candidates = ~special
    n = int(candidates.sum())
    k = int(selected.sum())
    problems += _rate("selected fraction of non-special positions", k, n, mask_prob, sigmas)
    if k:
        sel_masked = masked[selected]
        sel_ids = ids[selected]
        is_mask = sel_masked == mask_id
        changed = ~is_mask & (sel_masked != sel_ids)
        unchanged = ~is_mask & ~changed
        non_special = vocab_size - len(set(special_ids))
        if np.any(np.isin(sel_masked[changed], list(special_ids))):
            problems.append("a random replacement must be a non-special token")
        if np.any((sel_masked < 0) | (sel_masked >= vocab_size)):
            problems.append("a replacement id lies outside the vocabulary")
        p_same = random_prob / non_special if non_special else 0.0  # a random draw may hit the original
        problems += _rate("share of selected positions replaced by [MASK]", int(is_mask.sum()), k,
                          replace_prob, sigmas)
        problems += _rate("share of selected positions replaced by a random token", int(changed.sum()), k,
                          random_prob - p_same, sigmas)
        problems += _rate("share of selected positions left unchanged", int(unchanged.sum()), k,
                          1 - replace_prob - random_prob + p_same, sigmas)
        replaced = sel_masked[changed]
        if replaced.size >= 100 and non_special > 1:
            counts = np.bincount(replaced, minlength=vocab_size)
            counts = np.delete(counts, sorted(set(special_ids)))
            if _chi_square_too_large(counts):
                problems.append("random replacements are not spread uniformly over the non-special tokens")
    if 0 < mask_prob < 1:
        # Selection must not depend on the position: compare the first and second half.
        half = ids.shape[1] // 2
        for name, part in (("first", np.s_[:, :half]), ("second", np.s_[:, half:])):
            problems += _rate(f"selected fraction in the {name} half of the positions",
                              int(selected[part][candidates[part]].sum()), int(candidates[part].sum()),
                              mask_prob, sigmas)
    return problems


def _chi_square_too_large(counts: np.ndarray) -> bool:
    """Pearson's test against the uniform distribution, at about the 5-sigma level
    (Wilson-Hilferty normal approximation of the chi-square tail)."""
    n, bins = counts.sum(), counts.size
    expected = n / bins
    stat = float(((counts - expected) ** 2 / expected).sum())
    dof = bins - 1
    z = ((stat / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / np.sqrt(2 / (9 * dof))
    return z > 5.0


def _rate(what: str, hits: int, n: int, p: float, sigmas: float) -> list[str]:
    if n == 0:
        return []
    observed = hits / n
    p = 0.0 if p < 1e-12 else 1.0 if p > 1 - 1e-12 else p
    if p in (0.0, 1.0):
        return [] if observed == p else [f"{what} is {observed:.3f}; it must be exactly {p:g}"]
    sd = np.sqrt(p * (1 - p) / n)
    if abs(observed - p) > sigmas * sd:
        return [f"{what} is {observed:.3f}, expected {p:.3f} (+/- {sigmas * sd:.3f} over {n} draws)"]
    return []

"""χ², μ and μ_max of block counts against a (mixture of) binomial distribution(s).

Private helpers of :mod:`liprobe.apt.frequency`. The expected frequencies are a sum of
binomials over groups of blocks that share trials and probability: one group for the plain
FDA; one per depth slab for the detrended FDA (the gradient along the analysis direction
taken as the null); one per number of *other* ions for the closure check (the blocks hold
a fixed number of ions, so a strongly segregated element forces the others down where it
is rich).
"""

from __future__ import annotations

import numpy as np


def pool(observed: np.ndarray, expected: np.ndarray, pooling: str) -> list[tuple[int, int]]:
    """Bins entering χ²: adjacent bins merged until E >= 5, or single bins with O >= 5."""
    groups = []
    if pooling == "observed>=5":
        for k in np.flatnonzero(observed >= 5):
            groups.append((int(k), int(k)))
        return groups
    start, acc = 0, 0.0
    for k in range(expected.shape[0]):
        acc += expected[k]
        if acc >= 5.0:
            groups.append((start, k))
            start, acc = k + 1, 0.0
    if start < expected.shape[0]:
        if groups:
            groups[-1] = (groups[-1][0], expected.shape[0] - 1)
        else:
            groups.append((0, expected.shape[0] - 1))
    return groups


def mixture_expected(n_trials: np.ndarray, p: np.ndarray, n_b: int, *,
                     weights: np.ndarray | None = None) -> np.ndarray:
    """Expected frequency of k = 0..n_b: Σ_i w_i Binom(k; n_i, p_i) (``w_i = 1``: one
    entry per block; or one entry per group of blocks, ``weights`` blocks each).

    Entries sharing (n, p) are summed first, in ascending (n, p) order, without sorting
    rows: the distinct p are few (one, or one per depth slab).
    """
    from scipy import stats

    k = np.arange(n_b + 1)
    expected = np.zeros(n_b + 1)
    n_trials = np.asarray(n_trials).astype(np.int64, copy=False)
    p = np.asarray(p, dtype=np.float64)
    w = (np.ones(n_trials.shape[0]) if weights is None
         else np.asarray(weights, dtype=np.float64))
    used = w > 0
    if not used.all():
        n_trials, p, w = n_trials[used], p[used], w[used]
    if n_trials.size == 0:
        return expected
    if np.all(p == p[0]):
        p_values, p_index = p[:1], np.zeros(p.size, np.int64)
    else:
        p_values, p_index = np.unique(p, return_inverse=True)
    n_low = int(n_trials.min())
    n_span = int(n_trials.max()) - n_low + 1
    key = (n_trials - n_low) * p_values.size + p_index.reshape(-1)
    counts = np.bincount(key, weights=w, minlength=n_span * p_values.size)
    for g in np.flatnonzero(counts):
        n_i, p_i = n_low + g // p_values.size, p_values[g % p_values.size]
        expected += counts[g] * stats.binom.pmf(k, int(n_i), float(np.clip(p_i, 0.0, 1.0)))
    return expected


def chi2_test(observed: np.ndarray, expected: np.ndarray, pooling: str, n_fitted: int):
    """χ², degrees of freedom (pooled bins - 1 - fitted parameters), p-value and groups."""
    from scipy import stats

    groups = pool(observed, expected, pooling)
    o = np.array([observed[a:b + 1].sum() for a, b in groups])
    e = np.array([expected[a:b + 1].sum() for a, b in groups])
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.sum(np.where(e > 0, (o - e) ** 2 / e, 0.0)))
    dof = len(groups) - 1 - int(n_fitted)
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    return chi2, dof, p_value, groups


def mu_of(chi2: float, n_norm: float) -> float:
    """Pearson coefficient μ = sqrt(χ² / (N + χ²))."""
    return float(np.sqrt(chi2 / (n_norm + chi2))) if n_norm + chi2 > 0 else float("nan")


def chi2_max(n_blocks: int, n_b: int, p: float, pooling: str, n_fitted: int) -> float:
    """χ² of complete segregation: a share p of the blocks all solute, the rest none."""
    from scipy import stats

    full = int(round(p * n_blocks))
    observed = np.zeros(n_b + 1)
    observed[n_b], observed[0] = full, n_blocks - full
    expected = n_blocks * stats.binom.pmf(np.arange(n_b + 1), n_b, p)
    return chi2_test(observed, expected, pooling, n_fitted)[0]

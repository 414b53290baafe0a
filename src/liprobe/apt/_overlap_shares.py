"""Species shares of overlapped ranges and their covariance (private helpers of
:mod:`liprobe.apt.overlap_correction`; the method and references are described there)."""

from __future__ import annotations

import numpy as np

from liprobe.apt.isotope_patterns import species_pattern
from liprobe.data import RangeTable

__all__ = ["largest_remainder", "range_abundance", "range_shares"]


def range_abundance(ranges: RangeTable, species: tuple[str, ...],
                    min_abundance: float) -> np.ndarray:
    """(n_ranges, n_species) abundance of each species' peaks inside each range."""
    table = np.zeros((ranges.n_ranges, len(species)))
    for s, name in enumerate(species):
        for mz, ab in species_pattern(name):
            if ab < min_abundance:
                continue
            inside = (ranges.low_da <= mz) & (mz < ranges.high_da)
            table[inside, s] += ab
    return table


def range_shares(counts: np.ndarray, abundance: np.ndarray):
    """Shares of the species in each range, their Jacobian in the species totals and the
    isotope-sampling covariance; ``ok`` is False for a range with no expected ions.

    ``counts``: (S,) fitted species totals N; ``abundance``: (k, S) A of each range.
    """
    n_sp = counts.size
    expected = counts[None, :] * abundance
    total = expected.sum(axis=1)
    ok = total > 0
    shares = np.where(ok[:, None], expected / np.where(ok, total, 1.0)[:, None], 0.0)
    jac = np.zeros((abundance.shape[0], n_sp, n_sp))
    realised = np.zeros_like(jac)
    for k in np.flatnonzero(ok):
        a_r = abundance[k]
        # d share_s / d N_u = (δ_su A_s - share_s A_u) / D
        jac[k] = (np.diag(a_r) - shares[k][:, None] * a_r[None, :]) / total[k]
        # isotope sampling: the ions of s that fell in the range scatter about N_s A_s by
        # N_s A_s (1 - A_s) (binomial); through share = x / sum(x) that adds G W G^T
        w = np.maximum(counts, 0.0) * a_r * (1.0 - a_r)
        g = (np.eye(n_sp) - shares[k][:, None]) / total[k]
        realised[k] = g @ np.diag(w) @ g.T
    return shares, jac, realised, ok


def largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers close to ``values`` (>= 0) that sum to ``total``."""
    floor = np.floor(values).astype(np.int64)
    left = int(total - floor.sum())
    if left > 0:
        order = np.argsort(-(values - floor), kind="stable")
        floor[order[:left]] += 1
    return floor

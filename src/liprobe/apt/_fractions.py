"""Atom fractions and ratios with their counting uncertainty (shared by profiles/proxigrams)."""

from __future__ import annotations

import numpy as np

from liprobe.apt.composition import default_ratio_denominator
from liprobe.errors import ParameterError


def default_denominator(elements: tuple[str, ...], normalize_to) -> tuple[str, ...]:
    """Elements of the ratio denominator: ``normalize_to``, or the default of every ratio in
    liprobe (:func:`liprobe.apt.composition.default_ratio_denominator`)."""
    if normalize_to is None:
        names = default_ratio_denominator(elements)
    elif isinstance(normalize_to, str):
        names = (normalize_to,)
    else:
        names = tuple(normalize_to)
    for name in names:
        if name not in elements:
            raise ParameterError(
                f"normalize_to: {name!r} is not an element of the range table "
                f"(available: {', '.join(elements)})"
            )
    return names


def fractions_with_sigma(atom_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Atom fractions per row and their binomial σ = sqrt(f (1 - f) / n); NaN for empty rows."""
    counts = np.asarray(atom_counts, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, counts / total, np.nan)
        sigma = np.sqrt(frac * (1.0 - frac) / total)
    return frac, sigma


def ratios_with_sigma(
    atom_counts: np.ndarray, elements: tuple[str, ...], denominator: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Ratios N_X / sum(N_denominator) with σ.

    For X outside the denominator σ = r sqrt(1/N_X + 1/N_D) (independent Poisson counts);
    for X inside it the ratio is a binomial proportion, σ = sqrt(r (1 - r) / N_D).
    """
    counts = np.asarray(atom_counts, dtype=np.float64)
    idx = [elements.index(e) for e in denominator]
    den = counts[..., idx].sum(axis=-1, keepdims=True)
    inside = np.isin(np.arange(len(elements)), idx)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den > 0, counts / den, np.nan)
        sigma_out = ratio * np.sqrt(1.0 / counts + 1.0 / den)
        sigma_out = np.where(counts > 0, sigma_out, 1.0 / den)  # 0 counts: 1-count scale
        sigma_in = np.sqrt(ratio * (1.0 - ratio) / den)
    sigma = np.where(inside, sigma_in, sigma_out)
    return ratio, sigma

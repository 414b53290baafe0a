"""Numba kernels of the 1-D profiles: one pass over the ions, no sorting, no temporaries."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def count_fixed_width(coord, species, origin, sign, bin_nm, n_bins, n_species):  # pragma: no cover
    """Ions per (bin, species); bin = floor(sign * (coord - origin) / bin_nm)."""
    out = np.zeros((n_bins, n_species), np.int64)
    inv = 1.0 / bin_nm
    for i in range(coord.shape[0]):
        s = species[i]
        if s < 0:
            continue
        b = int(sign * (coord[i] - origin) * inv)
        if b >= n_bins:
            b = n_bins - 1
        elif b < 0:
            b = 0
        out[b, s] += 1
    return out


@numba.njit(cache=True, nogil=True)
def count_with_edges(coord, species, origin, sign, edges, n_species):  # pragma: no cover
    """Ions per (bin, species) for sorted bin ``edges`` (distance units)."""
    n_bins = edges.shape[0] - 1
    out = np.zeros((n_bins, n_species), np.int64)
    for i in range(coord.shape[0]):
        s = species[i]
        if s < 0:
            continue
        d = sign * (coord[i] - origin)
        b = np.searchsorted(edges, d, side="right") - 1
        if b >= n_bins:
            b = n_bins - 1
        elif b < 0:
            b = 0
        out[b, s] += 1
    return out


@numba.njit(cache=True, nogil=True)
def fine_histogram(coord, species, origin, sign, width, n_fine):  # pragma: no cover
    """Ranged ions per fine bin of ``width`` (for equal-count edges without sorting)."""
    out = np.zeros(n_fine, np.int64)
    inv = 1.0 / width
    for i in range(coord.shape[0]):
        if species[i] < 0:
            continue
        b = int(sign * (coord[i] - origin) * inv)
        if b >= n_fine:
            b = n_fine - 1
        elif b < 0:
            b = 0
        out[b] += 1
    return out


@numba.njit(cache=True, nogil=True)
def window_histogram(mass, low32, high, low, width, out):  # pragma: no cover
    """Add the ions with ``low32 <= m`` (float32) and ``m < high`` (float64) to ``out``.

    Bin ``int((m - low) / width)`` clamped to the histogram: the arithmetic of
    :func:`fine_histogram` over the ions inside the window, without a mask or a copy.
    """
    n_fine = out.shape[0]
    inv = 1.0 / width
    for i in range(mass.shape[0]):
        m = mass[i]
        if not (m >= low32 and m < high):
            continue
        b = int(1.0 * (m - low) * inv)
        if b >= n_fine:
            b = n_fine - 1
        elif b < 0:
            b = 0
        out[b] += 1


@numba.njit(cache=True, nogil=True)
def count_near(mass, centre, half_width):  # pragma: no cover
    """Ions with ``abs(m - centre) < half_width`` in float32, as NumPy computes it."""
    n = 0
    for i in range(mass.shape[0]):
        if abs(mass[i] - centre) < half_width:
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def count_species(species, n_species):  # pragma: no cover
    """Ions per species index (``-1`` unranged skipped): a bincount without a copy."""
    out = np.zeros(n_species, np.int64)
    for i in range(species.shape[0]):
        s = species[i]
        if s >= 0:
            out[s] += 1
    return out

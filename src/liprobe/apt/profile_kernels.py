"""Numba kernels of the 1-D profiles: one pass over the ions, no sorting, no temporaries.

Coordinates are float32, native or as the ``uint32`` bits of a big-endian memory map
(:func:`liprobe.apt._columns.column_view`), read in place.
"""

from __future__ import annotations

import numba
import numpy as np

from liprobe.apt._columns import load


@numba.njit(cache=True, nogil=True)
def count_fixed_width(coord, species, origin, sign, bin_nm, n_bins, n_species):  # pragma: no cover
    """Ions per (bin, species); bin = floor(sign * (coord - origin) / bin_nm)."""
    out = np.zeros((n_bins, n_species), np.int64)
    inv = 1.0 / bin_nm
    for i in range(coord.shape[0]):
        s = species[i]
        if s < 0:
            continue
        b = int(sign * (load(coord, i) - origin) * inv)
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
        d = sign * (load(coord, i) - origin)
        lo = 0  # first edge above d (searchsorted side="right"), written out: no call
        hi = edges.shape[0]
        while lo < hi:
            mid = (lo + hi) >> 1
            if edges[mid] <= d:
                lo = mid + 1
            else:
                hi = mid
        b = lo - 1
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
        b = int(sign * (load(coord, i) - origin) * inv)
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
        m = load(mass, i)
        if not (m >= low32 and m < high):
            continue
        b = int(1.0 * (m - low) * inv)
        if b >= n_fine:
            b = n_fine - 1
        elif b < 0:
            b = 0
        out[b] += 1


@numba.njit(cache=True, nogil=True)
def count_near(mass, centres, half_width):  # pragma: no cover
    """Ions with ``abs(m - c) < half_width`` in float32, as NumPy computes it, for each
    centre ``c`` of ``centres`` (float32): one pass for all centres."""
    out = np.zeros(centres.shape[0], np.int64)
    for i in range(mass.shape[0]):
        m = load(mass, i)
        for k in range(centres.shape[0]):
            if abs(m - centres[k]) < half_width:
                out[k] += 1
    return out


@numba.njit(cache=True, nogil=True)
def count_species(species, n_species):  # pragma: no cover
    """Ions per species index (``-1`` unranged skipped): a bincount without a copy."""
    out = np.zeros(n_species, np.int64)
    for i in range(species.shape[0]):
        s = species[i]
        if s >= 0:
            out[s] += 1
    return out


@numba.njit(cache=True, nogil=True)
def _distance32(coord, i, origin32, negate):  # pragma: no cover - jitted
    """``max(±(coord[i] - origin), 0)`` in float32, as NumPy computes it on float32 arrays."""
    d = load(coord, i) - origin32
    if negate:
        d = -d
    if d < np.float32(0.0):
        d = np.float32(0.0)
    return d


@numba.njit(cache=True, nogil=True)
def distance_histogram(coord, species, origin32, negate, inv_width, n_fine):  # pragma: no cover
    """Ranged ions per fine bin ``int(d * inv_width)`` (clamped) of the float32 distance d."""
    out = np.zeros(n_fine, np.int64)
    for i in range(coord.shape[0]):
        if species[i] < 0:
            continue
        b = int(_distance32(coord, i, origin32, negate) * inv_width)
        if b >= n_fine:
            b = n_fine - 1
        out[b] += 1
    return out


@numba.njit(cache=True, nogil=True)
def distances_in_bins(coord, species, origin32, negate, inv_width, wanted, out):  # pragma: no cover
    """The float32 distances of the ranged ions whose fine bin is ``wanted``, into ``out``
    (sized from :func:`distance_histogram`); returns how many were written."""
    n_fine = wanted.shape[0]
    j = 0
    for i in range(coord.shape[0]):
        if species[i] < 0:
            continue
        d = _distance32(coord, i, origin32, negate)
        b = int(d * inv_width)
        if b >= n_fine:
            b = n_fine - 1
        if wanted[b]:
            out[j] = d
            j += 1
    return j

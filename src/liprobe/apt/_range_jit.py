"""Numba kernels over a segment lookup table (see :mod:`liprobe.apt._range_kernels`).

Imported only when an array is large enough for compiled loops to pay for numba's import.
The hot path (a table lookup) is written out in each loop, with one store per ion; only the
rare ions in a cell that holds a range bound call the binary search. Keeping the lookup in
the loop body rather than in a shared helper is what lets it run near memory bandwidth
(a helper returning the segment measured 10-15x slower).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _search(m, seg_low, seg_high, none):  # pragma: no cover - jitted
    """Segment holding ``m`` by binary search over the sorted lows (``none`` if no segment)."""
    lo = 0
    hi = seg_low.shape[0]
    while lo < hi:  # first segment with low > m
        mid = (lo + hi) >> 1
        if seg_low[mid] <= m:
            lo = mid + 1
        else:
            hi = mid
    k = lo - 1
    if k >= 0 and m < seg_high[k]:
        return k
    return none


@numba.njit(cache=True, nogil=True)
def count_segments(mass, cells, origin, inv_width, seg_low, seg_high, counts):  # pragma: no cover
    """Add the ions per segment to ``counts[:-1]`` and the unassigned ones to ``counts[-1]``."""
    n_seg = seg_low.shape[0]
    n_cells = cells.shape[0]
    local = np.zeros(counts.shape[0], np.int64)
    for i in range(mass.shape[0]):
        m = np.float64(mass[i])
        x = (m - origin) * inv_width
        s = n_seg
        if x >= 0.0 and x < n_cells:  # false for NaN
            c = cells[int(x)]
            if c >= 0:
                s = c
            elif c == -2:
                s = _search(m, seg_low, seg_high, n_seg)
        local[s] += 1
    for s in range(counts.shape[0]):
        counts[s] += local[s]


@numba.njit(cache=True, nogil=True)
def label_segments(mass, cells, origin, inv_width, seg_low, seg_high, seg_value,  # pragma: no cover
                   out):
    """Write ``seg_value[segment]`` (``-1`` when unassigned) of every ion into ``out``."""
    n_seg = seg_low.shape[0]
    n_cells = cells.shape[0]
    value = np.empty(n_seg + 1, seg_value.dtype)  # int8/int16/int32 as ``out``
    value[:n_seg] = seg_value
    value[n_seg] = -1
    for i in range(mass.shape[0]):
        m = np.float64(mass[i])
        x = (m - origin) * inv_width
        s = n_seg
        if x >= 0.0 and x < n_cells:
            c = cells[int(x)]
            if c >= 0:
                s = c
            elif c == -2:
                s = _search(m, seg_low, seg_high, n_seg)
        out[i] = value[s]

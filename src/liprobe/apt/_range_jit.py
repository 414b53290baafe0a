"""Numba kernels over a segment lookup table (see :mod:`liprobe.apt._range_kernels`).

Imported only when an array is large enough for compiled loops to pay for numba's import.
Each kernel has a single exit per ion: the loop body is branch-light and the compiler keeps
it free of calls, which is what makes it run near memory bandwidth.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def _segment_of(m, cells, origin, inv_width, seg_low, seg_high, none):  # pragma: no cover
    s = none
    x = (m - origin) * inv_width
    if x >= 0.0 and x < cells.shape[0]:  # false for NaN
        c = cells[int(x)]
        if c >= 0:
            s = c
        elif c == -2:
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
                s = k
    return s


@numba.njit(cache=True, nogil=True)
def count_segments(mass, cells, origin, inv_width, seg_low, seg_high, counts):  # pragma: no cover
    """Add the ions per segment to ``counts[:-1]`` and the unassigned ones to ``counts[-1]``."""
    n_seg = seg_low.shape[0]
    local = np.zeros(counts.shape[0], np.int64)
    for i in range(mass.shape[0]):
        local[_segment_of(np.float64(mass[i]), cells, origin, inv_width, seg_low, seg_high,
                          n_seg)] += 1
    for s in range(counts.shape[0]):
        counts[s] += local[s]


@numba.njit(cache=True, nogil=True)
def label_segments(mass, cells, origin, inv_width, seg_low, seg_high, seg_value, out):  # pragma: no cover
    """Write ``seg_value[segment]`` (``-1`` when unassigned) of every ion into ``out``."""
    n_seg = seg_low.shape[0]
    value = np.empty(n_seg + 1, np.int32)
    value[:n_seg] = seg_value
    value[n_seg] = -1
    for i in range(mass.shape[0]):
        out[i] = value[_segment_of(np.float64(mass[i]), cells, origin, inv_width, seg_low,
                                   seg_high, n_seg)]

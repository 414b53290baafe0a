"""Numba kernels that assign mass-to-charge values to non-overlapping mass segments.

A *segment table* is the resolved, sorted, non-overlapping form of a range table
(see :func:`liprobe.apt.ranging._segments`). Lookup uses a uniform table of cells of
width ``1 / inv_width`` Da starting at ``origin``: each cell holds the segment that
fully contains it, ``-1`` when no segment touches it, or ``-2`` when a segment bound
lies in (or next to) the cell; those ions are resolved by binary search over the sorted
segment lows. Comparisons are made in float64 on the exact float32 value (the callers
round the bounds to float32 first), with the convention ``low <= m < high``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["build_lookup", "count_segments", "label_segments", "CHUNK"]

#: Ions converted to native float32 per pass when the input is big-endian or not float32.
CHUNK = 1 << 20

#: Cell width of the lookup table is 2**-CELL_BITS Da, widened (by powers of two) until the
#: table has at most MAX_CELLS cells (16 MiB of int32) whatever the ranges' span.
CELL_BITS = 6
MAX_CELLS = 1 << 22


def build_lookup(
    seg_low: np.ndarray, seg_high: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """The lookup table ``(cells int32, origin_da, inv_width)`` of sorted segments."""
    if seg_low.size == 0:
        return np.full(1, -1, np.int32), 0.0, 1.0
    # the finest power-of-two cell width that keeps the table within MAX_CELLS cells,
    # whatever the span (a range over 0-1e15 Da gives wide cells, never a huge table)
    span = float(seg_high[-1] - seg_low[0]) + 1.0
    bits = min(CELL_BITS, int(np.floor(np.log2((MAX_CELLS - 4) / span))))
    while True:
        inv_width = float(2.0**bits)
        origin = np.floor(seg_low[0] * inv_width) / inv_width
        n_cells = int(np.ceil((seg_high[-1] - origin) * inv_width)) + 1
        if n_cells <= MAX_CELLS:
            break
        bits -= 1
    cell_low = origin + np.arange(n_cells, dtype=np.float64) / inv_width
    cell_high = cell_low + 1.0 / inv_width
    # segment holding each cell's low edge (or -1), then check it also holds the high edge
    k = np.searchsorted(seg_low, cell_low, side="right") - 1
    inside = (k >= 0) & (cell_high <= seg_high[np.maximum(k, 0)])
    cells = np.where(inside, k, -1).astype(np.int32)
    # any cell a bound falls in, or next to, is resolved exactly by binary search
    bounds = np.concatenate([seg_low, seg_high])
    at = np.floor((bounds - origin) * inv_width).astype(np.int64)
    for shift in (-1, 0, 1):
        idx = np.clip(at + shift, 0, n_cells - 1)
        cells[idx] = -2
    return cells, float(origin), inv_width


@numba.njit(cache=True, nogil=True, inline="always")
def _segment_of(m, cells, origin, inv_width, seg_low, seg_high):  # pragma: no cover - jitted
    x = (m - origin) * inv_width
    if not (x >= 0.0 and x < cells.shape[0]):  # also false for NaN
        return -1
    s = cells[int(x)]
    if s != -2:
        return s
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
    return -1


@numba.njit(cache=True, nogil=True)
def count_segments(mass, cells, origin, inv_width, seg_low, seg_high, counts):  # pragma: no cover
    """Add the number of ions per segment to ``counts[:-1]`` and unassigned to ``counts[-1]``.

    Four interleaved histograms break the store-to-load chain of runs of ions landing in
    the same bin (2-4x faster than one histogram).
    """
    n_seg = seg_low.shape[0]
    width = counts.shape[0]
    partial = np.zeros((4, width), np.int64)
    for i in range(mass.shape[0]):
        s = _segment_of(np.float64(mass[i]), cells, origin, inv_width, seg_low, seg_high)
        if s < 0:
            s = n_seg
        partial[i & 3, s] += 1
    for j in range(4):
        for s in range(width):
            counts[s] += partial[j, s]


@numba.njit(cache=True, nogil=True)
def label_segments(  # pragma: no cover - jitted
    mass, cells, origin, inv_width, seg_low, seg_high, seg_value, out
):
    """Write ``seg_value[segment]`` (or -1 when unassigned) of every ion into ``out``."""
    for i in range(mass.shape[0]):
        s = _segment_of(np.float64(mass[i]), cells, origin, inv_width, seg_low, seg_high)
        out[i] = -1 if s < 0 else seg_value[s]

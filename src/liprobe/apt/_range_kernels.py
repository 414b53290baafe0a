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

import numpy as np

__all__ = ["build_lookup", "count_segments", "label_segments", "CHUNK"]

#: Ions converted to native float32 per pass when the input is big-endian or not float32.
CHUNK = 1 << 20

#: From this many ions on, the compiled kernels run (below, importing numba costs more
#: than the whole pass).
COMPILED_MIN_IONS = 1 << 21

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


def numpy_cells(cells: np.ndarray, n_seg: int) -> np.ndarray:
    """The table for the NumPy evaluation: one guard cell at each end, ``-1`` as ``n_seg``."""
    padded = np.full(cells.shape[0] + 2, n_seg, np.int32)
    padded[1:-1] = np.where(cells == -1, n_seg, cells)
    return padded


def _segments_numpy(mass, padded, origin, inv_width, seg_low, seg_high):
    """Segment of every ion of one chunk (``n_seg`` when none), evaluated with NumPy."""
    n_seg = seg_low.shape[0]
    x = mass.astype(np.float64)
    x -= origin
    x *= inv_width
    np.fmax(x, -1.0, out=x)  # NaN and -inf: the guard cell before the table
    np.fmin(x, padded.shape[0] - 2, out=x)  # +inf and far masses: the guard cell after it
    np.floor(x, out=x)
    s = padded[x.astype(np.intp) + 1]
    exact = np.flatnonzero(s == -2)
    if exact.size:
        m = mass[exact]
        k = np.searchsorted(seg_low, m, side="right") - 1
        inside = (k >= 0) & (m < seg_high[np.maximum(k, 0)])
        s[exact] = np.where(inside, k, n_seg)
    return s


def count_segments(mass, table, origin, inv_width, seg_low, seg_high, counts, *, compiled):
    """Add the ions per segment to ``counts[:-1]`` and the unassigned ones to ``counts[-1]``.

    ``compiled=True`` runs the numba kernel over ``table`` (the cells of
    :func:`build_lookup`); otherwise NumPy counts the sorted masses between the segment
    bounds (``table`` unused). Both give identical counts; the compiled one pays for
    numba's import above ~10^6 ions.
    """
    if compiled:
        from liprobe.apt import _range_jit

        _range_jit.count_segments(mass, table, origin, inv_width, seg_low, seg_high, counts)
        return
    counts += _count_sorted(mass, seg_low, seg_high)


def _count_sorted(mass, seg_low, seg_high):
    """Ions per segment and unassigned (last entry) of one chunk, from the sorted chunk.

    Without the compiled kernel, sorting the chunk (NaN last) and searching the bounds is
    several times faster than evaluating the lookup table with NumPy. The bounds are
    float32 values (see the module docstring), so the float32 search is exact.
    """
    ordered = np.sort(mass)
    bounds = np.empty(2 * seg_low.shape[0], np.float32)
    bounds[0::2], bounds[1::2] = seg_low, seg_high
    at = np.searchsorted(ordered, bounds)
    per_segment = at[1::2] - at[0::2]
    return np.append(per_segment, mass.shape[0] - per_segment.sum())


def label_segments(mass, table, origin, inv_width, seg_low, seg_high, seg_value, out, *,
                   compiled):
    """Write ``seg_value[segment]`` (or -1 when unassigned) of every ion into ``out``.

    ``table`` as for :func:`count_segments`.
    """
    if compiled:
        from liprobe.apt import _range_jit

        _range_jit.label_segments(mass, table, origin, inv_width, seg_low, seg_high, seg_value,
                                  out)
        return
    s = _segments_numpy(mass, table, origin, inv_width, seg_low, seg_high)
    value = np.append(seg_value, -1).astype(out.dtype)
    np.take(value, s, out=out)

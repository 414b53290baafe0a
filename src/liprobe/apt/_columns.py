"""Float32 columns of an ion table read in place by numba kernels, whatever their byte order.

A memory-mapped POS/EPOS file holds big-endian float32 records; its columns are strided
views. :func:`column_view` hands a kernel such a column without a copy (big-endian as
``uint32`` bits), and :func:`load` (inside jitted code) turns element ``i`` back into a
float32, byte-swapping on the fly. :func:`finite_bounds` gives the minimum, maximum and the
non-finite count of one to three columns in one pass over the records: the guards of the
analyses (:mod:`liprobe.apt._guards`) and the FDA grid bounds without an N-sized mask.

Imported only for arrays large enough for compiled loops to pay for numba's import.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload


def load(a, i):  # pragma: no cover - replaced by the overload below inside jitted code
    """``a[i]`` as float32; ``a`` is float32, or uint32 holding big-endian float32 bits."""
    raise NotImplementedError


@overload(load, inline="always")
def _load_impl(a, i):  # pragma: no cover - compile-time dispatch
    if a.dtype == types.uint32:
        def impl(a, i):
            v = a[i]
            v = ((v & 0xFF) << 24) | ((v & 0xFF00) << 8) | ((v >> 8) & 0xFF00) | (v >> 24)
            return np.uint32(v).view(np.float32)
        return impl

    def impl(a, i):
        return np.float32(a[i])
    return impl


def column_view(column: np.ndarray) -> np.ndarray:
    """A float32 column the kernels read in place: native as it is, big-endian as uint32 bits.

    No copy either way (a strided column of a memory-mapped POS/EPOS file stays a view);
    any other dtype is converted to native float32 (a copy).
    """
    if column.dtype == np.float32 and column.dtype.isnative:
        return column
    if column.dtype == np.dtype(">f4"):
        return column.view(np.uint32)
    return np.ascontiguousarray(column, dtype=np.float32)


@numba.njit(cache=True, nogil=True)
def _bounds(a, b, c, n_cols):  # pragma: no cover - jitted
    """Per column: min and max of the finite values; rows with a non-finite value, first one."""
    low = np.full(3, np.inf)
    high = np.full(3, -np.inf)
    n_bad = 0
    first = -1
    for i in range(a.shape[0]):
        va = load(a, i)
        vb = load(b, i) if n_cols > 1 else np.float32(0.0)
        vc = load(c, i) if n_cols > 2 else np.float32(0.0)
        if np.isfinite(va) and np.isfinite(vb) and np.isfinite(vc):
            if va < low[0]:
                low[0] = va
            if va > high[0]:
                high[0] = va
            if vb < low[1]:
                low[1] = vb
            if vb > high[1]:
                high[1] = vb
            if vc < low[2]:
                low[2] = vc
            if vc > high[2]:
                high[2] = vc
        else:
            if n_bad == 0:
                first = i
            n_bad += 1
    return low, high, n_bad, first


def finite_bounds(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Min and max (float64) of each of 1-3 equal-length float32 columns over the rows whose
    values are all finite, the number of rows with a non-finite value and the first one
    (-1 if none). One pass, no mask; big-endian columns are read in place."""
    n_cols = len(columns)
    if not 1 <= n_cols <= 3:
        raise ValueError("finite_bounds takes one to three columns")
    views = [column_view(c) for c in columns]
    views += [views[0]] * (3 - n_cols)
    low, high, n_bad, first = _bounds(views[0], views[1], views[2], n_cols)
    return low[:n_cols], high[:n_cols], int(n_bad), int(first)

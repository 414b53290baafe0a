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
def _bounds3(a, b, c):  # pragma: no cover - jitted
    """Per column min and max, and the rows with a non-finite value (x - x is NaN exactly
    for NaN and inf); branch-free, so the loop runs near memory bandwidth. The bounds are
    meaningful only when no row is non-finite."""
    lo0 = lo1 = lo2 = np.float32(np.inf)
    hi0 = hi1 = hi2 = np.float32(-np.inf)
    n_bad = 0
    for i in range(a.shape[0]):
        va = load(a, i)
        vb = load(b, i)
        vc = load(c, i)
        lo0 = min(lo0, va)
        hi0 = max(hi0, va)
        lo1 = min(lo1, vb)
        hi1 = max(hi1, vb)
        lo2 = min(lo2, vc)
        hi2 = max(hi2, vc)
        s = (va - va) + (vb - vb) + (vc - vc)
        n_bad += s != s
    return (np.array([lo0, lo1, lo2], np.float64), np.array([hi0, hi1, hi2], np.float64),
            n_bad)


@numba.njit(cache=True, nogil=True)
def _bounds1(a):  # pragma: no cover - jitted
    """:func:`_bounds3` of one column."""
    lo = np.float32(np.inf)
    hi = np.float32(-np.inf)
    n_bad = 0
    for i in range(a.shape[0]):
        v = load(a, i)
        lo = min(lo, v)
        hi = max(hi, v)
        s = v - v
        n_bad += s != s
    return np.array([lo], np.float64), np.array([hi], np.float64), n_bad


@numba.njit(cache=True, nogil=True)
def _first_bad(a, b, c):  # pragma: no cover - jitted
    """Index of the first row with a non-finite value (-1 if none)."""
    for i in range(a.shape[0]):
        s = (load(a, i) - load(a, i)) + (load(b, i) - load(b, i)) + (load(c, i) - load(c, i))
        if s != s:
            return i
    return -1


def finite_bounds(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Min and max (float64) of each of 1-3 equal-length float32 columns, the number of rows
    with a non-finite value and the first one (-1 if none; the bounds are then undefined).
    One pass, no mask; big-endian columns are read in place."""
    n_cols = len(columns)
    if not 1 <= n_cols <= 3:
        raise ValueError("finite_bounds takes one to three columns")
    views = [column_view(c) for c in columns]
    if n_cols == 1:
        low, high, n_bad = _bounds1(views[0])
    else:
        views += [views[0]] * (3 - n_cols)
        low, high, n_bad = _bounds3(views[0], views[1], views[2])
        low, high = low[:n_cols], high[:n_cols]
    views += [views[0]] * (3 - len(views))
    first = int(_first_bad(views[0], views[1], views[2])) if n_bad else -1
    return low, high, int(n_bad), first

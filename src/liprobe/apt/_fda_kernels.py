"""Numba kernels of the frequency distribution analysis: O(N), no comparison sort."""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload


def _load(a, i):  # pragma: no cover - replaced by the overload below inside jitted code
    """``a[i]`` as float32; ``a`` is float32, or uint32 holding big-endian float32 bits."""
    raise NotImplementedError


@overload(_load, inline="always")
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

    No copy either way (a strided column of a memory-mapped POS/EPOS file stays a view).
    """
    if column.dtype == np.float32 and column.dtype.isnative:
        return column
    if column.dtype == np.dtype(">f4"):
        return column.view(np.uint32)
    return np.ascontiguousarray(column, dtype=np.float32)


@numba.njit(cache=True, nogil=True)
def _slice_of(zi, z0, dz, n_slices):  # pragma: no cover - jitted
    b = int((zi - z0) / dz)
    if b < 0:
        b = 0
    elif b >= n_slices:
        b = n_slices - 1
    return b


@numba.njit(cache=True, nogil=True)
def slice_starts(z, species, z0, dz, n_slices):  # pragma: no cover - jitted
    """First position of each z slice in the counting order (``n_slices + 1`` entries)."""
    starts = np.zeros(n_slices + 1, np.int64)
    for i in range(z.shape[0]):
        if species[i] >= 0:
            starts[_slice_of(_load(z, i), z0, dz, n_slices) + 1] += 1
    for b in range(n_slices):
        starts[b + 1] += starts[b]
    return starts


@numba.njit(cache=True, nogil=True)
def fill_order(z, species, z0, dz, n_slices, starts, order):  # pragma: no cover - jitted
    """Indices of the ranged ions ordered by z slice (stable counting sort) into ``order``."""
    next_free = starts[:-1].copy()
    for i in range(z.shape[0]):
        if species[i] >= 0:
            b = _slice_of(_load(z, i), z0, dz, n_slices)
            order[next_free[b]] = i
            next_free[b] += 1


def counting_order(z, species, z0, dz, n_slices):
    """Indices of the ranged ions ordered by z slice: int32 when the ion count allows.

    ``z`` as from :func:`column_view`.
    """
    starts = slice_starts(z, species, z0, dz, n_slices)
    dtype = np.int32 if z.shape[0] < 2**31 else np.int64
    order = np.empty(int(starts[-1]), dtype)
    fill_order(z, species, z0, dz, n_slices, starts, order)
    return order


@numba.njit(cache=True, nogil=True)
def stream_blocks(order, x, y, z, species, contains, spatial, x0, y0, cell_nm, nx, ny,
                  block_ions, max_blocks):  # pragma: no cover
    """Close a block every ``block_ions`` ranged ions per x-y column (or in one stream).

    ``x``, ``y``, ``z`` as from :func:`column_view` (read in place, never copied).

    ``contains[s, e]`` is 1 when species ``s`` contains element ``e``. Returns per-block
    counts of ions containing each element (n_blocks, n_elements), each block's z
    extent and its mid z; unfinished blocks are discarded.
    """
    n_el = contains.shape[1]
    n_cols = nx * ny if spatial else 1
    acc = np.zeros((n_cols, n_el), np.int32)
    filled = np.zeros(n_cols, np.int64)
    zlo = np.full(n_cols, np.inf)
    zhi = np.full(n_cols, -np.inf)
    out = np.zeros((max_blocks, n_el), np.int32)
    height = np.zeros(max_blocks, np.float64)
    middle = np.zeros(max_blocks, np.float64)
    nb = 0
    for j in range(order.shape[0]):
        i = order[j]
        s = species[i]
        if s < 0:
            continue
        c = 0
        if spatial:
            cx = int((_load(x, i) - x0) / cell_nm)
            cy = int((_load(y, i) - y0) / cell_nm)
            if cx < 0 or cy < 0 or cx >= nx or cy >= ny:
                continue
            c = cy * nx + cx
        for e in range(n_el):
            acc[c, e] += contains[s, e]
        filled[c] += 1
        zi = _load(z, i)
        if zi < zlo[c]:
            zlo[c] = zi
        if zi > zhi[c]:
            zhi[c] = zi
        if filled[c] == block_ions:
            if nb < max_blocks:
                for f in range(n_el):
                    out[nb, f] = acc[c, f]
                height[nb] = zhi[c] - zlo[c]
                middle[nb] = 0.5 * (zhi[c] + zlo[c])
                nb += 1
            for f in range(n_el):
                acc[c, f] = 0
            filled[c] = 0
            zlo[c] = np.inf
            zhi[c] = -np.inf
    return out[:nb], height[:nb], middle[:nb]

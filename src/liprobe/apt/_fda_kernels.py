"""Numba kernels of the frequency distribution analysis: O(N), no comparison sort."""

from __future__ import annotations

import numba
import numpy as np

from liprobe.apt._columns import column_view
from liprobe.apt._columns import load as _load

__all__ = ["column_view", "counting_order", "spatial_blocks", "evaporation_blocks", "ORDER_CHUNK"]


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
def fill_order(z, species, z0, dz, n_slices, starts, first, stop, order):  # pragma: no cover
    """Indices of the ranged ions in slices ``first..stop-1``, ordered by z slice (stable
    counting sort), into ``order`` (``starts[stop] - starts[first]`` entries)."""
    next_free = starts[first:stop] - starts[first]
    for i in range(z.shape[0]):
        if species[i] >= 0:
            b = _slice_of(_load(z, i), z0, dz, n_slices)
            if b >= first and b < stop:
                order[next_free[b - first]] = i
                next_free[b - first] += 1


def counting_order(z, species, z0, dz, n_slices):
    """Indices of all ranged ions ordered by z slice: int32 when the ion count allows.

    ``z`` as from :func:`column_view`.
    """
    starts = slice_starts(z, species, z0, dz, n_slices)
    dtype = np.int32 if z.shape[0] < 2**31 else np.int64
    order = np.empty(int(starts[-1]), dtype)
    fill_order(z, species, z0, dz, n_slices, starts, 0, n_slices, order)
    return order


#: Most ion indices held at once by the z ordering of the spatial FDA (int32: 128 MiB).
#: More ranged ions are ordered in groups of whole z slices, one pass over z per group.
ORDER_CHUNK = 1 << 25


def slice_groups(starts: np.ndarray, max_ions: int) -> list[tuple[int, int]]:
    """Consecutive slice ranges ``(first, stop)`` of at most ``max_ions`` ranged ions each
    (a single slice holding more forms a group of its own)."""
    n_slices = starts.shape[0] - 1
    groups = []
    first = 0
    while first < n_slices:
        # the last slice whose end stays within max_ions of this group's start
        stop = int(np.searchsorted(starts, starts[first] + max_ions, side="right")) - 1
        stop = min(max(stop, first + 1), n_slices)
        groups.append((first, stop))
        first = stop
    return groups


class BlockStream:
    """State of the block streaming across several pieces of the counting order: per x-y
    column the partial block (ions per species, ions, z extent) and the finished blocks."""

    def __init__(self, n_cols: int, n_species: int, n_el: int, max_blocks: int):
        self.acc = np.zeros((n_cols, n_species), np.int32)
        self.filled = np.zeros(n_cols, np.int64)
        self.zlo = np.full(n_cols, np.inf)
        self.zhi = np.full(n_cols, -np.inf)
        self.out = np.zeros((max_blocks, n_el), np.int32)
        self.height = np.zeros(max_blocks, np.float64)
        self.middle = np.zeros(max_blocks, np.float64)
        self.nb = 0

    def result(self):
        """Counts per finished block (n_blocks, n_elements), z extents and mid z."""
        nb = self.nb
        return self.out[:nb], self.height[:nb], self.middle[:nb]


def stream_blocks(order, x, y, z, species, contains, spatial, x0, y0, cell_nm, nx, ny,
                  block_ions, state: BlockStream) -> None:
    """Stream the ions of ``order`` (a piece of the counting order) into ``state``."""
    state.nb = _stream(order, x, y, z, species, contains, spatial, x0, y0, cell_nm, nx, ny,
                       block_ions, state.acc, state.filled, state.zlo, state.zhi, state.out,
                       state.height, state.middle, state.nb)


@numba.njit(cache=True, nogil=True)
def _stream(order, x, y, z, species, contains, spatial, x0, y0, cell_nm, nx, ny,
            block_ions, acc, filled, zlo, zhi, out, height, middle, nb):  # pragma: no cover
    """Close a block every ``block_ions`` ranged ions per x-y column (or in one stream).

    ``x``, ``y``, ``z`` as from :func:`column_view` (read in place, never copied).
    ``contains[s, e]`` is 1 when species ``s`` contains element ``e``. Finished blocks are
    written to ``out`` (counts of ions containing each element), ``height`` (z extent) and
    ``middle`` (mid z) from index ``nb`` on; returns the new number of blocks. Partial
    blocks stay in ``acc`` (ions per species: one increment per ion, the element counts
    made when the block closes), ``filled``, ``zlo`` and ``zhi`` for the next piece.
    """
    n_el = contains.shape[1]
    n_sp = contains.shape[0]
    max_blocks = out.shape[0]
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
        acc[c, s] += 1
        filled[c] += 1
        zi = _load(z, i)
        if zi < zlo[c]:
            zlo[c] = zi
        if zi > zhi[c]:
            zhi[c] = zi
        if filled[c] == block_ions:
            if nb < max_blocks:
                for f in range(n_el):
                    k = 0
                    for t in range(n_sp):
                        k += acc[c, t] * contains[t, f]
                    out[nb, f] = k
                height[nb] = zhi[c] - zlo[c]
                middle[nb] = 0.5 * (zhi[c] + zlo[c])
                nb += 1
            for t in range(n_sp):
                acc[c, t] = 0
            filled[c] = 0
            zlo[c] = np.inf
            zhi[c] = -np.inf
    return nb


def spatial_blocks(x, y, z, species, contains, *, x0, y0, z0, cell_nm, dz, nx, ny, n_slices,
                   block_ions, max_blocks, order_chunk=None):
    """Blocks of the spatial FDA: ranged ions streamed in z-slice order into x-y columns.

    The counting order is built for groups of whole z slices of at most ``order_chunk``
    ions (:data:`ORDER_CHUNK`) at a time, one pass over ``z`` per group, and streamed group
    after group with the column state carried over: the blocks are those of one order over
    all ions, with a bounded index buffer.
    """
    starts = slice_starts(z, species, z0, dz, n_slices)
    chunk = int(ORDER_CHUNK if order_chunk is None else order_chunk)
    groups = slice_groups(starts, max(chunk, 1))
    dtype = np.int32 if z.shape[0] < 2**31 else np.int64
    largest = max((int(starts[b] - starts[a]) for a, b in groups), default=0)
    buffer = np.empty(largest, dtype)
    state = BlockStream(nx * ny, contains.shape[0], contains.shape[1], max_blocks)
    for first, stop in groups:
        order = buffer[: int(starts[stop] - starts[first])]
        fill_order(z, species, z0, dz, n_slices, starts, first, stop, order)
        stream_blocks(order, x, y, z, species, contains, True, x0, y0, cell_nm, nx, ny,
                      block_ions, state)
    return state.result()


def evaporation_blocks(x, y, z, species, contains, *, block_ions, max_blocks,
                       order_chunk=None):
    """Blocks of consecutive ranged ions in detection order (indices made piece by piece)."""
    chunk = int(ORDER_CHUNK if order_chunk is None else order_chunk)
    state = BlockStream(1, contains.shape[0], contains.shape[1], max_blocks)
    n = z.shape[0]
    for start in range(0, n, max(chunk, 1)):
        order = np.arange(start, min(start + chunk, n), dtype=np.int64)
        stream_blocks(order, x, y, z, species, contains, False, 0.0, 0.0, 1.0, 1, 1,
                      block_ions, state)
    return state.result()

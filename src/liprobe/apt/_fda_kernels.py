"""Numba kernels of the frequency distribution analysis: O(N), no comparison sort."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def counting_order(z, species, z0, dz, n_slices):  # pragma: no cover
    """Indices of the ranged ions ordered by z slice (stable counting sort)."""
    counts = np.zeros(n_slices + 1, np.int64)
    n = z.shape[0]
    for i in range(n):
        if species[i] < 0:
            continue
        b = int((z[i] - z0) / dz)
        if b < 0:
            b = 0
        elif b >= n_slices:
            b = n_slices - 1
        counts[b + 1] += 1
    for b in range(n_slices):
        counts[b + 1] += counts[b]
    order = np.empty(counts[n_slices], np.int64)
    for i in range(n):
        if species[i] < 0:
            continue
        b = int((z[i] - z0) / dz)
        if b < 0:
            b = 0
        elif b >= n_slices:
            b = n_slices - 1
        order[counts[b]] = i
        counts[b] += 1
    return order


@numba.njit(cache=True, nogil=True)
def stream_blocks(order, x, y, z, species, contains, spatial, x0, y0, cell_nm, nx, ny,
                  block_ions, max_blocks):  # pragma: no cover
    """Close a block every ``block_ions`` ranged ions per x-y column (or in one stream).

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
            cx = int((x[i] - x0) / cell_nm)
            cy = int((y[i] - y0) / cell_nm)
            if cx < 0 or cy < 0 or cx >= nx or cy >= ny:
                continue
            c = cy * nx + cx
        for e in range(n_el):
            acc[c, e] += contains[s, e]
        filled[c] += 1
        zi = z[i]
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

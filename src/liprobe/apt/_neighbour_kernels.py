"""Numba kernels of cluster analysis on a uniform cell grid (a cell list).

Points are counting-sorted by cell (stable: ion order within a cell), so every neighbour
search reads a few contiguous runs of the sorted copy. A radius ``r`` searches
``reach = ceil(r / cell)`` cells either side. Distances are computed in float64 and a
neighbour is within ``r`` when ``d^2 <= r^2`` (as ``scipy.spatial.cKDTree``).

- :func:`grid_sort`: the cell list of an (N, 3) array (cell starts, order, sorted copy);
- :func:`link_core`: core linkage of points (the maximum-separation method and DBSCAN);
- :func:`envelope_pass`, :func:`within_of_any`: envelope and erosion of clusters, every
  ion queried in its own order against a small cell list (of cluster ions).

Faster than a KD-tree here: cluster analysis asks only for neighbours within one short
distance, and most envelope queries lie far from every cluster (one cell lookup).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _cell_of(x, y, z, lo, inv_cell, shape):  # pragma: no cover
    cx = min(max(int(np.floor((x - lo[0]) * inv_cell)), 0), shape[0] - 1)
    cy = min(max(int(np.floor((y - lo[1]) * inv_cell)), 0), shape[1] - 1)
    cz = min(max(int(np.floor((z - lo[2]) * inv_cell)), 0), shape[2] - 1)
    return (cx * shape[1] + cy) * shape[2] + cz


@numba.njit(cache=True, nogil=True)
def grid_sort(xyz, lo, cell, shape, order):  # pragma: no cover
    """Cell list of ``xyz`` (N, 3): ``(start, sorted_xyz)``; fills ``order`` (N,).

    ``start[c]:start[c + 1]`` are the sorted positions of cell ``c``; ``order[k]`` is the
    row of ``xyz`` at sorted position ``k``; ``sorted_xyz = xyz[order]``.
    """
    n = xyz.shape[0]
    inv = 1.0 / cell
    n_cells = shape[0] * shape[1] * shape[2]
    start = np.zeros(n_cells + 1, np.int64)
    for i in range(n):
        start[_cell_of(xyz[i, 0], xyz[i, 1], xyz[i, 2], lo, inv, shape) + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    out = np.empty((n, 3), xyz.dtype)
    for i in range(n):
        c = _cell_of(xyz[i, 0], xyz[i, 1], xyz[i, 2], lo, inv, shape)
        k = fill[c]
        fill[c] = k + 1
        order[k] = i
        out[k, 0] = xyz[i, 0]
        out[k, 1] = xyz[i, 1]
        out[k, 2] = xyz[i, 2]
    return start, out


@numba.njit(cache=True, nogil=True)
def _find(parent, i):  # pragma: no cover
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@numba.njit(cache=True, nogil=True)
def link_core(sxyz, start, shape, order, radius, reach, min_neighbours):  # pragma: no cover
    """Core-linkage labels per original point (-1: none), numbered as connected components.

    Cores (at least ``min_neighbours`` other points within ``radius``) within ``radius``
    share a label; a non-core point takes the label of its nearest core within
    ``radius``. Labels count up in the order of each cluster's first core (lowest original
    index), as ``scipy.sparse.csgraph.connected_components`` numbers components.
    """
    n = sxyz.shape[0]
    r2 = radius * radius
    s1 = shape[1]
    s2 = shape[2]
    cell_of_k = np.empty(n, np.int64)
    for c in range(start.size - 1):
        for k in range(start[c], start[c + 1]):
            cell_of_k[k] = c
    core = np.zeros(n, np.bool_)
    if min_neighbours <= 0:
        core[:] = True
    else:
        for k in range(n):
            c = cell_of_k[k]
            cz0 = c % s2
            cy0 = (c // s2) % s1
            cx0 = c // (s1 * s2)
            x, y, z = np.float64(sxyz[k, 0]), np.float64(sxyz[k, 1]), np.float64(sxyz[k, 2])
            count = 0
            for ix in range(max(cx0 - reach, 0), min(cx0 + reach + 1, shape[0])):
                for iy in range(max(cy0 - reach, 0), min(cy0 + reach + 1, s1)):
                    base = (ix * s1 + iy) * s2
                    for j in range(start[base + max(cz0 - reach, 0)],
                                   start[base + min(cz0 + reach + 1, s2)]):
                        if j == k:
                            continue
                        dx = sxyz[j, 0] - x
                        dy = sxyz[j, 1] - y
                        dz = sxyz[j, 2] - z
                        if dx * dx + dy * dy + dz * dz <= r2:
                            count += 1
                            if count >= min_neighbours:
                                break
                    if count >= min_neighbours:
                        break
                if count >= min_neighbours:
                    break
            core[k] = count >= min_neighbours
    parent = np.arange(n)
    for k in range(n):
        if not core[k]:
            continue
        c = cell_of_k[k]
        cz0 = c % s2
        cy0 = (c // s2) % s1
        cx0 = c // (s1 * s2)
        x, y, z = np.float64(sxyz[k, 0]), np.float64(sxyz[k, 1]), np.float64(sxyz[k, 2])
        for ix in range(max(cx0 - reach, 0), min(cx0 + reach + 1, shape[0])):
            for iy in range(max(cy0 - reach, 0), min(cy0 + reach + 1, s1)):
                base = (ix * s1 + iy) * s2
                lo_k = max(start[base + max(cz0 - reach, 0)], k + 1)
                hi_k = start[base + min(cz0 + reach + 1, s2)]
                for j in range(lo_k, hi_k):
                    if not core[j]:
                        continue
                    dx = sxyz[j, 0] - x
                    dy = sxyz[j, 1] - y
                    dz = sxyz[j, 2] - z
                    if dx * dx + dy * dy + dz * dz <= r2:
                        a = _find(parent, k)
                        b = _find(parent, j)
                        if a != b:
                            if a < b:
                                parent[b] = a
                            else:
                                parent[a] = b
    # number the clusters in the order of their first core, by original index
    where = np.empty(n, np.int64)
    for k in range(n):
        where[order[k]] = k
    number = np.full(n, -1, np.int64)
    sorted_label = np.full(n, -1, np.int64)
    next_label = 0
    for i in range(n):
        k = where[i]
        if core[k]:
            root = _find(parent, k)
            if number[root] < 0:
                number[root] = next_label
                next_label += 1
            sorted_label[k] = number[root]
    labels = np.full(n, -1, np.int64)
    for k in range(n):
        if core[k]:
            labels[order[k]] = sorted_label[k]
            continue
        # a border point: the label of its nearest core within the radius
        c = cell_of_k[k]
        cz0 = c % s2
        cy0 = (c // s2) % s1
        cx0 = c // (s1 * s2)
        x, y, z = np.float64(sxyz[k, 0]), np.float64(sxyz[k, 1]), np.float64(sxyz[k, 2])
        best = r2
        hit = -1
        for ix in range(max(cx0 - reach, 0), min(cx0 + reach + 1, shape[0])):
            for iy in range(max(cy0 - reach, 0), min(cy0 + reach + 1, s1)):
                base = (ix * s1 + iy) * s2
                for j in range(start[base + max(cz0 - reach, 0)],
                               start[base + min(cz0 + reach + 1, s2)]):
                    if core[j]:
                        dx = sxyz[j, 0] - x
                        dy = sxyz[j, 1] - y
                        dz = sxyz[j, 2] - z
                        d2 = dx * dx + dy * dy + dz * dz
                        if d2 < best or (d2 == best and hit < 0):
                            best = d2
                            hit = j
        if hit >= 0:
            labels[order[k]] = sorted_label[hit]
    return labels


@numba.njit(cache=True, nogil=True)
def bounds(xyz):  # pragma: no cover
    """``(lo, hi)``: the per-axis minimum and maximum of ``xyz`` (N >= 1, 3)."""
    lo = np.empty(3)
    hi = np.empty(3)
    for a in range(3):
        lo[a] = xyz[0, a]
        hi[a] = xyz[0, a]
    for i in range(xyz.shape[0]):
        for a in range(3):
            v = xyz[i, a]
            if v < lo[a]:
                lo[a] = v
            elif v > hi[a]:
                hi[a] = v
    return lo, hi


@numba.njit(cache=True, nogil=True)
def _near_cells(start, shape, reach):  # pragma: no cover
    """Cells within ``reach`` cells of a non-empty one: the only ones a query can hit."""
    s1 = shape[1]
    s2 = shape[2]
    n_cells = start.size - 1
    near = np.zeros(n_cells, np.bool_)
    for c in range(n_cells):
        if start[c + 1] > start[c]:
            cz0 = c % s2
            cy0 = (c // s2) % s1
            cx0 = c // (s1 * s2)
            for ix in range(max(cx0 - reach, 0), min(cx0 + reach + 1, shape[0])):
                for iy in range(max(cy0 - reach, 0), min(cy0 + reach + 1, s1)):
                    base = (ix * s1 + iy) * s2
                    for iz in range(max(cz0 - reach, 0), min(cz0 + reach + 1, s2)):
                        near[base + iz] = True
    return near


@numba.njit(cache=True, nogil=True)
def _query_cell(x, y, z, lo, inv_cell, shape):  # pragma: no cover
    """The cell of a query point, -1 outside the grid."""
    cx = int(np.floor((x - lo[0]) * inv_cell))
    cy = int(np.floor((y - lo[1]) * inv_cell))
    cz = int(np.floor((z - lo[2]) * inv_cell))
    if cx < 0 or cy < 0 or cz < 0 or cx >= shape[0] or cy >= shape[1] or cz >= shape[2]:
        return -1
    return (cx * shape[1] + cy) * shape[2] + cz


@numba.njit(cache=True, nogil=True, parallel=True)
def envelope_pass(sref, slab, start, lo, cell, shape, reach, radius, xyz, order, skip,
                  labels):  # pragma: no cover
    """Each ion (``skip`` false) within ``radius`` of a reference point takes its label.

    ``sref``/``slab``: the cell-sorted reference points (cluster solute ions) and their
    labels; the label of the *nearest* one is written into ``labels``. ``xyz[k]`` is ion
    ``order[k]`` (ions bucketed by coarse blocks, so the lookups stay in cache); one table
    lookup rejects those far from every reference point. Returns the mask of the ions
    given a label.
    """
    n = xyz.shape[0]
    s1 = shape[1]
    s2 = shape[2]
    near = _near_cells(start, shape, reach)
    inv = 1.0 / cell
    r2 = radius * radius
    added = np.zeros(n, np.bool_)
    for k in numba.prange(n):
        i = order[k]
        if skip[i]:
            continue
        x, y, z = np.float64(xyz[k, 0]), np.float64(xyz[k, 1]), np.float64(xyz[k, 2])
        c = _query_cell(x, y, z, lo, inv, shape)
        if c < 0 or not near[c]:
            continue
        cz0 = c % s2
        cy0 = (c // s2) % s1
        cx0 = c // (s1 * s2)
        best = r2
        hit = -1
        for ix in range(max(cx0 - reach, 0), min(cx0 + reach + 1, shape[0])):
            for iy in range(max(cy0 - reach, 0), min(cy0 + reach + 1, s1)):
                base = (ix * s1 + iy) * s2
                for j in range(start[base + max(cz0 - reach, 0)],
                               start[base + min(cz0 + reach + 1, s2)]):
                    dx = sref[j, 0] - x
                    dy = sref[j, 1] - y
                    dz = sref[j, 2] - z
                    d2 = dx * dx + dy * dy + dz * dz
                    if d2 < best or (d2 == best and hit < 0):
                        best = d2
                        hit = j
        if hit >= 0:
            labels[i] = slab[hit]
            added[i] = True
    return added


@numba.njit(cache=True, nogil=True, parallel=True)
def within_of_any(sref, start, lo, cell, shape, reach, radius, xyz, order,
                  query):  # pragma: no cover
    """Mask over the sorted reference points: within ``radius`` of an ion with ``query``.

    ``xyz[k]`` is ion ``order[k]`` (as in :func:`envelope_pass`).
    """
    n = xyz.shape[0]
    s1 = shape[1]
    s2 = shape[2]
    near = _near_cells(start, shape, reach)
    inv = 1.0 / cell
    r2 = radius * radius
    hit = np.zeros(sref.shape[0], np.bool_)
    for k in numba.prange(n):  # threads only ever set True: a benign race
        if not query[order[k]]:
            continue
        x, y, z = np.float64(xyz[k, 0]), np.float64(xyz[k, 1]), np.float64(xyz[k, 2])
        c = _query_cell(x, y, z, lo, inv, shape)
        if c < 0 or not near[c]:
            continue
        cz0 = c % s2
        cy0 = (c // s2) % s1
        cx0 = c // (s1 * s2)
        for ix in range(max(cx0 - reach, 0), min(cx0 + reach + 1, shape[0])):
            for iy in range(max(cy0 - reach, 0), min(cy0 + reach + 1, s1)):
                base = (ix * s1 + iy) * s2
                for j in range(start[base + max(cz0 - reach, 0)],
                               start[base + min(cz0 + reach + 1, s2)]):
                    if not hit[j]:
                        dx = sref[j, 0] - x
                        dy = sref[j, 1] - y
                        dz = sref[j, 2] - z
                        if dx * dx + dy * dy + dz * dz <= r2:
                            hit[j] = True
    return hit

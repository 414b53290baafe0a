"""Numba kernel: nearest reference point within a radius, on a uniform cell grid.

Faster than a KD-tree for the envelope/erosion steps of cluster analysis, where most
queries lie far from every reference point (one cell lookup rejects them).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def nearest_within(ref, query, radius, any_hit=False):  # pragma: no cover
    """``(distance, index)`` of the nearest ``ref`` point within ``radius`` of each query.

    ``ref`` (M, 3) and ``query`` (N, 3) float arrays; no neighbour: ``inf`` and -1. With
    ``any_hit`` the search stops at the first ref point within ``radius`` (existence only:
    its distance and index, not the nearest's).
    """
    n_query = query.shape[0]
    dist = np.full(n_query, np.inf)
    index = np.full(n_query, -1, np.int64)
    m = ref.shape[0]
    if m == 0:
        return dist, index
    lo = np.empty(3)
    shape = np.empty(3, np.int64)
    for a in range(3):
        lo[a] = ref[:, a].min() - radius
        shape[a] = int((ref[:, a].max() + radius - lo[a]) / radius) + 1
    cell = np.empty(m, np.int64)
    for i in range(m):
        cx = int((ref[i, 0] - lo[0]) / radius)
        cy = int((ref[i, 1] - lo[1]) / radius)
        cz = int((ref[i, 2] - lo[2]) / radius)
        cell[i] = (cx * shape[1] + cy) * shape[2] + cz
    order = np.argsort(cell)
    sref = np.empty((m, 3))  # ref points contiguous by cell
    for k in range(m):
        sref[k, 0] = ref[order[k], 0]
        sref[k, 1] = ref[order[k], 1]
        sref[k, 2] = ref[order[k], 2]
    n_cells = shape[0] * shape[1] * shape[2]
    start = np.zeros(n_cells + 1, np.int64)
    for i in range(m):
        start[cell[i] + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    # cells with a reference point in or beside them: a small table that rejects most
    # queries with one lookup that stays in cache
    near = np.zeros(n_cells, np.uint8)
    for c in range(n_cells):
        if start[c + 1] > start[c]:
            ix0 = c // (shape[1] * shape[2])
            iy0 = (c // shape[2]) % shape[1]
            iz0 = c % shape[2]
            for ix in range(max(ix0 - 1, 0), min(ix0 + 2, shape[0])):
                for iy in range(max(iy0 - 1, 0), min(iy0 + 2, shape[1])):
                    for iz in range(max(iz0 - 1, 0), min(iz0 + 2, shape[2])):
                        near[(ix * shape[1] + iy) * shape[2] + iz] = 1
    r2 = radius * radius
    # visit the queries cell by cell (memory locality), skipping those far from any ref
    qcell = np.full(n_query, -1, np.int64)
    for q in range(n_query):
        cx = int(np.floor((query[q, 0] - lo[0]) / radius))
        cy = int(np.floor((query[q, 1] - lo[1]) / radius))
        cz = int(np.floor((query[q, 2] - lo[2]) / radius))
        if (cx < 0 or cy < 0 or cz < 0 or cx >= shape[0] or cy >= shape[1]
                or cz >= shape[2]):
            continue
        c = (cx * shape[1] + cy) * shape[2] + cz
        if near[c]:
            qcell[q] = c
    todo = np.flatnonzero(qcell >= 0)
    visit = todo[np.argsort(qcell[todo])]
    for q in visit:
        x, y, z = query[q, 0], query[q, 1], query[q, 2]
        c = qcell[q]
        cz = c % shape[2]
        cy = (c // shape[2]) % shape[1]
        cx = c // (shape[1] * shape[2])
        best = r2
        hit = -1
        for ix in range(max(cx - 1, 0), min(cx + 2, shape[0])):
            for iy in range(max(cy - 1, 0), min(cy + 2, shape[1])):
                base = (ix * shape[1] + iy) * shape[2]
                for iz in range(max(cz - 1, 0), min(cz + 2, shape[2])):
                    c = base + iz
                    for k in range(start[c], start[c + 1]):
                        dx = sref[k, 0] - x
                        dy = sref[k, 1] - y
                        dz = sref[k, 2] - z
                        d2 = dx * dx + dy * dy + dz * dz
                        if d2 <= best:
                            best = d2
                            hit = order[k]
                            if any_hit:
                                break
                    if any_hit and hit >= 0:
                        break
                if any_hit and hit >= 0:
                    break
            if any_hit and hit >= 0:
                break
        if hit >= 0:
            dist[q] = np.sqrt(best)
            index[q] = hit
    return dist, index

"""Numba kernel: trilinear interpolation of a voxel-centre grid at many points, one pass."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def interpolate_trilinear(grid, xyz, x0, y0, z0, voxel_nm, limit):  # pragma: no cover
    """Grid value at each point (float32; NaN outside, next to a NaN, or beyond ``limit``).

    ``grid[i, j, k]`` holds the value at ``(x0, y0, z0) + (i + 0.5, j + 0.5, k + 0.5) * voxel``.
    """
    n = xyz.shape[0]
    out = np.full(n, np.nan, np.float32)
    nx, ny, nz = grid.shape
    inv = 1.0 / voxel_nm
    for p in range(n):
        fx = (xyz[p, 0] - x0) * inv - 0.5
        fy = (xyz[p, 1] - y0) * inv - 0.5
        fz = (xyz[p, 2] - z0) * inv - 0.5
        i = int(np.floor(fx))
        j = int(np.floor(fy))
        k = int(np.floor(fz))
        if i < 0 or j < 0 or k < 0 or i >= nx - 1 or j >= ny - 1 or k >= nz - 1:
            continue
        if np.isnan(grid[i, j, k]):
            continue
        tx, ty, tz = fx - i, fy - j, fz - k
        c00 = grid[i, j, k] * (1 - tx) + grid[i + 1, j, k] * tx
        c10 = grid[i, j + 1, k] * (1 - tx) + grid[i + 1, j + 1, k] * tx
        c01 = grid[i, j, k + 1] * (1 - tx) + grid[i + 1, j, k + 1] * tx
        c11 = grid[i, j + 1, k + 1] * (1 - tx) + grid[i + 1, j + 1, k + 1] * tx
        value = (c00 * (1 - ty) + c10 * ty) * (1 - tz) + (c01 * (1 - ty) + c11 * ty) * tz
        if abs(value) <= limit:
            out[p] = value
    return out

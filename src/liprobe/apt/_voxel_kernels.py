"""Numba kernel: per-voxel atom counts of one element and of all elements, one pass."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def voxelise(x, y, z, species, element_atoms, total_atoms, x0, y0, z0, voxel_nm,
             nx, ny, nz):  # pragma: no cover
    """Two float32 grids (nx, ny, nz): atoms of the element and all atoms per voxel."""
    solute = np.zeros((nx, ny, nz), np.float32)
    total = np.zeros((nx, ny, nz), np.float32)
    inv = 1.0 / voxel_nm
    for i in range(x.shape[0]):
        s = species[i]
        if s < 0:
            continue
        ix = int((x[i] - x0) * inv)
        iy = int((y[i] - y0) * inv)
        iz = int((z[i] - z0) * inv)
        if ix < 0 or iy < 0 or iz < 0 or ix >= nx or iy >= ny or iz >= nz:
            continue
        solute[ix, iy, iz] += element_atoms[s]
        total[ix, iy, iz] += total_atoms[s]
    return solute, total

"""Numba kernels of the point-projection reconstruction (one sequential pass, O(N))."""

from __future__ import annotations

import math

import numba
import numpy as np

#: Radius from the voltage (Bas), from the shank geometry, or from a tip profile.
MODE_VOLTAGE, MODE_SHANK, MODE_PROFILE = 0, 1, 2


@numba.njit(cache=True, nogil=True)
def _radius(mode, voltage, r_per_volt, r0, growth, depth, prof_depth, prof_radius, k):
    # k is the tip-profile segment pointer (depth only grows): returns (R, k)
    if mode == 0:
        return voltage * r_per_volt, k
    if mode == 1:
        return r0 + depth * growth, k
    m = prof_depth.shape[0]
    while k < m - 2 and depth > prof_depth[k + 1]:
        k += 1
    if m == 1 or depth <= prof_depth[0]:
        return prof_radius[0], k
    if depth >= prof_depth[m - 1]:
        return prof_radius[m - 1], k
    t = (depth - prof_depth[k]) / (prof_depth[k + 1] - prof_depth[k])
    return prof_radius[k] + t * (prof_radius[k + 1] - prof_radius[k]), k


@numba.njit(cache=True, nogil=True)
def _radius_and_depth(voltage, mode, r_per_volt, r0, growth, prof_depth, prof_radius,
                      dz_const, radius, depth_out):  # pragma: no cover
    """Sequential pass: R_i and the apex depth sum_{j<=i} dz_j (no angles)."""
    depth = 0.0
    k = 0
    for i in range(voltage.shape[0]):
        r, k = _radius(mode, voltage[i], r_per_volt, r0, growth, depth, prof_depth,
                       prof_radius, k)
        depth += dz_const / (r * r)
        radius[i] = r
        depth_out[i] = depth
    return depth


@numba.njit(cache=True, nogil=True, parallel=True, fastmath=True)
def _place(det_x, det_y, radius, depth, flight_mm, icf, xyz):  # pragma: no cover
    """Parallel pass: x = R sin(theta) cos(phi), y ..., z = -depth - R (1 - cos(theta))."""
    for i in numba.prange(det_x.shape[0]):
        x = det_x[i]
        y = det_y[i]
        d = math.sqrt(x * x + y * y)
        theta = icf * math.atan(d / flight_mm)
        r = radius[i]
        scale = r * math.sin(theta) / d if d > 0 else 0.0
        xyz[i, 0] = scale * x
        xyz[i, 1] = scale * y
        xyz[i, 2] = -depth[i] - r * (1.0 - math.cos(theta))


def reconstruct_kernel(det_x, det_y, voltage, mode, r_per_volt, r0, growth, prof_depth,
                       prof_radius, flight_mm, icf, dz_const, xyz, radius):
    """Fill ``xyz`` (N, 3) and ``radius`` (N,); return the final apex depth (nm).

    R_i from ``mode``; theta = icf arctan(D / L); x = R sin(theta) cos(phi) ...;
    dz_i = dz_const / R_i^2; z_i = -sum_{j<=i} dz_j - R_i (1 - cos(theta)). The shank and
    profile radii use the depth before ion i (sum over j < i). The depth is summed in
    float64 in one sequential pass; the angles run in parallel.
    """
    depth = np.empty(det_x.shape[0], np.float64)
    total = _radius_and_depth(voltage, mode, r_per_volt, r0, growth, prof_depth, prof_radius,
                              dz_const, radius, depth)
    _place(det_x, det_y, radius, depth, flight_mm, icf, xyz)
    return total


@numba.njit(cache=True, nogil=True)
def apex_depth_kernel(voltage, mode, r_per_volt, r0, growth, prof_depth, prof_radius,
                      dz_const, picks):  # pragma: no cover
    """Apex depth sum_{j<=i} dz_j at the sorted ion indices ``picks`` (no angles needed)."""
    out = np.empty(picks.shape[0], np.float64)
    depth = 0.0
    k = 0
    p = 0
    n = voltage.shape[0]
    for i in range(n):
        if p >= picks.shape[0]:
            break
        r, k = _radius(mode, voltage[i], r_per_volt, r0, growth, depth, prof_depth,
                       prof_radius, k)
        depth += dz_const / (r * r)
        while p < picks.shape[0] and picks[p] == i:
            out[p] = depth
            p += 1
    return out

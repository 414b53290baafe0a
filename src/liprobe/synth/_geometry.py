"""Needle geometry: a truncated cone along +z (z = 0 is the top, first evaporated)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["cone_volume_nm3", "length_for_volume_nm", "sample_cone", "segment_distance_nm"]


def cone_volume_nm3(apex_radius_nm: float, tan_half_angle: float, length_nm: float) -> float:
    """Volume of the truncated cone from z = 0 to ``length_nm``."""
    if tan_half_angle == 0:
        return math.pi * apex_radius_nm**2 * length_nm
    r_end = apex_radius_nm + tan_half_angle * length_nm
    return math.pi * (r_end**3 - apex_radius_nm**3) / (3 * tan_half_angle)


def length_for_volume_nm(apex_radius_nm: float, tan_half_angle: float, volume_nm3: float) -> float:
    """Length of the truncated cone that holds ``volume_nm3``."""
    if tan_half_angle == 0:
        return volume_nm3 / (math.pi * apex_radius_nm**2)
    r_end = (apex_radius_nm**3 + 3 * tan_half_angle * volume_nm3 / math.pi) ** (1 / 3)
    return (r_end - apex_radius_nm) / tan_half_angle


def sample_cone(
    n: int, apex_radius_nm: float, tan_half_angle: float, length_nm: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in the cone volume, sorted by z (evaporation order).

    Sorted uniforms come from normalised cumulative sums of exponentials (O(n), no sort),
    mapped through the inverse of the cone's volume CDF.

    Returns
    -------
    xyz_nm : (n, 3) float32 array
    radius_nm : (n,) float32 array
        The cone radius at each point's z.
    """
    gaps = rng.standard_exponential(n + 1, dtype=np.float32).astype(np.float64)
    u = np.cumsum(gaps)
    u = u[:-1] / u[-1]
    del gaps
    if tan_half_angle == 0:
        z = u * length_nm
    else:
        r0 = apex_radius_nm
        r_end = r0 + tan_half_angle * length_nm
        z = (np.cbrt(r0**3 + u * (r_end**3 - r0**3)) - r0) / tan_half_angle
    del u
    radius = (apex_radius_nm + tan_half_angle * z).astype(np.float32)
    xyz = np.empty((n, 3), dtype=np.float32)
    xyz[:, 2] = z
    rho = radius * np.sqrt(rng.random(n, dtype=np.float32))
    phi = rng.random(n, dtype=np.float32) * np.float32(2 * np.pi)
    xyz[:, 0] = rho * np.cos(phi)
    xyz[:, 1] = rho * np.sin(phi)
    return xyz, radius


def segment_distance_nm(xyz_nm: np.ndarray, start_nm, end_nm) -> np.ndarray:
    """Distance (float32) of each point from the segment ``start_nm``-``end_nm``."""
    a = np.asarray(start_nm, dtype=np.float32)
    d = np.asarray(end_nm, dtype=np.float32) - a
    dd = float(d @ d)
    rel = xyz_nm - a
    t = rel @ d / np.float32(dd) if dd > 0 else np.zeros(len(xyz_nm), np.float32)
    np.clip(t, 0, 1, out=t)
    rel -= t[:, None] * d[None, :]
    return np.sqrt(np.einsum("ij,ij->i", rel, rel))

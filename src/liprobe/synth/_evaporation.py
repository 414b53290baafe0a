"""Point-projection evaporation kernels: cap geometry, planes and dissociation kinematics."""

from __future__ import annotations

import math

import numpy as np

from liprobe.synth._detection import AMU_KG, E_CHARGE_C

__all__ = ["sample_cap_events", "snap_to_planes", "fragment_flight_ns"]


def sample_cap_events(n: int, *, apex_radius_nm: float, radius_growth: float,
                      area_factor: float, fov_rad: float, events_per_nm3: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apex depth a (sorted), polar angle theta and azimuth phi of ``n`` evaporation events.

    The apex (a hemispherical cap of radius R(a) = R0 + s a, tangent to the shank)
    advances into a specimen of uniform event density; the volume swept per da and
    d theta d phi is R^2 sin(theta) (cos(theta) - s (1 - cos(theta))), so the events per
    nm of advance are n_ev pi R^2 G (G = ``area_factor``). Sorted uniforms come from
    normalised cumulative sums of exponentials.
    """
    gaps = rng.standard_exponential(n + 1).cumsum()
    u = gaps[:-1] / gaps[-1]
    del gaps
    r0, s = apex_radius_nm, radius_growth
    per_r2 = events_per_nm3 * math.pi * area_factor  # events per nm of advance per R^2
    if s == 0:
        apex = u * (n / (per_r2 * r0**2))
    else:
        r_end3 = r0**3 + 3 * s * n / per_r2
        apex = (np.cbrt(r0**3 + u * (r_end3 - r0**3)) - r0) / s
    del u
    g = rng.random(n) * area_factor
    # invert F(theta) = 2w - (1 + s) w^2 = g, w = 1 - cos(theta)
    w = (1 - np.sqrt(np.maximum(1 - (1 + s) * g, 0))) / (1 + s)
    theta = np.arccos(np.clip(1 - w, math.cos(fov_rad), 1))
    phi = rng.random(n) * (2 * math.pi)
    return apex, theta, phi


def snap_to_planes(apex_nm: np.ndarray, theta: np.ndarray, *, apex_radius_nm: float,
                   radius_growth: float, spacing_nm: float, jitter_nm: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Apex depth at which an atom moved onto its nearest plane is evaporated.

    An event at apex depth a and angle theta sits at depth d = a + R(a) (1 - cos theta);
    the atom is moved to the nearest plane (plus Gaussian jitter) and its evaporation
    apex depth solved from d' = a' + (R0 + s a') (1 - cos theta).
    """
    one_minus_cos = 1 - np.cos(theta)
    radius = apex_radius_nm + radius_growth * apex_nm
    depth = apex_nm + radius * one_minus_cos
    depth = np.round(depth / spacing_nm) * spacing_nm
    if jitter_nm > 0:
        depth += rng.normal(0.0, jitter_nm, depth.shape[0])
    return (depth - apex_radius_nm * one_minus_cos) / (1 + radius_growth * one_minus_cos)


def fragment_flight_ns(*, parent_mass_da: float, parent_charge: int, fragment_mass_da: float,
                       fragment_charge: int, voltage_v: np.ndarray, alpha: np.ndarray,
                       flight_length_mm: float) -> np.ndarray:
    """Time of flight (ns) of a fragment of a parent that broke up after a share alpha.

    The parent gains kinetic energy n e V alpha; the fragment keeps the parent's
    velocity, then gains q e V (1 - alpha) on the rest of the potential; the flight
    time over L is L / v (acceleration close to the tip, drift over L).
    """
    v_parent2 = 2 * parent_charge * E_CHARGE_C * voltage_v * alpha / (parent_mass_da * AMU_KG)
    kinetic_j = (0.5 * fragment_mass_da * AMU_KG * v_parent2
                 + fragment_charge * E_CHARGE_C * voltage_v * (1 - alpha))
    speed = np.sqrt(2 * kinetic_j / (fragment_mass_da * AMU_KG))
    return flight_length_mm * 1e-3 / speed * 1e9

"""Needle geometry: uniform sampling in a truncated cone, segment distances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.synth._geometry import (
    cone_volume_nm3,
    length_for_volume_nm,
    sample_cone,
    segment_distance_nm,
)


def test_cone_volume_matches_frustum_formula_and_inverts():
    r0, tan, length = 20.0, math.tan(math.radians(10)), 150.0
    r1 = r0 + tan * length
    frustum = math.pi * length / 3 * (r0**2 + r0 * r1 + r1**2)
    assert cone_volume_nm3(r0, tan, length) == pytest.approx(frustum, rel=1e-12)
    assert length_for_volume_nm(r0, tan, frustum) == pytest.approx(length, rel=1e-9)
    assert cone_volume_nm3(5.0, 0.0, 10.0) == pytest.approx(math.pi * 250)


def test_sample_cone_is_sorted_and_uniform(rng):
    r0, tan, length = 10.0, math.tan(math.radians(15)), 60.0
    xyz, radius = sample_cone(200_000, r0, tan, length, rng)
    z = xyz[:, 2].astype(np.float64)
    assert xyz.dtype == np.float32 and np.all(np.diff(z) >= 0)
    rho = np.hypot(xyz[:, 0], xyz[:, 1])
    assert np.all(rho <= radius * (1 + 1e-6))
    # fraction of points above depth d = volume fraction of the frustum above d
    for d in (10.0, 30.0, 50.0):
        expected = cone_volume_nm3(r0, tan, d) / cone_volume_nm3(r0, tan, length)
        observed = np.mean(z < d)
        assert abs(observed - expected) < 4 * math.sqrt(expected * (1 - expected) / z.size)
    # uniform across: (rho / R)^2 is uniform on [0, 1]
    s = (rho / radius) ** 2
    assert abs(s.mean() - 0.5) < 4 * math.sqrt(1 / 12 / s.size)


def test_segment_distance():
    pts = np.array([[0, 3, 5], [0, 0, -4], [4, 0, 20]], dtype=np.float32)
    d = segment_distance_nm(pts, (0, 0, 0), (0, 0, 10))
    assert d == pytest.approx([3.0, 4.0, math.hypot(4, 10)], rel=1e-6)

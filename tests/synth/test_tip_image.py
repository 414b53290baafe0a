"""Synthetic needle image: the drawn outline is the sphere-capped cone."""

from __future__ import annotations

import math

import numpy as np

from liprobe.synth.tip_image import needle_image, needle_signed_distance_nm


def test_outline_passes_through_apex_and_flanks():
    d = needle_signed_distance_nm(np.array([0.0, 40 * math.cos(math.radians(8))]),
                                  np.array([0.0, 40 * (1 - math.sin(math.radians(8)))]),
                                  apex_radius_nm=40, shank_angle_deg=8)
    np.testing.assert_allclose(d, 0.0, atol=1e-9)
    # far down the shank the half-width grows as tan(alpha)
    s = np.array([500.0])
    u0 = 40 / math.cos(math.radians(8)) + (500 - 40) * math.tan(math.radians(8))
    # the flank line through the tangent point: u = R/cos(a) + (s - R) tan(a)
    assert abs(needle_signed_distance_nm(np.array([u0]), s, apex_radius_nm=40,
                                         shank_angle_deg=8)[0]) < 1e-6


def test_image_is_calibrated_and_seeded():
    a, _ = needle_image(rng=np.random.default_rng(1))
    b, _ = needle_image(rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert a.pixel_size_nm == 1.0 and a.pixels.dtype == np.float32

"""Apex radius and shank angle from synthetic noisy needle images."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.apt.tip_profile import measure_tip_profile, tip_profile_radius
from liprobe.errors import ParameterError
from liprobe.synth.tip_image import needle_image

CASES = [(40.0, 8.0, 0.0, 1.0), (25.0, 5.0, 20.0, 0.8), (60.0, 12.0, -35.0, 1.5),
         (30.0, 3.0, 90.0, 0.6), (50.0, 10.0, 180.0, 1.0), (20.0, 15.0, 45.0, 0.5)]


@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_apex_radius_within_10_percent_and_angle_within_1_degree(seed, case):
    radius, angle, rotation, pixel = case
    t = math.radians(rotation)
    img, truth = needle_image(apex_radius_nm=radius, shank_angle_deg=angle,
                              rotation_deg=rotation, pixel_size_nm=pixel, shape=(500, 500),
                              apex_px=(250 - 150 * math.cos(t), 250 - 150 * math.sin(t)),
                              noise_sigma=0.15, rng=np.random.default_rng(seed))
    tip = measure_tip_profile(img.pixels, pixel_size_nm=img.pixel_size_nm)
    assert tip.apex_radius_nm == pytest.approx(radius, rel=0.10)
    assert abs(tip.shank_angle_deg - angle) < 1.0
    assert abs(((tip.axis_angle_deg - rotation) + 180) % 360 - 180) < 2.0


def test_dark_needle_and_profile():
    img, _ = needle_image(background=0.8, foreground=0.2, rng=np.random.default_rng(9))
    tip = measure_tip_profile(img.pixels, pixel_size_nm=1.0, needle="dark")
    assert tip.apex_radius_nm == pytest.approx(40.0, rel=0.1)
    s = math.sin(math.radians(tip.shank_angle_deg))
    np.testing.assert_allclose(tip_profile_radius(tip, [0.0, 100.0]),
                               [tip.apex_radius_nm, tip.apex_radius_nm + 100 * s / (1 - s)])


def test_missing_scale_is_an_error():
    img, _ = needle_image(rng=np.random.default_rng(0))
    with pytest.raises(ParameterError, match="pixel-size"):
        measure_tip_profile(img.pixels, pixel_size_nm=0.0)


def test_standard_errors_cover_the_scatter_over_seeds():
    hits_r = hits_a = 0
    for seed in range(20):
        img, _ = needle_image(apex_radius_nm=40, shank_angle_deg=8, noise_sigma=0.3,
                              rng=np.random.default_rng(100 + seed))
        tip = measure_tip_profile(img.pixels, pixel_size_nm=1.0)
        hits_r += abs(tip.apex_radius_nm - 40) < 2 * tip.apex_radius_sigma_nm
        hits_a += abs(tip.shank_angle_deg - 8) < 2 * tip.shank_angle_sigma_deg
    assert hits_r >= 15 and hits_a >= 15

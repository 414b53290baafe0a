"""(003) spacing and orientation from the FFT, for any in-plane rotation (simulator truth)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.errors import ParameterError
from liprobe.stem.lattice import measure_lattice_fft
from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf


def _angle_error(a: float, b: float) -> float:
    d = (a - b) % 180.0
    return min(d, 180.0 - d)


@pytest.mark.parametrize("rotation_deg", [0.0, 37.5, 90.0, 143.2, 211.0])
def test_d003_and_orientation_for_any_rotation(rotation_deg):
    params = HaadfParams(shape_px=(256, 256), rotation_deg=rotation_deg,
                         disorder=DisorderProfile.uniform(0.05))
    image, truth = simulate_haadf(params, rng=np.random.default_rng(11))
    lat = measure_lattice_fft(image.pixels, pixel_size_nm=image.pixel_size_nm)
    assert abs(lat.d003_nm - truth.d003_nm) < 0.005
    assert _angle_error(lat.orientation_deg, truth.orientation_deg) < 0.5
    # the phase puts the bright (TM) planes on the TM columns
    tm = truth.tm_mask
    s = (truth.x_px[tm] * lat.g_per_nm[0] + truth.y_px[tm] * lat.g_per_nm[1]) * 0.02 \
        + lat.phase_rad / (2 * math.pi)
    assert np.max(np.abs(s - np.round(s))) < 0.1


def test_rock_salt_uses_the_cation_plane_reflection():
    params = HaadfParams(shape_px=(256, 256), rotation_deg=20.0,
                         disorder=DisorderProfile.uniform(0.5, "rock-salt"))
    image, truth = simulate_haadf(params, rng=np.random.default_rng(12))
    lat = measure_lattice_fft(image.pixels, pixel_size_nm=0.02)
    # fully mixed: either {111}-type cation family indexes the (pseudo) layers; both give
    # twice a cation-plane spacing within 0.005 nm of c/3
    assert abs(lat.d003_nm - truth.d003_nm) < 0.005


def test_pure_fringes_are_measured_off_grid():
    yy, xx = np.mgrid[0:200, 0:200] * 0.025
    angle = math.radians(63.0)  # fringe normal
    d = 0.4513
    img = 1.0 + np.cos(2 * np.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / d)
    lat = measure_lattice_fft(img, pixel_size_nm=0.025)
    assert lat.d003_nm == pytest.approx(d, abs=2e-4)
    assert _angle_error(lat.orientation_deg, 63.0 - 90.0) < 0.1


def test_bad_input_raises():
    with pytest.raises(ParameterError):
        measure_lattice_fft(np.zeros((8, 8)), pixel_size_nm=0.02)
    with pytest.raises(ParameterError):
        measure_lattice_fft(np.zeros((64, 64)), pixel_size_nm=0.3)

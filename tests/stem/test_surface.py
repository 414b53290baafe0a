"""Particle surface and depth map against the simulator's surface line."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf
from liprobe.stem.surface import find_surface


@pytest.mark.parametrize("normal_deg, coating_nm", [(0.0, 0.0), (125.0, 0.0), (200.0, 0.4)])
def test_depth_map_matches_the_true_surface(normal_deg, coating_nm):
    params = HaadfParams(shape_px=(256, 256), rotation_deg=17.0, surface_depth_nm=1.2,
                         surface_normal_deg=normal_deg, coating_nm=coating_nm)
    image, _ = simulate_haadf(params, rng=np.random.default_rng(61))
    surf = find_surface(image.pixels, pixel_size_nm=0.02)
    assert surf.found
    yy, xx = np.mgrid[0:256, 0:256]
    n = math.radians(normal_deg)
    true_depth = 1.2 + ((xx - 127.5) * math.cos(n) + (yy - 127.5) * math.sin(n)) * 0.02
    # depth below a straight surface, away from the image corners' geometry
    sel = surf.material & (true_depth > 0.3) & (true_depth < 1.5)
    err = surf.depth_at(xx[sel], yy[sel]) - true_depth[sel]
    assert abs(np.median(err)) < 0.08  # nm
    dn = (surf.normal_deg - normal_deg + 180.0) % 360.0 - 180.0
    assert abs(dn) < 5.0
    # vacuum level = background_fraction x dose = 80 counts (when vacuum is in view)
    if coating_nm == 0.0:
        assert surf.outside_level == pytest.approx(80.0, rel=0.05)


def test_no_surface_in_a_uniform_crystal():
    image, _ = simulate_haadf(HaadfParams(shape_px=(192, 192)), rng=np.random.default_rng(62))
    surf = find_surface(image.pixels, pixel_size_nm=0.02)
    assert not surf.found
    assert surf.material.all()
    assert np.isnan(surf.depth_at(np.array([10.0]), np.array([10.0]))).all()


def test_dark_lattice_band_at_the_border_is_not_vacuum():
    # rotation 0 on 512 px: the top and bottom 0.4 nm hold only a Li plane (dark), yet
    # the image is entirely inside the particle
    params = HaadfParams(shape_px=(512, 512), background_fraction=0.0,
                         disorder=DisorderProfile.uniform(0.13))
    image, truth = simulate_haadf(params, rng=np.random.default_rng(63))
    top_tm = truth.y_px[truth.tm_mask].min()
    assert top_tm > 15  # the geometry this test is about
    assert not find_surface(image.pixels, pixel_size_nm=0.02).found

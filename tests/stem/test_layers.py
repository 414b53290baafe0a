"""TM/Li plane indexing and generated Li sites against the simulator's columns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from liprobe.stem.columns import find_columns
from liprobe.stem.lattice import measure_lattice_fft
from liprobe.stem.layers import index_layers, plane_profile, site_intensities
from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf


@pytest.fixture(scope="module", params=[12.0, 101.0])
def indexed(request):
    params = HaadfParams(shape_px=(256, 256), rotation_deg=request.param,
                         disorder=DisorderProfile.uniform(0.05))
    image, truth = simulate_haadf(params, rng=np.random.default_rng(31))
    cols = find_columns(image.pixels, pixel_size_nm=0.02, probe_sigma_nm=0.038)
    lat = measure_lattice_fft(image.pixels, pixel_size_nm=0.02)
    sites = index_layers(cols, lat, pixel_size_nm=0.02, shape_px=image.pixels.shape)
    return image, truth, sites


def test_generated_sites_sit_on_true_columns_of_the_right_type(indexed):
    _, truth, sites = indexed
    dist, idx = cKDTree(np.c_[truth.x_px, truth.y_px]).query(np.c_[sites.x_px, sites.y_px])
    # Li columns are invisible (Z = 3) yet their generated sites land on them
    li = sites.site == 1
    assert np.mean(dist[li] < 0.25) >= 0.98  # 0.005 nm
    assert np.mean(truth.site[idx[li]] == 1) >= 0.98
    assert np.mean(truth.site[idx[~li]] == 0) >= 0.98
    # every interior true Li column is covered
    inner = truth.li_mask & truth.inside(8)
    back, _ = cKDTree(np.c_[sites.x_px[li], sites.y_px[li]]).query(
        np.c_[truth.x_px[inner], truth.y_px[inner]])
    assert np.mean(back < 0.5) >= 0.98


def test_real_space_spacing_and_period(indexed):
    _, truth, sites = indexed
    assert abs(sites.d003_nm - truth.d003_nm) < 0.005
    assert sites.column_period_nm == pytest.approx(np.sqrt(3) * 0.287 / 2, abs=0.002)
    diff = (sites.orientation_deg - truth.orientation_deg) % 180.0
    assert min(diff, 180 - diff) < 0.3


def test_profile_peaks_on_tm_planes(indexed):
    image, truth, sites = indexed
    prof = plane_profile(image.pixels, sites, pixel_size_nm=0.02, bin_nm=0.01)
    inner_tm = prof.tm_positions_nm[(prof.tm_positions_nm > 0.5)
                                    & (prof.tm_positions_nm < prof.position_nm.max() - 0.5)]
    inner_li = prof.li_positions_nm[(prof.li_positions_nm > 0.5)
                                    & (prof.li_positions_nm < prof.position_nm.max() - 0.5)]
    at = lambda pos: np.interp(pos, prof.position_nm, prof.intensity)  # noqa: E731
    # bright TM planes, dark Li planes, spaced by d(003)
    assert np.all(at(inner_tm).min() > 2.0 * at(inner_li).max())
    assert np.allclose(np.diff(inner_tm), truth.d003_nm, atol=0.01)


def test_site_intensities_weighted_mean():
    img = np.zeros((21, 21))
    img[10, 10] = 1.0
    # a delta at the centre: the weighted mean equals its weight share (independent sum)
    r = 2.0
    yy, xx = np.mgrid[-2:3, -2:3]
    weight = np.exp(-(xx**2 + yy**2) / (2 * (r / 2) ** 2)) * (xx**2 + yy**2 <= r * r)
    value = site_intensities(img, np.array([10.0]), np.array([10.0]), radius_px=r)
    assert value[0] == pytest.approx(1.0 / weight.sum())

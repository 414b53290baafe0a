"""The simulator's geometry, occupancies and noise against crystallography and statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.errors import ParameterError
from liprobe.stem._render import render_columns
from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf

C_NM, A_NM = 1.419, 0.287


def _crystal_frame(truth, params):
    h, w = params.shape_px
    th = math.radians(params.rotation_deg)
    x = (truth.x_px - (w - 1) / 2) * params.pixel_size_nm
    y = (truth.y_px - (h - 1) / 2) * params.pixel_size_nm
    return x * math.cos(th) + y * math.sin(th), -x * math.sin(th) + y * math.cos(th)


def test_geometry_follows_the_layered_structure():
    params = HaadfParams(shape_px=(96, 96), rotation_deg=27.0, dose_e_per_px=None)
    _, truth = simulate_haadf(params, rng=np.random.default_rng(1))
    u, v = _crystal_frame(truth, params)
    tm, li = truth.tm_mask, truth.li_mask
    # cation planes every c/6, TM planes every c/3 (DOMAIN.md §4)
    assert np.allclose(np.mod(v[tm] / (C_NM / 3) + 1e-9, 1.0), 0.0, atol=1e-6)
    assert np.allclose(np.mod(v[li] / (C_NM / 3) - 0.5 + 1e-9, 1.0), 0.0, atol=1e-6)
    # in-plane period sqrt(3) a / 2 = 0.2485 nm
    plane = truth.plane_index[tm]
    k0 = np.bincount(plane - plane.min()).argmax() + plane.min()
    gaps = np.diff(np.sort(u[tm][plane == k0]))
    assert np.allclose(gaps, math.sqrt(3) * A_NM / 2, atol=1e-9)
    # ABC: the Li plane between TM planes k and k + 2 uses the third in-plane position
    period = math.sqrt(3) * A_NM / 2
    phases = {}
    for site_mask in (tm, li):
        for k in np.unique(truth.plane_index[site_mask]):
            sel = site_mask & (truth.plane_index == k)
            phases[int(k)] = float(np.mod(u[sel][0] / period, 1.0))
    k = int(np.unique(truth.plane_index[tm])[2])
    used = {round(phases[k] * 3) % 3, round(phases[k + 2] * 3) % 3, round(phases[k + 1] * 3) % 3}
    assert used == {0, 1, 2}
    assert truth.d003_nm == pytest.approx(C_NM / 3)


def test_exchange_and_spinel_occupancies():
    profile = DisorderProfile((0.0, 4.0), (0.25, 0.2), ("spinel-like", "layered"))
    params = HaadfParams(shape_px=(320, 320), disorder=profile, surface_depth_nm=4.0,
                         surface_normal_deg=0.0, dose_e_per_px=None, thickness_nm=40.0)
    _, truth = simulate_haadf(params, rng=np.random.default_rng(2))
    spinel = truth.depth_nm < 4.0
    li_sp = truth.li_mask & spinel
    even = truth.inplane_index % 2 == 0
    # spinel-like: TM on every second Li-plane column (2f, then 0)
    assert truth.occupancy_tm[li_sp & even].mean() == pytest.approx(0.5, abs=0.03)
    assert truth.occupancy_tm[li_sp & ~even].max() == 0.0
    # layered, exchange: Li sites hold f TM, TM sites 1 - f (binomial over 139 atoms)
    lay = ~spinel & (truth.depth_nm >= 4.0)
    assert truth.occupancy_tm[truth.li_mask & lay].mean() == pytest.approx(0.2, abs=0.02)
    assert truth.occupancy_tm[truth.tm_mask & lay].mean() == pytest.approx(0.8, abs=0.02)
    # nothing beyond the surface
    assert np.nanmin(truth.depth_nm) >= 0.0


def test_substitution_keeps_tm_sites_full():
    params = HaadfParams(shape_px=(64, 64), disorder=DisorderProfile.uniform(0.3),
                         disorder_model="substitution", dose_e_per_px=None)
    _, truth = simulate_haadf(params, rng=np.random.default_rng(3))
    assert np.all(truth.occupancy_tm[truth.tm_mask] == 1.0)
    assert truth.occupancy_tm[truth.li_mask].mean() == pytest.approx(0.3, abs=0.04)


def test_render_conserves_weight_and_centroid():
    # an isolated column: the rendered image integrates to the weight and is centred on it
    image = render_columns((64, 64), np.array([31.3]), np.array([29.7]), np.array([2.0]),
                           sigma_px=2.0, tail_sigma_px=6.0, tail_fraction=0.1,
                           pixel_area_nm2=1.0)
    assert image.sum() == pytest.approx(2.0, rel=1e-3)
    yy, xx = np.mgrid[0:64, 0:64]
    assert (image * xx).sum() / image.sum() == pytest.approx(31.3, abs=1e-3)
    assert (image * yy).sum() / image.sum() == pytest.approx(29.7, abs=1e-3)


def test_poisson_noise_and_vacuum_level():
    params = HaadfParams(shape_px=(128, 128), surface_depth_nm=-0.3, surface_normal_deg=0.0,
                         dose_e_per_px=1000.0, background_fraction=0.05)
    image, truth = simulate_haadf(params, rng=np.random.default_rng(4))
    vacuum = image.pixels[:, :40]  # depth < -0.3 - (63.5 - 40) * 0.02 < -0.77 nm: far outside
    assert vacuum.mean() == pytest.approx(50.0, rel=0.03)
    assert vacuum.var() == pytest.approx(vacuum.mean(), rel=0.1)  # Poisson: var = mean
    assert image.pixels.dtype == np.float32
    assert image.pixel_size_nm == 0.02


def test_invalid_parameters_raise():
    with pytest.raises(ParameterError):
        HaadfParams(pixel_size_nm=-1.0)
    with pytest.raises(ParameterError):
        HaadfParams(disorder_model="swap")
    with pytest.raises(ParameterError):
        DisorderProfile((0.0, 1.0), (0.1,), ("layered",))
    with pytest.raises(ParameterError):
        DisorderProfile((0.0,), (0.1,), ("olivine",))
    with pytest.raises(ParameterError):
        simulate_haadf(HaadfParams(shape_px=(32, 32)), rng=np.random.RandomState(0))

"""Column detection and batched refinement against the simulator's column positions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from liprobe.stem.columns import detect_columns, find_columns, refine_columns
from liprobe.stem.simulate import HaadfParams, simulate_haadf


@pytest.fixture(scope="module")
def realistic():
    # realistic dose: 4000 e/px, TM column peak ~550 counts over ~80 counts background,
    # plus 0.002 nm RMS scan-row jitter
    params = HaadfParams(shape_px=(384, 384), rotation_deg=23.0, scan_noise_nm=0.002)
    return simulate_haadf(params, rng=np.random.default_rng(21))


def test_positions_within_0p02_angstrom_and_recall(realistic):
    image, truth = realistic
    cols = find_columns(image.pixels, pixel_size_nm=0.02, probe_sigma_nm=0.09 / 2.3548)
    tm = truth.tm_mask & truth.inside(4)
    dist, _ = cKDTree(np.c_[cols.x_px, cols.y_px]).query(np.c_[truth.x_px[tm], truth.y_px[tm]])
    found = dist < 2.5  # 0.05 nm
    assert found.mean() >= 0.99
    rms_angstrom = np.sqrt(np.mean(dist[found] ** 2)) * 0.02 * 10
    assert rms_angstrom <= 0.02
    # and they are TM columns: no O or Li-plane column is picked up in the layered phase
    inner = (cols.x_px > 4) & (cols.x_px < 379) & (cols.y_px > 4) & (cols.y_px < 379)
    back, idx = cKDTree(np.c_[truth.x_px, truth.y_px]).query(
        np.c_[cols.x_px[inner], cols.y_px[inner]])
    assert np.mean(truth.site[idx] == 0) >= 0.99


def test_exact_gaussians_are_recovered():
    yy, xx = np.mgrid[0:40, 0:60]
    truth = np.array([[12.31, 10.77], [30.05, 25.42], [47.8, 14.1]])  # (x, y)
    img = 5.0 + sum(100 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.7**2))
                    for x, y in truth)
    peaks = detect_columns(img, pixel_size_nm=0.02, min_separation_nm=0.1, smooth_nm=0)
    cols = refine_columns(img, peaks, sigma_px=2.0)
    order = np.argsort(cols.x_px)
    assert np.allclose(cols.x_px[order], truth[:, 0], atol=1e-3)
    assert np.allclose(cols.y_px[order], truth[:, 1], atol=1e-3)
    assert np.allclose(cols.sigma_px, 1.7, atol=1e-3)
    assert np.allclose(cols.background, 5.0, atol=0.05)
    assert cols.converged.all()


def test_position_error_estimate_is_honest():
    # without scan jitter the fit's standard error should describe the actual error
    params = HaadfParams(shape_px=(256, 256), rotation_deg=23.0)
    image, truth = simulate_haadf(params, rng=np.random.default_rng(22))
    cols = find_columns(image.pixels, pixel_size_nm=0.02, probe_sigma_nm=0.09 / 2.3548)
    dist, idx = cKDTree(np.c_[truth.x_px, truth.y_px]).query(np.c_[cols.x_px, cols.y_px])
    ok = (dist < 2.5) & (truth.site[idx] == 0) & cols.converged
    assert (~cols.converged).sum() < 0.15 * cols.n_columns  # only border columns
    # per-axis error RMS vs predicted per-axis SE RMS: agree within a factor of 2
    ratio = np.sqrt(np.mean(dist[ok] ** 2) / 2) / np.sqrt(np.mean(cols.position_se_px[ok] ** 2))
    assert 0.5 < ratio < 2.0


def test_empty_input_gives_empty_columns():
    cols = refine_columns(np.zeros((20, 20)), np.zeros((0, 2), int), sigma_px=2.0)
    assert cols.n_columns == 0


@pytest.mark.parametrize("noise", ["poisson", "gaussian"])
def test_position_se_covers_over_200_seeds(noise):
    # exact Gaussian columns (the fitted model) in counting or uniform noise: the per-axis
    # error divided by the reported SE must fall within +-1 in 68 % of cases, two-sided
    # (an SE inflated by sqrt(2) gives 84 %, one that ignores the Poisson excess on the
    # column ~58 %)
    yy, xx = np.mgrid[0:48, 0:48]
    z = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        truth = np.array([[12, 12], [12, 36], [36, 12], [36, 36]]) + rng.uniform(-0.5, 0.5, (4, 2))
        lam = 80.0 + sum(470 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.9**2))
                         for x, y in truth)
        img = (rng.poisson(lam) if noise == "poisson"
               else lam + rng.normal(0.0, 12.0, lam.shape)).astype(np.float32)
        cols = refine_columns(img, np.round(truth[:, ::-1]).astype(int), sigma_px=2.0)
        assert cols.converged.all()
        z += list((cols.x_px - truth[:, 0]) / cols.position_se_px)
        z += list((cols.y_px - truth[:, 1]) / cols.position_se_px)
    inside = np.mean(np.abs(np.array(z)) < 1.0)
    assert 0.62 <= inside <= 0.74, inside

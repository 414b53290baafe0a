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


def _hc2_position_se(patch, a, x0, y0, s, b):
    """The per-axis HC2 sandwich SE of the position, built here in NumPy from the model
    a exp(-r²/2s²) + b: J analytic, leverage h = diag(J (JᵀJ)⁻¹ Jᵀ)."""
    k = patch.shape[0]
    half = (k - 1) / 2
    dy, dx = np.mgrid[0:k, 0:k].astype(np.float64)
    dx, dy = dx - half - x0, dy - half - y0
    r2 = dx**2 + dy**2
    g = np.exp(-0.5 * r2 / s**2)
    jac = np.column_stack([g.ravel(), (a * g * dx / s**2).ravel(), (a * g * dy / s**2).ravel(),
                           (a * g * r2 / s**3).ravel(), np.ones(k * k)])
    res = (patch - (a * g + b)).ravel()
    a_inv = np.linalg.inv(jac.T @ jac)
    lev = np.einsum("iu,uv,iv->i", jac, a_inv, jac)
    meat = (jac * (res**2 / (1 - lev))[:, None]).T @ jac
    cov = a_inv @ meat @ a_inv
    return np.sqrt(0.5 * (cov[1, 1] + cov[2, 2]))


@pytest.mark.parametrize("offset", [(0.0, 0.0), (0.45, -0.3)])
def test_position_se_is_the_hc2_sandwich_at_the_fit(offset):
    # one Poisson column, centred or off the pixel grid: the reported SE equals the
    # sandwich covariance computed independently at the fitted parameters
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:15, 0:15]
    x_true, y_true = 7 + offset[0], 7 + offset[1]
    mean = 400 * np.exp(-((xx - x_true) ** 2 + (yy - y_true) ** 2) / (2 * 1.4**2)) + 60
    image = rng.poisson(mean).astype(np.float64)
    cols = refine_columns(image, np.array([[7, 7]]), sigma_px=1.5)
    assert cols.converged[0]
    half = 3  # ceil(1.6 * 1.5)
    patch = image[7 - half:7 + half + 1, 7 - half:7 + half + 1]
    expected = _hc2_position_se(patch, cols.amplitude[0], cols.x_px[0] - 7,
                                cols.y_px[0] - 7, cols.sigma_px[0], cols.background[0])
    assert cols.position_se_px[0] == pytest.approx(expected, rel=1e-7)


def test_small_solver_matches_numpy_and_refuses_singular_systems():
    from liprobe.stem.columns import _solve_small

    rng = np.random.default_rng(3)
    b = rng.normal(size=5)
    # a permutation (every pivot must be found by row exchange), a general matrix and a
    # badly scaled symmetric positive-definite one
    perm = np.eye(5)[[2, 4, 0, 1, 3]] * np.array([3.0, 1.0, 2.0, 5.0, 4.0])[:, None]
    general = rng.normal(size=(5, 5))
    scale = np.diag(np.geomspace(1e-2, 1e2, 5))
    spd = scale @ (general @ general.T + np.eye(5)) @ scale
    for a in (perm, general, spd):
        np.testing.assert_allclose(_solve_small(a, b), np.linalg.solve(a, b), rtol=1e-9,
                                   atol=1e-12)
    singular = general.copy()
    singular[4] = singular[0] + singular[1]
    assert np.isnan(_solve_small(singular, b)).all()
    # the threshold is relative: a well-conditioned system of tiny numbers is solved
    np.testing.assert_allclose(_solve_small(1e-14 * general, b),
                               np.linalg.solve(1e-14 * general, b), rtol=1e-9)
    # a pivot 1e-13 of the largest diagonal entry is singular; 1e-11 is not
    big = np.diag([1e6, 1.0, 1.0, 1.0, 1.0])
    for tiny, refused in ((1e-7, True), (1e-5, False)):
        a = big.copy()
        a[1, 1] = tiny
        assert np.isnan(_solve_small(a, b)).all() == refused

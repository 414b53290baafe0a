"""Gradient fits: parameter recovery within standard errors, analytic gradient depths,
and AICc model choice on data from a known shape."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.study.gradient import fit_gradient, fit_gradients

DEPTHS = np.array([0.0, 10, 25, 50, 100, 200, 350, 600, 1000, 1500, 2500])


def test_exponential_recovers_parameters_within_errors(rng):
    truth = {"c_surface": 0.2, "c_bulk": 1.0, "length_nm": 300.0}
    clean = truth["c_bulk"] - (truth["c_bulk"] - truth["c_surface"]) * np.exp(-DEPTHS / 300.0)
    sigma = np.full(DEPTHS.size, 0.02)
    fit = fit_gradient(DEPTHS, clean + sigma * rng.standard_normal(DEPTHS.size), sigma=sigma)
    assert fit.success
    for name, value in truth.items():
        est = fit.param(name)
        assert abs(est.value - value) < 3 * est.se, name
    # the SE of the length is what the Fisher information of this design gives (about 10 %)
    assert 0.02 < fit.param("length_nm").se / 300.0 < 0.3


def test_gradient_depth_definitions_are_analytic_for_the_exponential():
    cs, cb, length = 0.3, 1.0, 250.0
    ratio = cb - (cb - cs) * np.exp(-DEPTHS / length)
    fit = fit_gradient(DEPTHS, ratio, model="exponential")
    assert fit.gradient_depth("half_recovery").value == pytest.approx(length * math.log(2), rel=1e-4)
    assert fit.gradient_depth("recovery_95").value == pytest.approx(length * math.log(20), rel=1e-4)
    assert fit.gradient_depth("deficit").value == pytest.approx((cb - cs) * length / cb, rel=1e-4)


def test_erf_half_recovery_is_the_erf_median():
    from scipy import special

    cs, cb, length = 0.1, 0.95, 400.0
    ratio = cs + (cb - cs) * special.erf(DEPTHS / length)
    fit = fit_gradient(DEPTHS, ratio, model="erf")
    # erf(x) = 1/2 at x = 0.476936...
    assert fit.gradient_depth("half_recovery").value == pytest.approx(0.4769362762 * length,
                                                                      rel=1e-4)


def test_aicc_prefers_the_generating_shape(rng):
    from scipy import special

    depth = np.linspace(0, 3000, 40)
    truth = 0.2 + 0.8 * special.expit((depth - 800.0) / 120.0)  # a sharp moving front
    sigma = np.full(depth.size, 0.01)
    fits = fit_gradients(depth, truth + sigma * rng.standard_normal(depth.size), sigma=sigma,
                         models=("exponential", "erf", "logistic"))
    assert fits[0].model == "logistic"
    assert fits[1].aicc - fits[0].aicc > 10


def test_too_few_depths_fail_visibly():
    fit = fit_gradient(np.array([10.0, 100.0]), np.array([0.5, 0.9]), model="two_scale")
    assert not fit.success
    assert "2 depths cannot determine 5" in fit.message
    unweighted = fit_gradient(np.array([0.0, 100.0, 1000.0]), np.array([0.5, 0.7, 0.95]))
    assert math.isnan(unweighted.param("length_nm").se)
    assert "no residual degrees of freedom" in unweighted.message


# ---- intervals against closed-form least squares: with the length fixed the exponential is
# linear in (c_surface, c_bulk), c = c_s e + c_b (1 - e), e = exp(-d / L) ----

def _wls(d, c, length, w=None):
    """Weighted least squares of (c_s, c_b): params, (X^T W X)^-1 and the weighted RSS."""
    e = np.exp(-d / length)
    x = np.column_stack([e, 1 - e])
    w = np.ones_like(c) if w is None else w
    inv = np.linalg.inv(x.T @ (w[:, None] * x))
    beta = inv @ x.T @ (w * c)
    rss = float(np.sum(w * (x @ beta - c) ** 2))
    return beta, inv, rss


def _noisy(rng, d, length=300.0, sd=0.02):
    return 1.0 - 0.8 * np.exp(-d / length) + sd * rng.standard_normal(d.size)


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_unweighted_intervals_are_closed_form_least_squares_with_t(rng, level):
    from scipy import stats

    c = _noisy(rng, DEPTHS)
    fit = fit_gradient(DEPTHS, c, fixed={"length_nm": 300.0})
    beta, inv, rss = _wls(DEPTHS, c, 300.0)
    n, k = DEPTHS.size, 2
    cov = inv * rss / (n - k)
    assert fit.rss == pytest.approx(rss, rel=1e-7)
    np.testing.assert_allclose(fit.params, [*beta, 300.0], rtol=1e-6)
    np.testing.assert_allclose(fit.covariance[:2, :2], cov, rtol=1e-5)
    assert np.all(fit.covariance[2] == 0) and np.all(fit.covariance[:, 2] == 0)
    q = stats.t.ppf(0.5 + level / 2, n - k)  # the t quantile with n - 2 = 9 dof
    for i, name in enumerate(("c_surface", "c_bulk")):
        est = fit.param(name, level)
        se = math.sqrt(cov[i, i])
        assert est.se == pytest.approx(se, rel=1e-5)
        assert est.ci_low == pytest.approx(beta[i] - q * se, rel=1e-5)
        assert est.ci_high == pytest.approx(beta[i] + q * se, rel=1e-5)
        assert est.level == level
    # the default level is 95 %
    assert fit.param("c_bulk").level == 0.95 and fit.gradient_depth().level == 0.95
    # the fixed length: no variance, an interval of one point
    fixed = fit.param("length_nm")
    assert (fixed.value, fixed.se, fixed.ci_low, fixed.ci_high) == (300.0, 0.0, 300.0, 300.0)
    # deficit depth (c_b - c_s) L / c_b: delta method with the analytic gradient
    cs, cb = beta
    g = np.array([-300.0 / cb, 300.0 * cs / cb**2])
    depth_se = math.sqrt(g @ cov @ g)
    est = fit.gradient_depth("deficit", level)
    assert est.value == pytest.approx((cb - cs) * 300.0 / cb, rel=1e-6)
    assert est.se == pytest.approx(depth_se, rel=1e-4)
    assert est.ci_low == pytest.approx(est.value - q * depth_se, rel=1e-4)
    assert est.ci_high == pytest.approx(est.value + q * depth_se, rel=1e-4)
    # criteria with the Gaussian variance counted: k = 3
    m2ll = n * math.log(rss / n)
    assert fit.aic == pytest.approx(m2ll + 6, rel=1e-6)
    assert fit.aicc == pytest.approx(m2ll + 6 + 24 / (n - 4), rel=1e-6)
    assert fit.bic == pytest.approx(m2ll + 3 * math.log(n), rel=1e-6)
    assert "chi2/dof" not in fit.message and "depth errors" not in fit.message


def test_one_residual_degree_of_freedom_uses_t_with_one_dof(rng):
    from scipy import stats

    d = np.array([0.0, 200.0, 1500.0])
    c = _noisy(rng, d)
    fit = fit_gradient(d, c, fixed={"length_nm": 300.0})
    beta, inv, rss = _wls(d, c, 300.0)
    se = math.sqrt(inv[1, 1] * rss / 1)
    est = fit.param("c_bulk")
    assert est.se == pytest.approx(se, rel=1e-5)
    assert est.ci_high - est.value == pytest.approx(stats.t.ppf(0.975, 1) * se, rel=1e-5)


@pytest.mark.parametrize("sd", [0.005, 0.05])
def test_weighted_intervals_are_absolute_or_scaled_by_chi2_per_dof(rng, sd):
    from scipy import stats

    c = _noisy(rng, DEPTHS, sd=0.02)
    sigma = np.full(DEPTHS.size, sd) * (1 + DEPTHS / 2500)  # unequal weights
    fit = fit_gradient(DEPTHS, c, sigma=sigma, fixed={"length_nm": 300.0})
    beta, inv, chi2 = _wls(DEPTHS, c, 300.0, 1 / sigma**2)
    n = DEPTHS.size
    phi = max(1.0, chi2 / (n - 2))
    assert (phi > 1) == (sd == 0.005)  # sigma 4 x too small: chi2/dof >> 1
    assert fit.rss == pytest.approx(chi2, rel=1e-7)
    np.testing.assert_allclose(fit.params[:2], beta, rtol=1e-6)
    np.testing.assert_allclose(fit.covariance[:2, :2], phi * inv, rtol=1e-5)
    assert ("standard errors scaled" in fit.message) == (phi > 1)
    np.testing.assert_array_equal(fit.sigma, sigma)
    z = stats.norm.ppf(0.975)  # known sigma: normal quantile, not t
    est = fit.param("c_surface")
    se = math.sqrt(phi * inv[0, 0])
    assert est.ci_low == pytest.approx(beta[0] - z * se, rel=1e-5)
    assert est.ci_high == pytest.approx(beta[0] + z * se, rel=1e-5)
    assert fit.aic == pytest.approx(chi2 + 4, rel=1e-7)  # -2 ln L = chi2, k = 2
    assert fit.bic == pytest.approx(chi2 + 2 * math.log(n), rel=1e-7)


def test_weighted_fit_with_as_many_depths_as_parameters_keeps_absolute_errors():
    # two depths, two free parameters: an exact fit, cov = (X^T W X)^-1 = X^-1 W^-1 X^-T
    d, c, sigma = np.array([0.0, 600.0]), np.array([0.25, 0.9]), np.array([0.02, 0.03])
    fit = fit_gradient(d, c, sigma=sigma, fixed={"length_nm": 300.0})
    _, inv, _ = _wls(d, c, 300.0, 1 / sigma**2)
    np.testing.assert_allclose(fit.covariance[:2, :2], inv, rtol=1e-6)
    assert fit.param("c_bulk").ci_high == pytest.approx(
        fit.params[1] + 1.959964 * math.sqrt(inv[1, 1]), rel=1e-5)


def test_free_length_covariance_is_the_inverse_of_the_analytic_fisher_matrix(rng):
    sigma = np.full(DEPTHS.size, 0.02)
    fit = fit_gradient(DEPTHS, _noisy(rng, DEPTHS), sigma=sigma)
    cs, cb, length = fit.params
    e = np.exp(-DEPTHS / length)
    jac = np.column_stack([e, 1 - e, -(cb - cs) * e * DEPTHS / length**2]) / sigma[:, None]
    resid = (cb - (cb - cs) * e - fit.ratio) / sigma
    phi = max(1.0, float(resid @ resid) / (DEPTHS.size - 3))
    np.testing.assert_allclose(fit.covariance, phi * np.linalg.inv(jac.T @ jac), rtol=1e-4)
    # half-recovery depth L ln 2: SE ln 2 x SE(L)
    est = fit.gradient_depth("half_recovery")
    assert est.se == pytest.approx(math.log(2) * math.sqrt(fit.covariance[2, 2]), rel=1e-4)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n", [11, 3])
def test_depth_errors_enter_as_effective_variance(rng, weighted, n):
    d = DEPTHS if n == 11 else np.array([0.0, 200.0, 1500.0])
    c = _noisy(rng, d)
    sigma = np.full(d.size, 0.02) if weighted else None
    depth_sigma = np.linspace(20.0, 5.0, d.size)
    fit = fit_gradient(d, c, sigma=sigma, fixed={"length_nm": 300.0}, depth_sigma=depth_sigma)
    # first pass: plain least squares; slope dc/dd = (c_b - c_s) e / L at its optimum
    w0 = None if sigma is None else 1 / sigma**2
    (cs, cb), _, rss0 = _wls(d, c, 300.0, w0)
    slope = (cb - cs) * np.exp(-d / 300.0) / 300.0
    base = sigma if weighted else np.full(d.size, math.sqrt(rss0 / max(d.size - 2, 1)))
    eff = np.hypot(base, slope * depth_sigma)
    w = 1 / eff**2 if weighted else (base / eff) ** 2
    beta, inv, rss = _wls(d, c, 300.0, w)
    np.testing.assert_allclose(fit.params[:2], beta, rtol=1e-6)
    assert fit.rss == pytest.approx(rss, rel=1e-5)
    scale = max(1.0, rss / (d.size - 2)) if weighted else rss / (d.size - 2)
    np.testing.assert_allclose(fit.covariance[:2, :2], scale * inv, rtol=1e-4)
    assert "depth errors carried as effective variance" in fit.message
    if weighted:
        np.testing.assert_allclose(fit.sigma, eff, rtol=1e-5)
    # depth errors below 1 nm are carried too
    small = fit_gradient(d, c, sigma=sigma, fixed={"length_nm": 300.0},
                         depth_sigma=np.full(d.size, 0.5))
    assert "depth errors carried" in small.message


def test_inputs_are_checked_and_unusable_points_dropped():
    from liprobe.errors import ParameterError

    c = 1.0 - 0.8 * np.exp(-DEPTHS / 300.0)
    with pytest.raises(ParameterError, match="1-D"):
        fit_gradient(DEPTHS, c[:-1])
    with pytest.raises(ParameterError, match="1-D"):
        fit_gradient(DEPTHS[None, :], c[None, :])
    with pytest.raises(ParameterError, match="sigma must"):
        fit_gradient(DEPTHS, c, sigma=np.ones(3))
    with pytest.raises(ParameterError, match="depth_sigma"):
        fit_gradient(DEPTHS, c, depth_sigma=np.ones(3))
    with pytest.raises(ParameterError, match=">= 0"):
        fit_gradient(DEPTHS - 1.0, c)
    with pytest.raises(ParameterError, match="cannot fix"):
        fit_gradient(DEPTHS, c, fixed={"front_nm": 1.0})
    # a NaN ratio and a zero sigma drop their depths; a NaN depth sigma counts as none
    c2, sigma = c.copy(), np.full(DEPTHS.size, 0.01)
    c2[3], sigma[5] = np.nan, 0.0
    fit = fit_gradient(DEPTHS, c2, sigma=sigma, depth_sigma=np.full(DEPTHS.size, np.nan))
    assert fit.n_points == DEPTHS.size - 2 and fit.success
    assert "depth errors" not in fit.message
    assert fit.param("length_nm").value == pytest.approx(300.0, rel=1e-4)
    # a failed fit has a NaN covariance of the full size
    failed = fit_gradient(np.array([10.0, 100.0]), np.array([0.5, 0.9]), model="two_scale")
    assert failed.covariance.shape == (5, 5) and np.all(np.isnan(failed.covariance))


def test_a_profile_starting_at_zero_li_fits():
    # c_surface = 0 sits on its lower bound: the starts are moved inside, the fit succeeds
    c = 1.0 - np.exp(-DEPTHS / 300.0)
    fit = fit_gradient(DEPTHS, c)
    assert fit.success
    assert fit.param("c_surface").value == pytest.approx(0.0, abs=1e-6)
    assert fit.param("length_nm").value == pytest.approx(300.0, rel=1e-5)
    # a slightly negative surface ratio (background subtracted): the start is clipped into
    # the bounds (c_surface >= 0) instead of being refused
    c[0] = -0.01
    fit = fit_gradient(DEPTHS, c)
    assert fit.success and fit.param("c_surface").value >= 0.0


def test_chi2_per_dof_between_one_and_two_is_reported():
    rng = np.random.default_rng(3)
    c = _noisy(rng, DEPTHS)
    _, _, rss = _wls(DEPTHS, c, 300.0)
    sigma = np.full(DEPTHS.size, math.sqrt(rss / (DEPTHS.size - 2) / 1.5))  # chi2/dof = 1.5
    fit = fit_gradient(DEPTHS, c, sigma=sigma, fixed={"length_nm": 300.0})
    assert "chi2/dof = 1.50: standard errors scaled" in fit.message


def test_equal_depths_give_a_singular_jacobian_and_no_errors():
    d, c = np.full(4, 100.0), np.array([0.5, 0.52, 0.48, 0.5])
    fit = fit_gradient(d, c, fixed={"length_nm": 300.0})
    assert np.all(np.isnan(fit.covariance))
    assert "singular Jacobian" in fit.message
    assert math.isnan(fit.param("c_bulk").se) and math.isnan(fit.param("c_bulk").ci_low)


def test_no_converged_start_is_a_failed_fit(monkeypatch):
    from liprobe.study import gradient

    def refuse(*args, **kwargs):
        raise ValueError("infeasible")

    monkeypatch.setattr(gradient.optimize, "least_squares", refuse)
    fit = fit_gradient(DEPTHS, 1.0 - 0.8 * np.exp(-DEPTHS / 300.0))
    assert not fit.success and fit.message == "no starting point converged"
    assert np.all(np.isnan(fit.params)) and np.all(np.isnan(fit.covariance))
    assert math.isnan(fit.param("c_bulk").ci_low)

"""Li vs disorder: the Li-site model recovers a known k; joining interpolates correctly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.study.disorder import fit_li_vs_disorder, join_by_depth


def test_li_site_model_recovers_k(rng):
    f = np.linspace(0.0, 0.4, 25)
    li = 1.02 * (1 - 1.5 * f) + 0.01 * rng.standard_normal(f.size)
    fit = fit_li_vs_disorder(f, li, li_sigma=np.full(f.size, 0.01))
    assert fit.k.contains(1.5) and fit.li0.contains(1.02)
    assert fit.k.ci_high - fit.k.ci_low < 0.2
    # linear regression: slope = -Li0 k, intercept = Li0
    assert fit.slope.contains(-1.02 * 1.5)
    assert fit.r < -0.99


def test_too_few_points_fail_visibly():
    fit = fit_li_vs_disorder(np.array([0.1, 0.2]), np.array([0.8, 0.7]))
    assert not fit.success and "need at least 3" in fit.message


def test_join_interpolates_and_never_extrapolates():
    joined = join_by_depth(np.array([5.0, 50.0, 150.0, 500.0]), np.array([0.3, 0.2, 0.1, 0.0]),
                           np.array([10.0, 100.0, 200.0]), np.array([0.4, 0.6, 0.8]),
                           sample="NCM-300")
    assert joined.depth_nm.tolist() == [50.0, 150.0]
    np.testing.assert_allclose(joined.li, [0.4 + 0.2 * 40 / 90, 0.7])
    assert joined.f.tolist() == [0.2, 0.1]


def test_pairs_only_at_the_same_depth():
    from liprobe.study.disorder import pair_at_apt_depths

    joined = pair_at_apt_depths(np.array([0.5, 1.5, 4.0, 29.0, 31.0, 300.0]),
                                np.array([0.50, 0.48, 0.40, 0.30, 0.32, 0.1]),
                                np.full(6, 0.01), np.array([0.0, 30.0, 100.0]),
                                np.array([0.03, 0.40, 0.45]), apt_li_sigma=np.full(3, 0.01),
                                tolerance_nm=2.5)
    # 4 nm and 300 nm are further than 2.5 nm from any APT depth: not paired
    assert joined.depth_nm.tolist() == [0.0, 30.0]
    np.testing.assert_allclose(joined.f, [0.49, 0.31])
    np.testing.assert_allclose(joined.li, [0.03, 0.40])
    assert "2.5 nm" in joined.join


def test_interpolated_points_carry_the_interpolation_uncertainty():
    joined = join_by_depth(np.array([55.0]), np.array([0.2]), np.array([10.0, 100.0]),
                           np.array([0.4, 0.6]), apt_li_sigma=np.array([0.01, 0.01]))
    # half-way: sqrt(0.5^2 0.01^2 * 2 + 0.2^2 * 0.25)
    assert joined.li_sigma[0] == pytest.approx(np.sqrt(2 * (0.5 * 0.01) ** 2 + 0.04 * 0.25))


@pytest.mark.slow
def test_k_interval_covers_with_errors_in_both_variables_and_extra_scatter():
    hits, n = 0, 40
    for seed in range(n):
        rng = np.random.default_rng(seed)
        ft = rng.uniform(0, 0.3, 10)
        li = 0.95 * (1 - 2 * ft) + rng.normal(0, 0.01, 10) + rng.normal(0, 0.02, 10)
        f = ft + rng.normal(0, 0.01, 10)
        fit = fit_li_vs_disorder(f, li, li_sigma=np.full(10, 0.01), f_sigma=np.full(10, 0.01),
                                 n_bootstrap=100, seed=seed)
        assert fit.intrinsic_scatter > 0 or fit.chi2_dof <= 1
        hits += fit.k.contains(2.0)
    assert hits / n >= 0.9


def test_site_loss_model_is_preferred_when_it_generated_the_data(rng):
    from liprobe.study.disorder import _site_loss

    f = np.linspace(0.0, 0.5, 20)
    li = _site_loss(np.array([1.0, 0.0]), f) + rng.normal(0, 0.005, f.size)
    fit = fit_li_vs_disorder(f, li, li_sigma=np.full(f.size, 0.005), n_bootstrap=50)
    assert fit.preferred == "site_loss" and abs(fit.site_loss_phi.value) < 0.1
    assert fit.aicc_site_loss < fit.aicc_linear


# ---- the fit's numbers against independent computations: with f exact the linear model is
# the straight line Li = a + b f (Li0 = a, k = -b / a), weighted least squares in closed form

def _line(f, li, sigma):
    """Weighted straight line: (a, b), their covariance (X^T W X)^-1 and chi2."""
    x = np.column_stack([np.ones_like(f), f])
    w = 1 / sigma**2
    cov = np.linalg.inv(x.T @ (w[:, None] * x))
    ab = cov @ x.T @ (w * li)
    return ab, cov, float(np.sum(w * (li - x @ ab) ** 2))


def _li0_k_cov(ab, cov_ab):
    a, b = ab
    g = np.array([[1.0, 0.0], [b / a**2, -1 / a]])  # d(Li0, k) / d(a, b)
    return g @ cov_ab @ g.T


def test_linear_fit_without_scatter_is_weighted_least_squares(rng):
    from scipy import stats

    f = np.linspace(0.0, 0.4, 12)
    sigma = np.full(f.size, 0.01) * (1 + f)
    li = 1.02 * (1 - 1.5 * f) + 0.004 * rng.standard_normal(f.size)
    fit = fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=0)
    ab, cov_ab, chi2 = _line(f, li, sigma)
    n = f.size
    assert chi2 / (n - 2) < 1  # no intrinsic scatter needed
    assert fit.chi2_dof == pytest.approx(chi2 / (n - 2), rel=1e-6)
    assert fit.intrinsic_scatter == 0.0 and "scatter" not in fit.message
    assert fit.n_points == n and fit.success and not fit.errors_in_f
    assert "errors in Li" in fit.message and "(0 resamples)" in fit.message
    cov = _li0_k_cov(ab, cov_ab)
    q = stats.t.ppf(0.975, n - 2)
    for est, value, var in ((fit.li0, ab[0], cov[0, 0]), (fit.k, -ab[1] / ab[0], cov[1, 1]),
                            (fit.slope, ab[1], cov_ab[1, 1])):
        se = np.sqrt(var)
        assert est.value == pytest.approx(value, rel=1e-7)
        assert est.se == pytest.approx(se, rel=1e-5)
        assert est.ci_low == pytest.approx(value - q * se, rel=1e-5)
        assert est.ci_high == pytest.approx(value + q * se, rel=1e-5)
    assert fit.intercept == fit.li0
    assert math.isnan(fit.k_bootstrap.value)
    # Pearson r by its definition
    r = np.sum((f - f.mean()) * (li - li.mean())) / np.sqrt(
        np.sum((f - f.mean()) ** 2) * np.sum((li - li.mean()) ** 2))
    assert fit.r == pytest.approx(r, rel=1e-12)
    # AICc = chi2 + 2 p + 2 p (p + 1) / (n - p - 1) with p = 2 (Li0, k)
    assert fit.aicc_linear == pytest.approx(chi2 + 4 + 12 / (n - 3), rel=1e-6)


def test_bootstrap_interval_is_the_percentile_of_refits_of_resamples(rng):
    f = np.linspace(0.0, 0.4, 10)
    sigma = np.full(f.size, 0.01)
    li = 1.0 * (1 - 1.2 * f) + 0.005 * rng.standard_normal(f.size)
    fit = fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=60, seed=7, level=0.9)
    # the same resamples (same seed), each refitted by closed-form least squares
    gen, ks = np.random.default_rng(7), []
    for _ in range(60):
        idx = gen.integers(0, f.size, f.size)
        if np.ptp(f[idx]) == 0:
            continue
        ab = _line(f[idx], li[idx], sigma[idx])[0]
        ks.append(-ab[1] / ab[0])
    lo, hi = np.quantile(ks, [0.05, 0.95])
    boot = fit.k_bootstrap
    assert boot.value == fit.k.value and boot.level == 0.9
    assert boot.ci_low == pytest.approx(lo, rel=1e-5)
    assert boot.ci_high == pytest.approx(hi, rel=1e-5)
    assert boot.se == pytest.approx(np.std(ks, ddof=1), rel=1e-5)
    # the interval of k is the wider of the Wald interval (t, 8 dof) and the bootstrap's
    from scipy import stats

    q = stats.t.ppf(0.95, f.size - 2)
    assert fit.k.ci_low == pytest.approx(min(fit.k.value - q * fit.k.se, lo), rel=1e-5)
    assert fit.k.ci_high == pytest.approx(max(fit.k.value + q * fit.k.se, hi), rel=1e-5)
    assert f"({len(ks)} resamples)" in fit.message
    # fewer than 20 usable resamples: no bootstrap interval
    few = fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=19, seed=7)
    assert math.isnan(few.k_bootstrap.ci_low)


def test_intrinsic_scatter_brings_chi2_per_dof_to_one(rng):
    from scipy import optimize, stats

    f = np.linspace(0.0, 0.4, 14)
    sigma = np.full(f.size, 0.01)
    li = 0.95 * (1 - 2.0 * f) + 0.03 * rng.standard_normal(f.size)
    fit = fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=0)
    n = f.size
    chi2_raw = _line(f, li, sigma)[2]
    scatter = optimize.brentq(lambda s: _line(f, li, np.hypot(sigma, s))[2] / (n - 2) - 1,
                              0.0, 1.0, xtol=1e-12)
    assert fit.chi2_dof == pytest.approx(chi2_raw / (n - 2), rel=1e-6) and fit.chi2_dof > 1
    assert fit.intrinsic_scatter == pytest.approx(scatter, rel=1e-4)
    assert "intrinsic Li scatter" in fit.message
    ab, cov_ab, chi2 = _line(f, li, np.hypot(sigma, scatter))
    cov = _li0_k_cov(ab, cov_ab)
    assert fit.k.value == pytest.approx(-ab[1] / ab[0], rel=1e-5)
    assert fit.k.se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-4)
    assert fit.li0.ci_high == pytest.approx(ab[0] + stats.t.ppf(0.975, n - 2) * np.sqrt(
        cov[0, 0]), rel=1e-5)
    # the scatter is a third parameter: p = 3, and chi2 = n - 2 at the scatter found
    assert fit.aicc_linear == pytest.approx((n - 2) + 6 + 24 / (n - 4), rel=1e-4)


def test_unweighted_fit_is_ordinary_least_squares():
    from scipy import stats

    f = np.array([0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.35, 0.4])
    li = np.array([1.01, 0.93, 0.86, 0.78, 0.72, 0.57, 0.48, 0.42])
    fit = fit_li_vs_disorder(f, li, n_bootstrap=0)
    ref = stats.linregress(f, li)
    assert fit.slope.value == pytest.approx(ref.slope, rel=1e-6)
    assert fit.slope.se == pytest.approx(ref.stderr, rel=1e-4)
    assert fit.li0.value == pytest.approx(ref.intercept, rel=1e-6)
    assert fit.li0.se == pytest.approx(ref.intercept_stderr, rel=1e-4)
    assert fit.r == pytest.approx(ref.rvalue, rel=1e-12)


def _york(f, li, sl, sf):
    """Straight line with errors in both variables (York): min over b of
    sum (li - a - b f)^2 / (sl^2 + b^2 sf^2), a in closed form for each b."""
    from scipy import optimize

    def chi2(b):
        w = 1 / (sl**2 + b**2 * sf**2)
        a = np.sum(w * (li - b * f)) / np.sum(w)
        return float(np.sum(w * (li - a - b * f) ** 2)), a

    b0 = np.polyfit(f, li, 1)[0]
    b = optimize.minimize_scalar(lambda b: chi2(b)[0], bracket=(b0 * 1.5, b0, b0 * 0.5),
                                 tol=1e-12).x
    return chi2(b)[1], b, chi2(b)[0]


def test_errors_in_f_give_the_york_line_and_the_analytic_covariance(rng):
    f_true = np.linspace(0.02, 0.4, 12)
    sf, sl = np.full(12, 0.02), np.full(12, 0.01)
    f = f_true + 0.005 * rng.standard_normal(12)
    li = 0.98 * (1 - 1.6 * f_true) + 0.003 * rng.standard_normal(12)
    fit = fit_li_vs_disorder(f, li, li_sigma=sl, f_sigma=sf, n_bootstrap=0)
    a, b, chi2 = _york(f, li, sl, sf)
    assert chi2 / 10 < 1 and fit.errors_in_f and "errors in f and Li" in fit.message
    assert fit.li0.value == pytest.approx(a, rel=1e-6)
    assert fit.k.value == pytest.approx(-b / a, rel=1e-6)
    assert fit.chi2_dof == pytest.approx(chi2 / 10, rel=1e-5)
    # covariance: inverse of J^T J, J the analytic Jacobian of the residuals
    # r = (li - L (1 - k f)) / D, D = sqrt(sl^2 + (L k sf)^2), at the fitted (L, k)
    big_l, k = fit.li0.value, fit.k.value
    u, d = li - big_l * (1 - k * f), np.sqrt(sl**2 + (big_l * k * sf) ** 2)
    du = np.column_stack([-(1 - k * f), big_l * f])
    dd = np.column_stack([big_l * k**2 * sf**2, big_l**2 * k * sf**2]) / d[:, None]
    jac = (du * d[:, None] - u[:, None] * dd) / d[:, None] ** 2
    cov = np.linalg.inv(jac.T @ jac)
    assert fit.k.se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-4)
    assert fit.li0.se == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-4)
    g = np.array([-k, -big_l])  # b = -L k
    assert fit.slope.se == pytest.approx(np.sqrt(g @ cov @ g), rel=1e-4)
    assert fit.aicc_linear == pytest.approx(chi2 + 4 + 12 / 9, rel=1e-5)


def test_site_loss_fit_and_comparison_on_common_errors(rng):
    from scipy import optimize, stats

    from liprobe.study.disorder import _site_loss

    f = np.linspace(0.0, 0.5, 16)
    sl, sf = np.full(f.size, 0.005), np.full(f.size, 0.01)
    li = _site_loss(np.array([1.0, 0.3]), f) + 0.002 * rng.standard_normal(f.size)
    fit = fit_li_vs_disorder(f, li, li_sigma=sl, f_sigma=sf, n_bootstrap=0)

    def g(beta, x):
        return beta[0] * (1 - x) / (1 + (1 - beta[1]) * x)

    def dg(beta, x):  # dg/df by hand
        return -beta[0] * (2 - beta[1]) / (1 + (1 - beta[1]) * x) ** 2

    def chi2(beta):
        return float(np.sum((li - g(beta, f)) ** 2 / (sl**2 + (dg(beta, f) * sf) ** 2)))

    ref = optimize.minimize(chi2, [0.9, 0.5], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    # the site-loss model fits within the errors (no scatter of its own); the straight line
    # does not (a scatter is added to it)
    assert ref.fun / 14 < 1 and fit.intrinsic_scatter > 0
    assert fit.site_loss_li0.value == pytest.approx(ref.x[0], rel=1e-5)
    assert fit.site_loss_phi.value == pytest.approx(ref.x[1], abs=1e-4)
    q = stats.t.ppf(0.975, f.size - 2)
    phi = fit.site_loss_phi
    assert phi.ci_high - phi.value == pytest.approx(q * phi.se, rel=1e-9)
    assert phi.value - phi.ci_low == pytest.approx(q * phi.se, rel=1e-9)
    # covariance: inverse of J^T J, J the residuals' Jacobian by central differences of
    # the test's own residual (analytic slope) at the fitted parameters
    def resid(beta):
        return (li - g(beta, f)) / np.sqrt(sl**2 + (dg(beta, f) * sf) ** 2)

    beta_fit = np.array([fit.site_loss_li0.value, phi.value])
    jac = np.column_stack([(resid(beta_fit + h) - resid(beta_fit - h)) / 2e-6
                           for h in np.eye(2) * 1e-6])
    cov = np.linalg.inv(jac.T @ jac)
    for i, est in enumerate((fit.site_loss_li0, phi)):
        assert est.se == pytest.approx(np.sqrt(cov[i, i]), rel=1e-3)
        assert est.ci_low == pytest.approx(est.value - q * np.sqrt(cov[i, i]), rel=1e-5)
        assert est.ci_high == pytest.approx(est.value + q * np.sqrt(cov[i, i]), rel=1e-5)
    # both compared on the line's errors (its scatter included), p = 3 with the scatter
    common = np.hypot(sl, fit.intrinsic_scatter)
    beta = [fit.site_loss_li0.value, phi.value]
    s_chi2 = np.sum((li - g(beta, f)) ** 2 / (common**2 + (dg(beta, f) * sf) ** 2))
    assert fit.aicc_site_loss == pytest.approx(s_chi2 + 6 + 24 / 12, rel=1e-5)
    big_l, k = fit.li0.value, fit.k.value
    l_chi2 = np.sum((li - big_l * (1 - k * f)) ** 2 / (common**2 + (big_l * k * sf) ** 2))
    assert fit.aicc_linear == pytest.approx(l_chi2 + 6 + 24 / 12, rel=1e-5)
    assert fit.preferred == ("site_loss" if fit.aicc_site_loss < fit.aicc_linear
                             else "linear")
    assert fit.preferred == "site_loss"


def test_three_points_are_enough_and_equal_f_is_not():
    fit = fit_li_vs_disorder(np.array([0.0, 0.1, 0.2]), np.array([1.0, 0.85, 0.72]),
                             li_sigma=np.full(3, 0.01), n_bootstrap=0)
    assert fit.success and fit.n_points == 3
    same = fit_li_vs_disorder(np.full(4, 0.1), np.array([0.8, 0.7, 0.75, 0.72]))
    assert not same.success and "need at least 3 points at different f" in same.message
    # points with a NaN or a non-positive Li error are dropped
    f = np.linspace(0.0, 0.4, 8)
    sigma = np.full(8, 0.01)
    sigma[2], sigma[5] = 0.0, np.nan
    dropped = fit_li_vs_disorder(f, 1 - f, li_sigma=sigma, n_bootstrap=0)
    assert dropped.n_points == 6


def test_scatter_bound_is_used_when_no_scatter_below_it_is_enough():
    # three points off any line Li0 (1 - k f): even a scatter of std(Li) + max(sigma) leaves
    # chi2/dof > 1 (0.0267 / (0.1043^2 + 0.01^2) = 2.4), so that bound is the scatter
    f, li = np.array([0.0, 0.1, 0.2]), np.array([0.8, 1.0, 0.8])
    fit = fit_li_vs_disorder(f, li, li_sigma=np.full(3, 0.01), n_bootstrap=0)
    assert fit.intrinsic_scatter == pytest.approx(np.std(li) + 0.01, rel=1e-12)
    assert fit.chi2_dof > 1


def test_aicc_needs_a_point_beyond_the_parameters_plus_one():
    # n - p - 1 = 1: finite, chi2 + 2 p + 2 p (p + 1) / 1; n - p - 1 = 0: infinite
    f, sigma = np.array([0.0, 0.1, 0.2, 0.3]), np.full(4, 0.01)
    li = np.array([1.0, 0.855, 0.70, 0.548])
    fit = fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=0)
    chi2 = _line(f, li, sigma)[2]
    assert fit.intrinsic_scatter == 0.0
    assert fit.aicc_linear == pytest.approx(chi2 + 4 + 12, rel=1e-6)
    three = fit_li_vs_disorder(f[:3], li[:3], li_sigma=sigma[:3], n_bootstrap=0)
    assert three.aicc_linear == math.inf


def test_bootstrap_defaults_and_resample_counts():
    f = np.linspace(0.0, 0.4, 12)
    li = 1.0 - 1.1 * f + np.tile([0.004, -0.004], 6)
    sigma = np.full(12, 0.01)
    default = fit_li_vs_disorder(f, li, li_sigma=sigma)
    seeded = fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=400, seed=0)
    assert "(400 resamples)" in default.message  # 400 by default, seed 0
    assert default.k_bootstrap == seeded.k_bootstrap
    # exactly 20 usable resamples are enough for an interval
    assert math.isfinite(fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=20).k.ci_low)
    assert math.isfinite(fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=20
                                            ).k_bootstrap.ci_low)
    # three points: a resample of one point drawn three times has no f spread and is skipped
    f3, li3 = np.array([0.0, 0.2, 0.4]), np.array([1.0, 0.79, 0.56])
    gen = np.random.default_rng(5)
    usable = sum(np.ptp(f3[gen.integers(0, 3, 3)]) > 0 for _ in range(60))
    assert usable < 60
    fit = fit_li_vs_disorder(f3, li3, li_sigma=np.full(3, 0.01), n_bootstrap=60, seed=5)
    assert f"({usable} resamples)" in fit.message


def test_a_nan_f_error_counts_as_an_exact_f(rng):
    f = np.linspace(0.0, 0.4, 10)
    li = 1.0 - 1.2 * f + 0.004 * rng.standard_normal(10)
    sf = np.full(10, 0.01)
    with_nan, with_zero = sf.copy(), sf.copy()
    with_nan[[2, 7]], with_zero[[2, 7]] = np.nan, 0.0
    a = fit_li_vs_disorder(f, li, li_sigma=np.full(10, 0.01), f_sigma=with_nan, n_bootstrap=0)
    b = fit_li_vs_disorder(f, li, li_sigma=np.full(10, 0.01), f_sigma=with_zero, n_bootstrap=0)
    assert a.k == b.k and a.li0 == b.li0


def test_a_failed_site_loss_fit_leaves_the_linear_model(monkeypatch):
    from liprobe.study import disorder

    def refuse(beta, f):
        raise ValueError("residuals are not finite")

    monkeypatch.setattr(disorder, "_site_loss", refuse)
    f, sigma = np.linspace(0.0, 0.4, 8), np.full(8, 0.01)
    li = 1.0 - 1.2 * f + np.tile([0.003, -0.003], 4)
    fit = fit_li_vs_disorder(f, li, li_sigma=sigma, n_bootstrap=0)
    chi2 = _line(f, li, sigma)[2]
    assert fit.aicc_linear == pytest.approx(chi2 + 4 + 12 / 5, rel=1e-6)
    # with an intrinsic scatter, a third parameter: p = 3
    noisy = li + np.array([0.03, -0.02, -0.03, 0.02, 0.03, -0.03, 0.01, -0.02])
    fit = fit_li_vs_disorder(f, noisy, li_sigma=sigma, n_bootstrap=0)
    assert fit.intrinsic_scatter > 0
    chi2 = _line(f, noisy, np.hypot(sigma, fit.intrinsic_scatter))[2]
    assert fit.aicc_linear == pytest.approx(chi2 + 6 + 24 / 4, rel=1e-6)
    assert math.isnan(fit.aicc_site_loss) and math.isnan(fit.site_loss_phi.value)
    assert fit.preferred == "linear"

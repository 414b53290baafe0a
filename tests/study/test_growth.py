"""Growth law: a known α (1.0 and 0.5) is recovered inside its interval from a synthetic
study (replicate specimens, counting noise, between-specimen spread)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.study.aggregate import aggregate_specimens
from liprobe.study.growth import fit_growth_law, growth_from_depths
from tests.study.synthetic_counts import exponential_profile, synthetic_specimens

DEPTHS = [0.0, 25, 50, 100, 200, 400, 800, 1600, 3000]


@pytest.mark.parametrize("alpha,other", [(1.0, 0.5), (0.5, 1.0)])
def test_known_alpha_is_recovered(rng, alpha, other):
    table = synthetic_specimens(lambda d, n: exponential_profile(d, n, alpha=alpha),
                                [100, 200, 400], DEPTHS, rng=rng, replicates=5, spread=0.02)
    agg = aggregate_specimens(table, elements=("Li",))
    law = fit_growth_law(agg["cycles"], agg["depth_nm"], agg["Li_mean"], sigma=agg["Li_se"],
                         alpha_grid=np.arange(0.0, 2.0 + 1e-9, 0.02))
    assert law.alpha.contains(alpha)
    assert not law.alpha.contains(other)
    assert law.alpha.ci_high - law.alpha.ci_low < 0.5
    # the fixed-α model at the truth is not rejected; the other one is
    assert law.comparison(f"alpha={alpha:g}").p_value > 0.01
    assert law.comparison(f"alpha={other:g}").p_value < 0.01
    assert law.comparison(f"alpha={alpha:g}").delta_aicc < law.comparison(f"alpha={other:g}").delta_aicc


def test_two_step_alpha_from_exact_depths():
    # depths exactly proportional to N^0.7 -> alpha 0.7; SE from the depth SEs
    cycles = np.array([100.0, 300.0])
    depth = 50.0 * cycles**0.7
    est = growth_from_depths(cycles, depth, 0.1 * depth)
    assert est.value == pytest.approx(0.7)
    assert est.se == pytest.approx(np.sqrt(2) * 0.1 / np.log(3))


def _simulated_data(seed, alpha=0.7, sigma=0.03):
    """Cycles, depth, Li ratio and σ of two exponential profiles with L ∝ N^alpha."""
    depths = np.array([0.0, 50, 150, 400, 1000, 2500])
    cycles = np.repeat([100, 300], depths.size).astype(float)
    d = np.tile(depths, 2)
    truth = 1.0 - 0.8 * np.exp(-d / (150 * (cycles / 200) ** alpha))
    c = truth + np.random.default_rng(seed).normal(0, sigma, d.size)
    return cycles, d, c, np.full(d.size, sigma)


def _simulated_law(seed, alpha=0.7, sigma=0.03, **kwargs):
    cycles, d, c, s = _simulated_data(seed, alpha, sigma)
    return fit_growth_law(cycles, d, c, sigma=s, shared_surface=True, **kwargs)


#: Offsets from the optimum that the interval search visits, as documented: steps of 0.1,
#: each 1.5 times the last, at most 0.5.
SEARCH_OFFSETS = np.cumsum([min(0.1 * 1.5**i, 0.5) for i in range(40)])


@pytest.mark.slow
def test_alpha_interval_covers_95_percent_over_200_seeds():
    # two-sided: an interval that is too narrow (88 % before) or needlessly wide (98 %
    # when every chance chi2/dof > 1 inflated it) both fail
    hits = sum(_simulated_law(seed).alpha.contains(0.7) for seed in range(200))
    assert 0.93 <= hits / 200 <= 0.97, hits


def test_alpha_is_unconstrained_and_a_one_sided_bound_says_so():
    # flat data: the profile never rises above the threshold below the optimum
    from liprobe.study.growth_levels import growth_headline

    d = np.tile([0.0, 100, 300, 1000, 3000], 2)
    cycles = np.repeat([100.0, 300.0], 5)
    c = 1.0 - 0.5 * np.exp(-d / 200.0) + np.random.default_rng(3).normal(0, 0.05, d.size)
    law = fit_growth_law(cycles, d, c)
    headline = growth_headline(law, shape="exponential")
    if not math.isfinite(law.alpha.ci_low) or not math.isfinite(law.alpha.ci_high):
        assert "one-sided" in headline or "do not bound" in headline
        assert "α =" not in headline
    assert law.alpha.ci_low < 0  # negative α is allowed, not clipped at 0


def test_rejected_shape_is_stated_and_levels_replace_alpha():
    # the profiles do not share one shape: the deep tail of 300 cycles stays, its surface
    # moves; self-similarity must be rejected and the headline must say so
    from liprobe.study.growth_levels import depths_at_levels, growth_headline

    depths = np.array([0.0, 30, 100, 300, 700, 1500, 3000])
    d = np.tile(depths, 2)
    cycles = np.repeat([100.0, 300.0], depths.size)
    c = np.where(cycles == 100, 1 - 0.6 * np.exp(-d / 300.0),
                 1 - 0.95 * np.exp(-d / 40.0) - 0.1 * np.exp(-d / 2000.0))
    sigma = np.full(d.size, 0.01)
    c = c + np.random.default_rng(4).normal(0, 0.01, d.size)
    law = fit_growth_law(cycles, d, c, sigma=sigma)
    assert law.rejected and law.gof_p_value < 0.05
    levels = depths_at_levels(cycles, d, c, sigma=sigma, levels=(0.6, 0.8), n_bootstrap=100)
    text = growth_headline(law, levels, shape="exponential")
    assert "is rejected" in text and "at Li = 0.6" in text
    # by hand: 1 - 0.6 exp(-d / 300) = 0.6 at d = 300 ln 1.5 = 122 nm, between the
    # measured 100 and 300 nm (read by linear interpolation between them)
    j = 0
    assert 100 <= levels.depth_nm[j, 0] <= 300
    assert levels.depth_ci_low[j, 0] <= levels.depth_nm[j, 0] <= levels.depth_ci_high[j, 0]


def test_depth_uncertainty_widens_the_interval():
    plain = _simulated_law(5)
    with_x = _simulated_law(5, depth_sigma=np.full(12, 40.0))
    assert with_x.depth_sigma_used and not plain.depth_sigma_used
    width = lambda law: law.alpha.ci_high - law.alpha.ci_low  # noqa: E731
    assert width(with_x) > width(plain)


def test_model_slope_is_the_derivative_of_the_scaled_profile():
    # the slope that carries a depth uncertainty into the fit (errors in x): against the
    # analytic derivative of c_b - (c_b - c_s) exp(-d / L_N), L_N = L_ref (N / N_ref)^alpha
    from liprobe.study.growth import _Joint, _model_slope

    cycles = np.repeat([100.0, 300.0], 6)
    depth = np.tile([0.0, 0.5, 10.0, 40.0, 120.0, 400.0], 2)
    joint = _Joint("exponential", cycles, depth, np.zeros(12), np.ones(12), True)
    c_s, c_b, l_ref, alpha = 0.1, 1.0, 30.0, 0.7
    slope = _model_slope(joint, np.array([c_s, c_b, l_ref, alpha]))
    length = l_ref * (cycles / np.sqrt(100.0 * 300.0)) ** alpha
    expected = (c_b - c_s) / length * np.exp(-depth / length)
    np.testing.assert_allclose(slope, expected, rtol=2e-3)


def _independent_rss(cycles, depth, ratio, sigma, alpha, start):
    """χ² of c_b - (c_b - c_s) exp(-d / (L (N/N_ref)^α)) at fixed α (None: α free too),
    by its own least squares; N_ref the geometric mean of the cycle counts."""
    from scipy.optimize import least_squares

    n_ref = math.exp(np.mean(np.log(np.unique(cycles))))

    def resid(p):
        c_s, c_b, length = p[:3]
        scaled = length * (cycles / n_ref) ** (p[3] if alpha is None else alpha)
        return (c_b - (c_b - c_s) * np.exp(-depth / scaled) - ratio) / sigma

    free = alpha is None
    bounds = ([-1, -1, 1e-3] + [-4] * free, [3, 3, 1e5] + [4] * free)
    best = None
    for x0 in (start, np.array([0.2, 1.0, 150.0, 0.75])):
        x0 = np.r_[x0[:3], x0[3] if len(x0) > 3 else 0.75] if free else x0[:3]
        fit = least_squares(resid, x0, bounds=bounds, x_scale="jac", xtol=1e-12,
                            ftol=1e-12, gtol=1e-12)
        if best is None or fit.cost < best.cost:
            best = fit
    return 2 * best.cost, best.x


def test_profile_likelihood_ends_match_an_independent_rss_scan():
    # the interval ends against a direct scan of χ²(α) on a fine grid, each point fitted
    # here with its own least squares, and the threshold χ²_min + χ²₁(0.95) = +3.841
    from scipy import stats

    law = _simulated_law(11)
    cycles, d, c, sigma = _simulated_data(11)
    grid = np.arange(-0.5, 2.5 + 1e-9, 0.005)
    rss, start = np.empty(grid.size), np.array([0.2, 1.0, 150.0])
    for i, a in enumerate(grid):
        rss[i], start = _independent_rss(cycles, d, c, sigma, a, start)
    assert stats.chi2.sf(rss.min(), d.size - 4) > 0.05  # not over-dispersed: no scaling
    threshold = rss.min() + 3.841458820694124
    inside = np.flatnonzero(rss <= threshold)
    lo, hi = inside[0], inside[-1]
    assert 0 < lo and hi < grid.size - 1 and np.all(np.diff(inside) == 1)
    # linear interpolation of the crossing between grid points
    low = np.interp(threshold, [rss[lo], rss[lo - 1]], [grid[lo], grid[lo - 1]])
    high = np.interp(threshold, [rss[hi], rss[hi + 1]], [grid[hi], grid[hi + 1]])
    assert law.alpha.ci_low == pytest.approx(low, abs=4e-3)
    assert law.alpha.ci_high == pytest.approx(high, abs=4e-3)
    assert law.alpha.value == pytest.approx(grid[np.argmin(rss)], abs=5e-3)
    # the tabulated profile is χ²(α) at the α it lists, the free fit's χ² at the optimum
    for a, value in zip(law.profile_alpha, law.profile_rss, strict=True):
        assert value == pytest.approx(_independent_rss(cycles, d, c, sigma, a, start)[0],
                                      rel=1e-5, abs=1e-6)
    assert law.profile_rss.min() == pytest.approx(rss.min(), rel=1e-4)


def test_profile_search_steps_outward_as_documented():
    # the default table is the search's own path: steps of 0.1 from the optimum, each
    # 1.5 times the last, at most 0.5, until χ² passes the threshold (or ±4 is reached)
    law = _simulated_law(11)
    a_hat = law.alpha.value
    up = np.sort(law.profile_alpha[law.profile_alpha > a_hat]) - a_hat
    down = a_hat - np.sort(law.profile_alpha[law.profile_alpha < a_hat])[::-1]
    for side, end in ((up, law.alpha.ci_high - a_hat), (down, a_hat - law.alpha.ci_low)):
        np.testing.assert_allclose(side, SEARCH_OFFSETS[:side.size], atol=1e-12)
        assert side[-2] < end <= side[-1]  # the last visited point is the first outside
    assert a_hat in law.profile_alpha


def test_profile_reaching_the_edge_is_unbounded_on_that_side():
    # flat data bound α on neither side: the search walks to ±4 and reports ∓inf
    d = np.tile([0.0, 100, 300, 1000, 3000], 2)
    cycles = np.repeat([100.0, 300.0], 5)
    c = np.full(d.size, 0.9) + np.random.default_rng(7).normal(0, 0.02, d.size)
    law = fit_growth_law(cycles, d, c, sigma=np.full(d.size, 0.02), shared_surface=True)
    assert law.bounded == (False, False)
    assert law.alpha.ci_low == -math.inf and law.alpha.ci_high == math.inf
    assert law.profile_alpha.min() == -4.0 and law.profile_alpha.max() == 4.0
    # the steps grow from 0.1 by 1.5 to at most 0.5; the last one is cut at the edge
    a_hat = law.alpha.value
    up = np.sort(law.profile_alpha[law.profile_alpha > a_hat]) - a_hat
    np.testing.assert_allclose(up[:-1], SEARCH_OFFSETS[:up.size - 1], atol=1e-9)
    assert up[-1] == pytest.approx(4.0 - a_hat) and up[-1] <= SEARCH_OFFSETS[up.size - 1]


def test_no_residual_degree_of_freedom_bounds_nothing():
    # unweighted, n = k: no scatter to estimate, so no interval, no test, no verdict on α
    cycles = np.array([100.0, 100, 300, 300])
    d = np.array([0.0, 500, 100, 2000])
    c = 1.0 - 0.8 * np.exp(-d / (150 * (cycles / 200) ** 0.7))
    law = fit_growth_law(cycles, d, c, shared_surface=True)
    assert math.isnan(law.alpha.ci_low) and math.isnan(law.alpha.ci_high)
    for name in ("alpha=1", "alpha=0.5"):
        row = law.comparison(name)
        assert math.isnan(row.test_statistic) and math.isnan(row.p_value)
    assert "no residual degrees of freedom" in law.verdict


def test_comparison_with_one_residual_degree_of_freedom():
    # unweighted, n - k = 1: the F test still has one dof; every AICc is infinite (its
    # correction divides by n - k - 1 = 0), so no model gets an Akaike weight
    from scipy import stats

    cycles = np.array([100.0, 100, 100, 300, 300])
    d = np.array([0.0, 200, 2000, 100, 2000])
    c = 1.0 - 0.8 * np.exp(-d / (150 * (cycles / 200) ** 0.7)) + np.array(
        [0.01, -0.02, 0.015, 0.02, -0.01])
    law = fit_growth_law(cycles, d, c, shared_surface=True)
    s = np.ones(d.size)
    rss_free = _independent_rss(cycles, d, c, s, None, np.array([0.2, 1.0, 150.0, 0.7]))[0]
    rss_1 = _independent_rss(cycles, d, c, s, 1.0, np.array([0.2, 1.0, 150.0]))[0]
    row = law.comparison("alpha=1")
    f = (rss_1 - rss_free) / rss_free
    assert row.test_statistic == pytest.approx(f, rel=1e-3)
    assert row.p_value == pytest.approx(stats.f.sf(f, 1, 1), rel=1e-3)
    for r in law.comparisons:
        assert r.aicc == math.inf and math.isnan(r.akaike_weight)


def _aicc(m2ll, n, k):
    return m2ll + 2 * k + 2 * k * (k + 1) / (n - k - 1)


#: (depths per cycle count, noise, weighted): σ = 0.03 is given; noise above it over-disperses
COMPARISON_CASES = {"weighted": (6, 0.03, True), "unweighted": (6, 0.03, False),
                    "over-dispersed": (6, 0.09, True), "mildly over-dispersed": (20, 0.039, True),
                    "many points": (400, 0.03, True)}


@pytest.mark.parametrize("case", list(COMPARISON_CASES))
def test_model_comparison_against_independent_fits(case):
    # α = 1, α = 0.5 and α free, each fitted here: χ² (or F) statistic and p from scipy,
    # AICc by its formula, Akaike weights; over-dispersed data scale both by φ = χ²/dof
    # (φ in (1, 2) for the mild case) and count φ as a parameter; with 800 points every
    # AICc is near 800 and the weights must still come out (no underflow)
    from scipy import stats

    n_depths, noise, weighted = COMPARISON_CASES[case]
    depths = np.r_[0.0, np.geomspace(10, 2500, n_depths - 1)]
    cycles = np.repeat([100.0, 300.0], depths.size)
    d = np.tile(depths, 2)
    truth = 1.0 - 0.8 * np.exp(-d / (150 * (cycles / 200) ** 0.95))
    c = truth + np.random.default_rng(16 if case.startswith("mildly") else 11).normal(
        0, noise, d.size)
    sigma = np.full(d.size, 0.03)
    law = fit_growth_law(cycles, d, c, sigma=sigma if weighted else None, shared_surface=True)
    s = sigma if weighted else np.ones(d.size)
    n, k = d.size, 4
    rss_free, _ = _independent_rss(cycles, d, c, s, None, np.array([0.2, 1.0, 150.0, 0.9]))
    over = weighted and stats.chi2.sf(rss_free, n - k) < 0.05
    assert over == ("over-dispersed" in case)
    phi = rss_free / (n - k) if over else 1.0
    if case.startswith("mildly"):
        assert 1 < phi < 2
    aicc = {}
    for name, alpha in (("alpha=1", 1.0), ("alpha=0.5", 0.5), ("free", None)):
        row = law.comparison(name)
        rss = rss_free if alpha is None else _independent_rss(
            cycles, d, c, s, alpha, np.array([0.2, 1.0, 150.0]))[0]
        kk = k if alpha is None else k - 1
        assert row.n_free_params == kk
        assert row.rss == pytest.approx(rss, rel=1e-5)
        if not weighted:
            aicc[name] = _aicc(n * math.log(rss / n), n, kk + 1)
        else:
            aicc[name] = _aicc(rss / phi, n, kk + (1 if over else 0))
        assert row.aicc == pytest.approx(aicc[name], rel=1e-5, abs=1e-5)
        if alpha is None:
            assert math.isnan(row.p_value) and row.alpha == pytest.approx(law.alpha.value)
            continue
        assert row.alpha == alpha
        if not weighted:
            f = (rss - rss_free) / (rss_free / (n - k))
            assert row.test_statistic == pytest.approx(f, rel=1e-4)
            assert row.p_value == pytest.approx(stats.f.sf(f, 1, n - k), rel=1e-3, abs=1e-9)
        else:
            x2 = (rss - rss_free) / phi
            assert row.test_statistic == pytest.approx(x2, rel=1e-4, abs=1e-7)
            assert row.p_value == pytest.approx(stats.chi2.sf(x2, 1), rel=1e-3, abs=1e-9)
    if case == "weighted":  # the truth is near α = 1: a small statistic, not clipped
        assert law.comparison("alpha=1").test_statistic < 1
    best = min(aicc.values())
    weights = {m: math.exp(-0.5 * (v - best)) for m, v in aicc.items()}
    for name, w in weights.items():
        row = law.comparison(name)
        assert row.delta_aicc == pytest.approx(aicc[name] - best, abs=1e-4)
        assert row.akaike_weight == pytest.approx(w / sum(weights.values()), rel=1e-4)

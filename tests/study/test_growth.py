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


def _simulated_law(seed, alpha=0.7, sigma=0.03, **kwargs):
    depths = np.array([0.0, 50, 150, 400, 1000, 2500])
    cycles = np.repeat([100, 300], depths.size).astype(float)
    d = np.tile(depths, 2)
    truth = 1.0 - 0.8 * np.exp(-d / (150 * (cycles / 200) ** alpha))
    c = truth + np.random.default_rng(seed).normal(0, sigma, d.size)
    return fit_growth_law(cycles, d, c, sigma=np.full(d.size, sigma), shared_surface=True,
                          **kwargs)


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

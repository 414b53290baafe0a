"""The published-table analysis (acceptance): fits at 100 and 300 cycles, α with its
interval and the model comparison, particle integrals against Table 1."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import curve_fit

from liprobe.study.paper import analyze_published
from tests.conftest import PUBLISHED

REFERENCE = PUBLISHED


@pytest.fixture(scope="module")
def published():
    return analyze_published(REFERENCE, models=("exponential", "erf", "logistic"))


def test_fits_run_for_100_and_300_cycles(published):
    fits = published.gradients.fits
    assert sorted(fits) == [100, 300]
    assert all(f.success for group in fits.values() for f in group)
    assert {f.n_points for f in fits[100]} == {4} and {f.n_points for f in fits[300]} == {8}


def test_exponential_fit_matches_an_independent_curve_fit(published):
    points = published.profile_points
    sel = points["cycles"] == 300
    d, li = points.loc[sel, "depth_nm"].to_numpy(), points.loc[sel, "li"].to_numpy()

    def model(x, cs, cb, length):
        return cb - (cb - cs) * np.exp(-x / length)

    popt, pcov = curve_fit(model, d, li, p0=(0.1, 1.0, 300.0))
    fit = next(f for f in published.gradients.fits[300] if f.model == "exponential")
    np.testing.assert_allclose(fit.params, popt, rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.covariance)), np.sqrt(np.diag(pcov)),
                               rtol=1e-3)
    assert fit.gradient_depth("half_recovery").value == pytest.approx(popt[2] * math.log(2),
                                                                      rel=1e-4)


def test_growth_exponent_has_an_interval_and_a_comparison(published):
    for law in published.gradients.growth.values():
        assert law.alpha.ci_low <= law.alpha.value <= law.alpha.ci_high
        assert math.isfinite(law.alpha.ci_high)
        names = [c.name for c in law.comparisons]
        assert names == ["alpha=1", "alpha=0.5", "free"]
        assert sum(c.akaike_weight for c in law.comparisons) == pytest.approx(1.0)
        assert "no per-point" in law.note
        # a bound is never stated as an estimate: the unconstrained α of the published
        # table is bounded on one side only (from below by nothing)
        if math.isfinite(law.alpha.ci_low):
            assert "α =" in law.verdict
        else:
            assert "one-sided" in law.verdict and "α =" not in law.verdict
        # nested models: a fixed α never fits better than the free α
        free = law.comparison("free").rss
        assert law.comparison("alpha=1").rss >= free - 1e-12
        assert law.comparison("alpha=0.5").rss >= free - 1e-12


def test_particle_integral_is_compared_with_table1(published):
    rows = published.gradients.particle
    assert {(int(p.cycles), p.model) for p in rows} >= {(100, "exponential"), (300, "exponential")}
    for p in rows:
        expected_icp = {100: 0.944, 300: 0.829}[int(p.cycles)]
        assert round(p.measured, 3) == expected_icp
        assert p.difference == pytest.approx(p.predicted.value - p.measured)
        assert 0.5 < p.predicted.value < 1.05
    three = next(p for p in rows if p.cycles == 300 and p.model == "exponential")
    assert three.capacity_loss == pytest.approx(0.24)  # 76.0 % retention after 300 cycles
    # closed-form volume average of the fitted exponential
    fit = next(f for f in published.gradients.fits[300] if f.model == "exponential")
    cs, cb, length = fit.params
    radius = 5000.0
    integral = length * radius**2 - 2 * length**2 * radius + 2 * length**3 * (
        1 - math.exp(-radius / length))
    assert three.predicted.value == pytest.approx(cb - (cb - cs) * 3 * integral / radius**3,
                                                  rel=1e-8)

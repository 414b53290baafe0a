"""Particle integral against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.study.gradient import fit_gradient
from liprobe.study.particle import particle_average, particle_integral

R = 5000.0


def exponential_average(cs, cb, length, radius=R):
    # (3/R^3) ∫ (cb - (cb - cs) e^{-d/L}) (R - d)^2 dd, integrated by parts by hand
    integral = length * radius**2 - 2 * length**2 * radius + 2 * length**3 * (
        1 - math.exp(-radius / length))
    return cb - (cb - cs) * 3 * integral / radius**3


def test_constant_and_step_profiles():
    assert particle_average(lambda d: np.full_like(d, 0.9), radius_nm=R) == pytest.approx(0.9)
    # Li only below a fully delithiated shell of 500 nm: the inner sphere's volume fraction
    step = particle_average(lambda d: (d >= 500.0).astype(float), radius_nm=R,
                            breakpoints_nm=(500.0,))
    assert step == pytest.approx(((R - 500.0) / R) ** 3, rel=1e-6)


def test_exponential_profile_matches_closed_form():
    value = particle_average(lambda d: 1.0 - 0.7 * np.exp(-d / 300.0), radius_nm=R,
                             breakpoints_nm=(300.0,))
    assert value == pytest.approx(exponential_average(0.3, 1.0, 300.0), rel=1e-9)


def test_particle_integral_of_a_fit_with_inventory_and_capacity():
    depth = np.array([0.0, 30, 100, 350, 700, 1000, 1500, 2500])
    ratio = 1.0 - 0.8 * np.exp(-depth / 400.0)
    fit = fit_gradient(depth, ratio + np.array([1, -1, 1, -1, 1, -1, 1, -1]) * 0.005)
    result = particle_integral(fit, cycles=300, measured_ratio=0.83, pristine_ratio=1.04,
                               retention=0.76)
    cs, cb, length = fit.params
    expected = exponential_average(cs, cb, length)
    assert result.predicted.value == pytest.approx(expected, rel=1e-8)
    assert result.inventory_loss.value == pytest.approx(1 - expected / 1.04, rel=1e-8)
    assert result.capacity_loss == pytest.approx(0.24)
    assert result.difference == pytest.approx(expected - 0.83)
    # delta-method SE: finite and below the spread of the data
    assert 0 < result.predicted.se < 0.05


def test_spread_over_shapes_enters_the_interval():
    # two shapes that fit the same points but differ between them: the combined
    # interval must contain both shapes' own intervals
    from liprobe.study.gradient import fit_gradient
    from liprobe.study.particle import combine_over_shapes, particle_integral

    d = np.array([0.0, 30, 100, 350, 700, 1000, 1500, 2500])
    li = np.array([0.03, 0.37, 0.47, 0.69, 0.77, 0.84, 0.91, 1.03])
    fits = [fit_gradient(d, li, model=m) for m in ("exponential", "erf", "two_scale")]
    rows = [particle_integral(f, cycles=300, radius_nm=5000.0, measured_ratio=0.83,
                              pristine_ratio=1.0) for f in fits if f.success]
    both = combine_over_shapes(rows, [f.aicc for f in fits if f.success])
    assert both.model == "over shapes"
    for r in rows:
        assert both.predicted.ci_low <= r.predicted.ci_low
        assert both.predicted.ci_high >= r.predicted.ci_high
    spread = max(r.predicted.value for r in rows) - min(r.predicted.value for r in rows)
    assert both.predicted.ci_high - both.predicted.ci_low >= spread


# ---- the interval of one particle integral, and the combination over shapes, by hand ----

def _exponential_gradient(cs, cb, length, radius=R):
    """d<c>/d(c_s, c_b, L) of the closed form above, differentiated by hand."""
    e = math.exp(-radius / length)
    integral = length * radius**2 - 2 * length**2 * radius + 2 * length**3 * (1 - e)
    d_integral = radius**2 - 4 * length * radius + 6 * length**2 * (1 - e) - 2 * length * radius * e
    share = 3 * integral / radius**3
    return np.array([share, 1 - share, -(cb - cs) * 3 * d_integral / radius**3])


def _fit(params, cov):
    from types import SimpleNamespace

    return SimpleNamespace(model="exponential", params=np.array(params),
                           covariance=np.array(cov))


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_particle_integral_interval_is_the_delta_method_of_the_closed_form(level):
    from scipy import stats

    params = [0.3, 1.0, 400.0]
    cov = np.array([[4e-4, -1e-4, 0.2], [-1e-4, 1e-4, -0.05], [0.2, -0.05, 900.0]])
    kwargs = {} if level == 0.95 else {"level": level}
    res = particle_integral(_fit(params, cov), cycles=300, measured_ratio=0.83,
                            pristine_ratio=0.98, retention=0.76, **kwargs)  # default R
    value = exponential_average(*params)
    g = _exponential_gradient(*params)
    se = math.sqrt(g @ cov @ g)
    q = stats.norm.ppf(0.5 + level / 2)
    p = res.predicted
    assert p.value == pytest.approx(value, rel=1e-9) and p.level == level
    assert p.se == pytest.approx(se, rel=1e-4)
    assert p.ci_low == pytest.approx(value - q * se, rel=1e-5)
    assert p.ci_high == pytest.approx(value + q * se, rel=1e-5)
    assert res.radius_nm == R and res.model == "exponential" and res.cycles == 300.0
    assert res.difference == pytest.approx(value - 0.83, rel=1e-9)
    assert res.z_score == pytest.approx((value - 0.83) / se, rel=1e-4)
    inv = res.inventory_loss
    assert inv.value == pytest.approx(1 - value / 0.98, rel=1e-9)
    assert inv.se == pytest.approx(se / 0.98, rel=1e-4)
    assert inv.ci_low == pytest.approx(1 - value / 0.98 - q * se / 0.98, rel=1e-5)
    assert inv.ci_high == pytest.approx(1 - value / 0.98 + q * se / 0.98, rel=1e-5)
    assert res.measured_inventory_loss == pytest.approx(1 - 0.83 / 0.98, rel=1e-12)
    assert res.capacity_loss == pytest.approx(0.24, rel=1e-12)


def test_particle_integral_without_errors_or_pristine_ratio():
    exact = particle_integral(_fit([0.3, 1.0, 400.0], np.zeros((3, 3))), cycles=1,
                              measured_ratio=0.83, pristine_ratio=1.0)
    assert exact.predicted.se == 0.0 and math.isnan(exact.z_score)  # no SE: no z
    assert exact.predicted.ci_low == exact.predicted.value == exact.predicted.ci_high
    for pristine in (math.nan, 0.0, -1.0):  # no usable pristine ratio: no inventory loss
        res = particle_integral(_fit([0.3, 1.0, 400.0], np.zeros((3, 3))), cycles=1,
                                measured_ratio=0.83, pristine_ratio=pristine)
        assert math.isnan(res.inventory_loss.value) and math.isnan(res.measured_inventory_loss)
    failed = particle_integral(_fit([math.nan] * 3, np.full((3, 3), math.nan)), cycles=1)
    assert math.isnan(failed.predicted.value) and math.isnan(failed.predicted.se)


def _integral(value, se, lo, hi, *, measured=0.83, pristine=0.98):
    from liprobe.study._estimate import Estimate
    from liprobe.study.particle import ParticleIntegral

    loss = 1 - measured / pristine if math.isfinite(pristine) else math.nan
    inventory = Estimate(1 - value / pristine if math.isfinite(pristine) else math.nan)
    return ParticleIntegral(300.0, "exponential", R, Estimate(value, se, lo, hi), measured,
                            value - measured, math.nan, inventory, loss, 0.24)


def test_combination_over_shapes_is_the_akaike_weighted_unconditional_estimate():
    from scipy import stats

    from liprobe.study.particle import combine_over_shapes

    rows = [_integral(math.nan, 0.01, math.nan, math.nan),  # no value: left out
            _integral(0.80, 0.01, 0.78, 0.82),
            _integral(0.86, 0.02, 0.70, 0.95),  # its own interval is the widest
            _integral(0.90, math.nan, math.nan, math.nan),  # no SE: counted as 0
            _integral(0.50, 0.01, 0.48, 0.52)]  # no AICc: left out
    aicc = [5.0, 10.0, 11.0, 14.0, math.inf]
    w = np.array([1.0, math.exp(-0.5), math.exp(-2.0)])
    w /= w.sum()
    vals, ses = np.array([0.80, 0.86, 0.90]), np.array([0.01, 0.02, 0.0])
    mean = float(w @ vals)
    se = float(w @ np.sqrt(ses**2 + (vals - mean) ** 2))  # Burnham & Anderson eq. 4.9
    both = combine_over_shapes(rows, aicc)
    p = both.predicted
    assert both.model == "over shapes" and both.radius_nm == R and both.cycles == 300.0
    assert p.value == pytest.approx(mean, rel=1e-12)
    assert p.se == pytest.approx(se, rel=1e-12)
    z = stats.norm.ppf(0.975)
    assert mean - z * se > 0.70 and mean + z * se < 0.95  # the envelope is wider here
    assert (p.ci_low, p.ci_high) == (0.70, 0.95)
    assert both.difference == pytest.approx(mean - 0.83, rel=1e-12)
    assert both.z_score == pytest.approx((mean - 0.83) / se, rel=1e-12)
    # pristine 0.98 recovered from the measured ratio and its loss
    inv = both.inventory_loss
    assert inv.value == pytest.approx(1 - mean / 0.98, rel=1e-12)
    assert inv.se == pytest.approx(se / 0.98, rel=1e-12)
    assert inv.ci_low == pytest.approx(1 - 0.95 / 0.98, rel=1e-12)
    assert inv.ci_high == pytest.approx(1 - 0.70 / 0.98, rel=1e-12)
    assert both.measured_inventory_loss == rows[1].measured_inventory_loss
    assert both.capacity_loss == 0.24
    # narrow own intervals: mean -+ z se is the interval; at 90 % with its own quantile
    narrow = [_integral(0.80, 0.001, 0.799, 0.801), _integral(0.90, 0.001, 0.899, 0.901)]
    w2 = np.array([1.0, math.exp(-0.5)])
    w2 /= w2.sum()
    m2 = float(w2 @ [0.80, 0.90])
    s2 = float(w2 @ np.sqrt(0.001**2 + (np.array([0.80, 0.90]) - m2) ** 2))
    q = stats.norm.ppf(0.95)
    p2 = combine_over_shapes(narrow, [1.0, 2.0], level=0.9).predicted
    assert p2.ci_low == pytest.approx(m2 - q * s2, rel=1e-12)
    assert p2.ci_high == pytest.approx(m2 + q * s2, rel=1e-12)
    assert p2.level == 0.9


def test_combination_edge_cases():
    from liprobe.errors import ParameterError
    from liprobe.study.particle import combine_over_shapes

    # no finite AICc (too few depths to rank shapes): equal weights
    rows = [_integral(0.80, 0.01, 0.78, 0.82), _integral(0.90, 0.01, 0.88, 0.92)]
    both = combine_over_shapes(rows, [math.inf, math.inf])
    assert both.predicted.value == pytest.approx(0.85, rel=1e-12)
    assert both.predicted.se == pytest.approx(math.sqrt(0.01**2 + 0.05**2), rel=1e-12)
    # AICc of poor fits of many points (about 1500): the weights must not underflow
    large = combine_over_shapes(rows, [1500.0, 1500.0 + 2 * math.log(3)])
    assert large.predicted.value == pytest.approx(0.75 * 0.80 + 0.25 * 0.90, rel=1e-12)
    # one shape: its own value and SE; an exact one has no z-score
    one = combine_over_shapes([_integral(0.80, 0.0, 0.80, 0.80)], [3.0])
    assert (one.predicted.value, one.predicted.se) == (0.80, 0.0)
    assert math.isnan(one.z_score)
    # no pristine ratio: no inventory loss
    row = _integral(0.8, 0.01, 0.78, 0.82, pristine=math.nan)
    assert math.isnan(combine_over_shapes([row], [1.0]).inventory_loss.value)
    with pytest.raises(ParameterError, match="no particle integral"):
        combine_over_shapes([_integral(math.nan, 0.01, math.nan, math.nan)], [1.0])
    with pytest.raises(ValueError):
        combine_over_shapes(rows, [1.0])  # one AICc per integral


def test_combined_inventory_loss_without_an_icp_ratio():
    # a cycle count with a pristine ratio but no ICP-AES measurement: every shape has an
    # inventory loss, so the combination over shapes has one too (it was NaN)
    from liprobe.study.particle import combine_over_shapes

    cov = np.diag([1e-4, 1e-4, 100.0])
    rows = [particle_integral(_fit(p, cov), cycles=100, pristine_ratio=1.02)
            for p in ([0.3, 1.0, 400.0], [0.2, 0.98, 300.0])]
    both = combine_over_shapes(rows, [4.0, 5.0])
    p = both.predicted
    assert math.isnan(both.measured_inventory_loss) and math.isnan(both.difference)
    inv = both.inventory_loss
    assert inv.value == pytest.approx(1 - p.value / 1.02, rel=1e-12)
    assert inv.se == pytest.approx(p.se / 1.02, rel=1e-12)
    assert (inv.ci_low, inv.ci_high) == pytest.approx((1 - p.ci_high / 1.02,
                                                       1 - p.ci_low / 1.02), rel=1e-12)

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

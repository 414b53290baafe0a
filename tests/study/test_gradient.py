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

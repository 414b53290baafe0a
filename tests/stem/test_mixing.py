"""R -> f models, inverted against the forward linear-imaging model; interval coverage."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.errors import ParameterError
from liprobe.stem.mixing import (
    RatioEstimate,
    antisite_fraction,
    exchange_fraction,
    intensity_ratio,
    substitution_fraction,
)


@pytest.mark.parametrize("f", [0.0, 0.05, 0.2, 0.37, 0.5])
@pytest.mark.parametrize("r0", [0.02, 0.08, 0.2])
def test_models_invert_the_forward_model(f, r0):
    # forward (linear incoherent imaging, ordered intensities T0 = 1 and L0 = r0):
    # exchange: I_Li = f + (1 - f) r0, I_TM = (1 - f) + f r0
    r_exchange = (f + (1 - f) * r0) / ((1 - f) + f * r0)
    assert exchange_fraction(r_exchange, r0) == pytest.approx(f, abs=1e-12)
    # substitution: I_Li = x + (1 - x) r0, I_TM = 1
    r_sub = f + (1 - f) * r0
    assert substitution_fraction(r_sub, r0) == pytest.approx(f, abs=1e-12)


def test_ratio_and_interval_coverage():
    rng = np.random.default_rng(41)
    f_true, r0 = 0.15, 0.06
    li_mean = f_true + (1 - f_true) * r0
    tm_mean = (1 - f_true) + f_true * r0
    ref = RatioEstimate(r0, 0.0, 1000, 1000)
    covered = 0
    for _ in range(400):
        li = rng.normal(li_mean * 300, 15.0, 60) + 40.0
        tm = rng.normal(tm_mean * 300, 25.0, 60) + 40.0
        est = antisite_fraction(intensity_ratio(li, tm, background=40.0), ref)
        covered += est.f_ci[0] <= f_true <= est.f_ci[1]
    assert 0.92 <= covered / 400 <= 0.98


def test_ratio_standard_error_matches_spread():
    rng = np.random.default_rng(42)
    estimates = [intensity_ratio(rng.normal(30, 5, 50), rng.normal(300, 20, 50))
                 for _ in range(300)]
    spread = np.std([e.R for e in estimates])
    typical = np.mean([e.se for e in estimates])
    assert typical == pytest.approx(spread, rel=0.15)
    assert np.mean([e.R for e in estimates]) == pytest.approx(0.1, rel=0.01)


def test_model_names_and_errors():
    est = antisite_fraction(RatioEstimate(0.3, 0.01, 9, 9), RatioEstimate(0.1, 0.0, 9, 9),
                            model="substitution")
    assert est.model == "substitution"
    assert est.f == pytest.approx((0.3 - 0.1) / 0.9)
    with pytest.raises(ParameterError):
        antisite_fraction(RatioEstimate(0.3, 0, 9, 9), RatioEstimate(0.1, 0, 9, 9), model="x")
    with pytest.raises(ParameterError):
        antisite_fraction(RatioEstimate(0.3, 0, 9, 9), RatioEstimate(1.2, 0, 9, 9))


@pytest.mark.parametrize("which", ["reference", "sensitivity"])
def test_interval_covers_with_an_uncertain_reference_and_k(which):
    # 2000 draws of R, R0 and k around their truth, with the reference (or k) the larger
    # source of error: the 95 % interval must cover f 93-97 % of the time and +-1 SE
    # 62-74 % (two-sided: ignoring the reference's SE drops coverage to ~50 %)
    from liprobe.stem.mixing import RatioEstimate, antisite_fraction

    rng = np.random.default_rng(7)
    f_true, r0_true, k_true, ktm_true = 0.10, 0.05, 0.72, 1.05
    r_true = (r0_true + k_true * f_true * (1 - r0_true)) / (1 - ktm_true * f_true * (1 - r0_true))
    se_r, se_r0, se_k = (0.002, 0.006, 0.01) if which == "reference" else (0.002, 0.001, 0.06)
    hits95 = hits68 = 0
    n = 2000
    for _ in range(n):
        r = RatioEstimate(r_true + rng.normal(0, se_r), se_r, 100, 100)
        r0 = RatioEstimate(r0_true + rng.normal(0, se_r0), se_r0, 100, 100)
        k = k_true + rng.normal(0, se_k)
        est = antisite_fraction(r, r0, k=k, k_se=se_k, k_tm=ktm_true, k_tm_se=0.0)
        hits95 += est.f_ci[0] <= f_true <= est.f_ci[1]
        hits68 += abs(est.f - f_true) <= est.f_se
    assert 0.93 <= hits95 / n <= 0.97
    assert 0.62 <= hits68 / n <= 0.74


def test_calibrated_inversion_inverts_the_forward_model():
    from liprobe.stem.mixing import exchange_fraction, substitution_fraction

    r0, k, ktm = 0.03, 0.7, 1.1
    for f in (0.0, 0.05, 0.2, 0.4):
        r_ex = (r0 + k * f * (1 - r0)) / (1 - ktm * f * (1 - r0))
        assert exchange_fraction(r_ex, r0, k=k, k_tm=ktm) == pytest.approx(f, abs=1e-12)
        assert substitution_fraction(r0 + k * f * (1 - r0), r0, k=k) == pytest.approx(f, abs=1e-12)


def test_intensity_ratio_by_hand_and_its_two_site_minimum():
    # li = (1, 3), tm = (10, 14): R = 2 / 12; var of the means (ddof 1): 2 / 2 and 8 / 2;
    # delta method: se = sqrt(1 + R² 4) / 12
    est = intensity_ratio(np.array([1.0, 3.0]), np.array([10.0, 14.0]))
    assert est.R == pytest.approx(1 / 6, rel=1e-12)
    assert est.se == pytest.approx(np.sqrt(1 + 4 / 36) / 12, rel=1e-12)
    assert (est.n_li, est.n_tm) == (2, 2)
    # with a background: the same numbers shifted by it
    shifted = intensity_ratio(np.array([6.0, 8.0]), np.array([15.0, 19.0]), background=5.0)
    assert shifted.R == pytest.approx(1 / 6, rel=1e-12)
    # fewer than two sites on either side: no scatter, no estimate
    for li, tm in (([1.0], [10.0, 14.0, 12.0]), ([1.0, 3.0, 2.0], [10.0])):
        one = intensity_ratio(np.array(li), np.array(tm))
        assert np.isnan(one.R) and np.isnan(one.se)


def test_intensity_ratio_needs_tm_above_background():
    with pytest.raises(ParameterError, match="background"):
        intensity_ratio(np.array([1.0, 2.0]), np.array([3.0, 5.0]), background=4.0)  # mean 0
    # a small positive TM mean is fine
    est = intensity_ratio(np.array([0.1, 0.3]), np.array([0.4, 0.6]))
    assert est.R == pytest.approx(0.2 / 0.5)


def test_parameter_limits_are_open():
    ref = RatioEstimate(0.1, 0.0, 9, 9)
    r = RatioEstimate(0.3, 0.0, 9, 9)
    for bad in (0.0, 1.0):
        with pytest.raises(ParameterError, match="confidence"):
            antisite_fraction(r, ref, confidence=bad)
    with pytest.raises(ParameterError, match="R0"):
        antisite_fraction(r, RatioEstimate(1.0, 0.0, 9, 9))
    with pytest.raises(ParameterError, match="sensitivity"):
        antisite_fraction(r, ref, k=0.0)
    # just inside the limits: (0.3 - 0.1) / ((1 - 0.1)(1 + 0.3)) for the exchange model
    est = antisite_fraction(r, ref, confidence=0.999)
    assert est.f == pytest.approx(0.2 / (0.9 * 1.3), rel=1e-12)

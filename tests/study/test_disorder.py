"""Li vs disorder: the Li-site model recovers a known k; joining interpolates correctly."""

from __future__ import annotations

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

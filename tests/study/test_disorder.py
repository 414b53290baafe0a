"""Li vs disorder: the Li-site model recovers a known k; joining interpolates correctly."""

from __future__ import annotations

import numpy as np

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

"""The FDA's χ² helpers against hand computations: bin pooling, μ and complete segregation."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt import _fda_stats as fda


def test_expected_pooling_merges_until_five_and_folds_the_tail():
    # 4.5 + 1 reaches 5 -> (0, 1); 5 alone is enough -> (2, 2); 2 + 3 -> (3, 4); the 0.5
    # left over joins the last group -> (3, 5)
    a = np.array([4.5, 1.0, 5.0, 2.0, 3.0, 0.5])
    assert fda.pool(np.zeros(6), a, "expected>=5") == [(0, 1), (2, 2), (3, 5)]
    # the running sum restarts at zero after each group: 5 -> (0, 0), 4.5 + 1 -> (1, 2),
    # 5 -> (3, 3)
    b = np.array([5.0, 4.5, 1.0, 5.0])
    assert fda.pool(np.zeros(4), b, "expected>=5") == [(0, 0), (1, 2), (3, 3)]
    # never five in all: one group of every bin
    assert fda.pool(np.zeros(3), np.ones(3), "expected>=5") == [(0, 2)]


def test_observed_pooling_keeps_single_bins_with_five_or_more():
    observed = np.array([4.0, 5.0, 6.0, 0.0, 7.0])
    assert fda.pool(observed, np.ones(5), "observed>=5") == [(1, 1), (2, 2), (4, 4)]


def test_chi2_of_pooled_bins_by_hand_and_scipy_p_value():
    from scipy import stats

    # observed>=5 keeps bins 0 and 2: (10 - 5)² / 5 + (10 - 0.5)² / 0.5 = 5 + 180.5
    chi2, dof, p, groups = fda.chi2_test(np.array([10.0, 0.0, 10.0]),
                                         np.array([5.0, 10.0, 0.5]), "observed>=5", 0)
    assert groups == [(0, 0), (2, 2)]
    assert chi2 == pytest.approx(185.5, rel=1e-12)
    assert dof == 1
    assert p == pytest.approx(stats.chi2.sf(185.5, 1), rel=1e-9)
    # three bins, one fitted parameter: one degree of freedom still gives a p-value
    o, e = np.array([12.0, 20.0, 8.0]), np.array([10.0, 20.0, 10.0])
    chi2, dof, p, _ = fda.chi2_test(o, e, "expected>=5", 1)
    assert chi2 == pytest.approx(0.8, rel=1e-12) and dof == 1
    assert p == pytest.approx(stats.chi2.sf(0.8, 1), rel=1e-9)
    # no degree of freedom left: no p-value
    assert np.isnan(fda.chi2_test(o[:2], e[:2], "expected>=5", 1)[2])


def test_mu_is_pearsons_contingency_coefficient():
    assert fda.mu_of(0.25, 0.5) == pytest.approx(np.sqrt(0.25 / 0.75), rel=1e-12)
    assert fda.mu_of(3.0, 1.0) == pytest.approx(np.sqrt(0.75), rel=1e-12)
    assert np.isnan(fda.mu_of(0.0, 0.0))


def test_complete_segregation_chi2_by_hand():
    # 100 blocks of 2 ions, p = 0.5: half the blocks all solute, half none -> O = (50, 0, 50)
    # against E = 100 (1/4, 1/2, 1/4): χ² = 25²/25 + 50²/50 + 25²/25 = 100
    assert fda.chi2_max(100, 2, 0.5, "expected>=5", 0) == pytest.approx(100.0, rel=1e-12)
    # the same with observed >= 5 pooling: the empty middle bin is dropped, 25 + 25 = 50
    assert fda.chi2_max(100, 2, 0.5, "observed>=5", 0) == pytest.approx(50.0, rel=1e-12)
    # p = 0.3 of 10 blocks of 1 ion: O = (7, 3) is the binomial expectation itself
    assert fda.chi2_max(10, 1, 0.3, "observed>=5", 0) == pytest.approx(0.0, abs=1e-12)

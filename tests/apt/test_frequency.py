"""Frequency distribution analysis: truth from the synthetic generator and from binomial draws."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.frequency import (
    frequency_distribution,
    occupied_volume_nm3,
    scan_block_sizes,
)
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.synth import generate_specimen, get_preset, ncm_ranges

LI_NI = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
                   [6.5, 28.5], [7.5, 29.5], [0, 1])


def test_homogeneous_specimen_is_random_over_20_seeds():
    # 600 k ions: enough Mn (the rarest element) that μ stays well below 0.05
    params = get_preset("ncm-homogeneous", n_ions=600_000)
    ranges = ncm_ranges(params)
    p_values, mus = [], []
    for seed in range(20):
        ions, _ = generate_specimen(params, rng=np.random.default_rng(1000 + seed))
        res = frequency_distribution(ions, ranges, block_ions=100)
        for r in res.species.values():
            mus.append(r.mu)
            p_values.append(r.p_value)
    assert max(mus) <= 0.05
    # a random specimen gives uniform p-values: about 5 % below 0.05
    assert np.mean(np.array(p_values) < 0.05) <= 0.20


def test_li_line_specimen_has_large_li_mu():
    params = get_preset("ncm-li-lines", n_ions=400_000)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(5))
    res = frequency_distribution(ions, ncm_ranges(params), block_ions=100)
    assert res.species["Li"].mu >= 0.5
    assert res.species["Li"].p_value < 1e-6
    assert res.species["Co"].mu < res.species["Li"].mu / 4


def test_binomial_draws_give_exact_expected_frequencies(rng):
    # evaporation-order blocks of 50 ions, Li with p = 0.3: compare with scipy's binomial
    from scipy import stats

    n = 200_000
    mass = np.where(rng.random(n) < 0.3, 7.0, 29.0).astype(np.float32)
    ions = IonTable(np.zeros((n, 3), np.float32), mass)
    res = frequency_distribution(ions, LI_NI, block_ions=50, method="evaporation")
    li = res.species["Li"]
    assert li.n_blocks == n // 50
    k_true = (mass.reshape(-1, 50) == 7.0).sum(axis=1)
    np.testing.assert_array_equal(li.observed, np.bincount(k_true, minlength=51))
    p_hat = k_true.mean() / 50
    np.testing.assert_allclose(li.expected, len(k_true) * stats.binom.pmf(np.arange(51), 50, p_hat))
    assert li.mean_fraction == pytest.approx(p_hat)
    assert li.dof == len(li.groups) - 2
    assert li.mu == pytest.approx(np.sqrt(li.chi2 / (k_true.sum() + li.chi2)))


def test_complete_segregation_gives_mu_near_one():
    # blocks alternate all-Li / no-Li: the most non-random arrangement
    block = 20
    mass = np.repeat(np.tile([7.0, 29.0], 500), block).astype(np.float32)
    ions = IonTable(np.zeros((mass.size, 3), np.float32), mass)
    res = frequency_distribution(ions, LI_NI, block_ions=block, method="evaporation",
                                 mu_n="blocks")
    assert res.species["Li"].mu > 0.99
    assert res.mu_n_convention == "blocks"


def test_conventions_change_dof_and_mu_as_documented(rng):
    n = 100_000
    mass = np.where(rng.random(n) < 0.2, 7.0, 29.0).astype(np.float32)
    ions = IonTable(rng.uniform(0, 30, (n, 3)).astype(np.float32), mass)
    a = frequency_distribution(ions, LI_NI, dof="bins-2", method="evaporation").species["Li"]
    b = frequency_distribution(ions, LI_NI, dof="bins-1", method="evaporation").species["Li"]
    assert b.dof == a.dof + 1 and b.chi2 == a.chi2
    c = frequency_distribution(ions, LI_NI, mu_n="blocks", method="evaporation").species["Li"]
    assert c.mu == pytest.approx(np.sqrt(a.chi2 / (a.n_blocks + a.chi2)))
    d = frequency_distribution(ions, LI_NI, pooling="observed>=5", method="evaporation")
    assert all(d.species["Li"].observed[k0] >= 5 for k0, _ in d.species["Li"].groups)
    payload = d.to_dict()
    assert payload["conventions"] == {"pooling": "observed>=5", "dof": "bins-2",
                                      "mu_n": "solute"}
    assert set(payload["species"]["Li"]) >= {"chi2", "dof", "p_value", "mu", "n_blocks",
                                             "block_ions"}


def test_occupied_volume_of_a_cone_not_its_bounding_box(rng):
    # truncated cone, radius 10 -> 20 nm over 50 nm: V = pi h (R^2 + R r + r^2) / 3
    n = 400_000
    z = 50 * rng.random(n)
    radius = 10 + 10 * z / 50
    keep = rng.random(n) < (radius / 20) ** 2  # uniform density in the cone
    r = radius[keep] * np.sqrt(rng.random(keep.sum()))
    phi = 2 * np.pi * rng.random(keep.sum())
    xyz = np.column_stack([r * np.cos(phi), r * np.sin(phi), z[keep]]).astype(np.float32)
    volume = occupied_volume_nm3(xyz)
    truth = np.pi * 50 * (100 + 200 + 400) / 3
    assert volume == pytest.approx(truth, rel=0.03)
    assert volume < 0.6 * (40 * 40 * 50)  # the bounding box would be 75 % larger


def test_scan_reports_mu_per_block_size():
    params = get_preset("ncm-li-lines", n_ions=200_000)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(2))
    scan = scan_block_sizes(ions, ncm_ranges(params), block_ions=(50, 100, 200),
                            elements=["Li", "Co"])
    assert scan.block_ions.tolist() == [50, 100, 200]
    assert np.all(scan.mu["Li"] > 0.3)
    assert np.all(scan.mu["Co"] < 0.15)


def test_too_few_ions_raise(rng):
    ions = IonTable(np.zeros((50, 3), np.float32), np.full(50, 7.0, np.float32))
    with pytest.raises(ParameterError, match="block_ions"):
        frequency_distribution(ions, LI_NI, block_ions=100)
    with pytest.raises(ParameterError, match="method"):
        frequency_distribution(ions, LI_NI, block_ions=10, method="random")


def _evaporation_ions(rng, n, p_li):
    """Li/Ni ions in evaporation order along z (p_li: scalar or one per ion)."""
    mass = np.where(rng.random(n) < p_li, 7.0, 29.0).astype(np.float32)
    xyz = np.zeros((n, 3), np.float32)
    xyz[:, 2] = np.linspace(0, 50, n)
    return IonTable(xyz, mass)


def test_chi2_and_p_value_are_scipys_on_the_pooled_bins(rng):
    """Against scipy.stats.chisquare on the same pooled bins, ddof=1 for the fitted p:
    a p-value with the wrong degrees of freedom fails here."""
    from scipy import stats

    res = frequency_distribution(_evaporation_ions(rng, 40_000, 0.3), LI_NI, block_ions=50,
                                 method="evaporation")
    li = res.species["Li"]
    o = np.array([li.observed[a:b + 1].sum() for a, b in li.groups])
    e = np.array([li.expected[a:b + 1].sum() for a, b in li.groups])
    ref = stats.chisquare(o, e * o.sum() / e.sum(), ddof=1)
    assert li.chi2 == pytest.approx(ref.statistic, rel=1e-6)
    assert li.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    assert li.dof == o.size - 2


@pytest.mark.parametrize("gradient", [0.0, 0.6])
def test_p_values_are_uniform_over_200_seeds(gradient):
    """Random solid solutions (with a Li gradient along z for the detrended test): the
    FDA's p-values are uniform (KS); the plain p-value rejects the gradient specimens."""
    from scipy import stats

    plain, detrended = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        t = np.arange(10_000) / 10_000
        res = frequency_distribution(_evaporation_ions(rng, t.size, 0.3 * (1 + gradient * (
            t - 0.5))), LI_NI, block_ions=50, method="evaporation")
        plain.append(res.species["Li"].p_value)
        detrended.append(res.species["Li"].detrended_p_value)
    assert stats.kstest(detrended, "uniform").pvalue > 0.01
    if gradient == 0:
        assert stats.kstest(plain, "uniform").pvalue > 0.01
    else:
        assert np.mean(np.array(plain) < 0.05) > 0.5


def test_both_conventions_with_mu_max():
    block = 20
    mass = np.repeat(np.tile([7.0, 29.0], 500), block).astype(np.float32)
    ions = IonTable(np.zeros((mass.size, 3), np.float32), mass)
    li = frequency_distribution(ions, LI_NI, block_ions=block,
                                method="evaporation").species["Li"]
    # complete segregation: μ/μ_max = 1 under either convention, μ itself differs
    payload = li.to_dict()
    assert payload["mu_over_max_solute"] == pytest.approx(1.0)
    assert payload["mu_over_max_blocks"] == pytest.approx(1.0)
    assert li.mu_normalised == pytest.approx(1.0)
    assert li.mu_solute < li.mu_blocks
    assert li.mu_solute == pytest.approx(np.sqrt(li.chi2 / (10_000 + li.chi2)))
    assert li.mu_blocks == pytest.approx(np.sqrt(li.chi2 / (1000 + li.chi2)))


def test_gradient_along_z_is_named_and_detrended():
    params = get_preset("ncm-homogeneous", n_ions=300_000, apex_radius_nm=8.0,
                        li_trend_per_nm=0.02)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(8))
    li = frequency_distribution(ions, ncm_ranges(params), block_ions=100).species["Li"]
    assert li.gradient_p_value < 1e-6
    assert any("gradient along the analysis direction" in w for w in li.warnings)
    assert li.detrended_p_value > 1e-3  # no segregation once the gradient is the null


def test_closure_flags_ni_and_o_next_to_li_lines():
    params = get_preset("ncm-li-lines", n_ions=400_000)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(5))
    res = frequency_distribution(ions, ncm_ranges(params), block_ions=100)
    assert res.species["Li"].p_value < 1e-6
    for element in ("Ni", "O"):
        r = res.species[element]
        assert r.p_value < 1e-6 and r.closure_with == "Li"
        assert any("only through closure with Li" in w for w in r.warnings), element
    assert not any("closure" in w for w in res.species["Li"].warnings)


# ---- _analyse on block counts chosen by hand (every number below worked out on paper) ----

def _blocks(*counts_per_k):
    """Block solute counts: ``counts_per_k[k]`` blocks hold k solute ions."""
    return np.repeat(np.arange(len(counts_per_k)), counts_per_k).astype(np.int64)


@pytest.mark.parametrize("mu_n", ["solute", "blocks"])
def test_analyse_chi2_mu_and_mu_max_by_hand(mu_n):
    from scipy import stats

    from liprobe.apt.frequency import _analyse

    # 200 blocks of 2 ions, O = (120, 60, 20): 100 solute ions, p = 100 / 400 = 1/4;
    # E = 200 (9/16, 6/16, 1/16) = (112.5, 75, 12.5), every bin >= 5 (no pooling);
    # χ² = 7.5²/112.5 + 15²/75 + 7.5²/12.5 = 0.5 + 3 + 4.5 = 8
    k = _blocks(120, 60, 20)
    r = _analyse("Li", k, 2, "expected>=5", "bins-2", mu_n)
    np.testing.assert_array_equal(r.k, [0, 1, 2])
    np.testing.assert_array_equal(r.observed, [120.0, 60.0, 20.0])
    np.testing.assert_allclose(r.expected, [112.5, 75.0, 12.5], rtol=1e-12)
    assert r.n_blocks == 200 and r.block_ions == 2
    assert r.mean_fraction == pytest.approx(0.25, rel=1e-12)
    assert r.groups == ((0, 0), (1, 1), (2, 2))
    assert r.chi2 == pytest.approx(8.0, rel=1e-12)
    assert r.dof == 1  # 3 bins - 1 - the fitted p
    assert r.p_value == pytest.approx(stats.chi2.sf(8.0, 1), rel=1e-9)
    assert r.mu_solute == pytest.approx(np.sqrt(8 / 108), rel=1e-12)  # N = 100 solute ions
    assert r.mu_blocks == pytest.approx(np.sqrt(8 / 208), rel=1e-12)  # N = 200 blocks
    assert r.mu == (r.mu_solute if mu_n == "solute" else r.mu_blocks)
    # complete segregation: 50 blocks full, 150 empty, O = (150, 0, 50):
    # χ²_max = 37.5²/112.5 + 75²/75 + 37.5²/12.5 = 12.5 + 75 + 112.5 = 200
    assert r.mu_max_solute == pytest.approx(np.sqrt(200 / 300), rel=1e-12)
    assert r.mu_max_blocks == pytest.approx(np.sqrt(200 / 400), rel=1e-12)
    # bins - 1: the fitted p is not subtracted
    r1 = _analyse("Li", k, 2, "expected>=5", "bins-1", mu_n)
    assert r1.chi2 == r.chi2 and r1.dof == 2
    assert r1.p_value == pytest.approx(stats.chi2.sf(8.0, 2), rel=1e-9)


def test_analyse_gradient_and_detrended_chi2_by_hand():
    from scipy import stats

    from liprobe.apt.frequency import _analyse

    # two depth slabs of 100 blocks of 2 ions: O = (60, 30, 10) then (30, 50, 20)
    k = np.concatenate([_blocks(60, 30, 10), _blocks(30, 50, 20)])
    slab = np.repeat([0, 1], 100)
    # solute 50 and 90 of 200 each: p = 140 / 400 = 0.35, p_slab = 0.25 and 0.45
    # gradient: E = 70 per slab, var = 200 p (1 - p) = 45.5, χ² = (20² + 20²) / 45.5, 1 dof
    grad_chi2 = 2 * 20.0**2 / (200 * 0.35 * 0.65)
    # detrended: E = 100 Binom(2, 0.25) + 100 Binom(2, 0.45) = (86.5, 87, 26.5),
    # O = (90, 80, 30): χ² = 3.5²/86.5 + 7²/87 + 3.5²/26.5, 3 bins - 1 - 1 = 1 dof
    d_chi2 = 3.5**2 / 86.5 + 7.0**2 / 87.0 + 3.5**2 / 26.5
    for mu_n, n_norm in (("solute", 140), ("blocks", 200)):
        r = _analyse("Li", k, 2, "expected>=5", "bins-2", mu_n, slab)
        # the plain test: E = 200 Binom(2, 0.35) = (84.5, 91, 24.5)
        assert r.chi2 == pytest.approx(5.5**2 / 84.5 + 11.0**2 / 91 + 5.5**2 / 24.5, rel=1e-12)
        assert r.gradient_p_value == pytest.approx(stats.chi2.sf(grad_chi2, 1), rel=1e-9)
        assert r.detrended_chi2 == pytest.approx(d_chi2, rel=1e-12)
        assert r.detrended_dof == 1
        assert r.detrended_p_value == pytest.approx(stats.chi2.sf(d_chi2, 1), rel=1e-9)
        assert r.detrended_mu == pytest.approx(np.sqrt(d_chi2 / (n_norm + d_chi2)), rel=1e-12)


def test_analyse_gradient_counts_a_slab_with_variance_below_one():
    from scipy import stats

    from liprobe.apt.frequency import _analyse

    # slab 0: one block of 2 ions, both solute; slab 1: 19 blocks with 1, 20 with 0
    k = np.concatenate([[2], _blocks(20, 19)])
    slab = np.repeat([0, 1], [1, 39])
    p = 21 / 80
    # var of slab 0 = 1 * 2 p (1 - p) = 0.387: below one, still a term of the sum
    chi2 = (2 - 2 * p) ** 2 / (2 * p * (1 - p)) + (19 - 78 * p) ** 2 / (78 * p * (1 - p))
    r = _analyse("Li", k, 2, "expected>=5", "bins-2", "solute", slab)
    assert r.gradient_p_value == pytest.approx(stats.chi2.sf(chi2, 1), rel=1e-9)
    # three slabs: two degrees of freedom
    slab3 = np.repeat([0, 1, 2], [1, 20, 19])
    k3 = np.concatenate([[2], np.ones(20, np.int64), np.zeros(19, np.int64)])
    p3 = 22 / 80
    chi2_3 = ((2 - 2 * p3) ** 2 / 2 + (20 - 40 * p3) ** 2 / 40 + (38 * p3) ** 2 / 38) / (
        p3 * (1 - p3))
    r3 = _analyse("Li", k3, 2, "expected>=5", "bins-2", "solute", slab3)
    assert r3.gradient_p_value == pytest.approx(stats.chi2.sf(chi2_3, 2), rel=1e-9)


@pytest.mark.parametrize("full", [False, True])
def test_analyse_of_an_absent_or_pure_element(full):
    from liprobe.apt.frequency import _analyse

    # 40 blocks of 3 ions, none (p = 0) or all (p = 1) solute, in two slabs
    k = np.full(40, 3 if full else 0, np.int64)
    r = _analyse("Li", k, 3, "expected>=5", "bins-2", "blocks", np.repeat([0, 1], 20))
    top = 3 if full else 0
    assert r.mean_fraction == float(full)
    np.testing.assert_array_equal(r.observed, np.eye(4)[top] * 40)
    np.testing.assert_allclose(r.expected, np.eye(4)[top] * 40, atol=1e-12)
    # no segregation is possible: μ_max undefined under either normalisation
    assert np.isnan(r.mu_max_blocks) and np.isnan(r.mu_max_solute)
    # the slabs do not differ (zero variance contributes nothing): gradient p = 1
    assert r.gradient_p_value == 1.0


def test_one_slab_means_no_gradient_test():
    # 30 blocks (< 40): a single depth slab, so neither the gradient nor the detrended test
    mass = np.tile([7.0, 29.0, 29.0, 29.0, 29.0], 60).astype(np.float32)
    ions = IonTable(np.zeros((mass.size, 3), np.float32), mass)
    li = frequency_distribution(ions, LI_NI, block_ions=10, method="evaporation").species["Li"]
    assert li.n_blocks == 30 and li.mean_fraction == pytest.approx(0.2)
    for value in (li.gradient_p_value, li.detrended_chi2, li.detrended_p_value,
                  li.detrended_mu):
        assert np.isnan(value)

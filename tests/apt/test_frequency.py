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

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

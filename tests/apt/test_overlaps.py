"""Overlap deconvolution: truth is the generator's species of every ion."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.isotope_patterns import species_pattern
from liprobe.apt.overlaps import deconvolve_overlaps
from liprobe.apt.spectrum import estimate_background, mass_spectrum
from liprobe.errors import ParameterError
from liprobe.synth import generate_specimen, get_preset

FIT = ("Li+", "O+", "O2 2+", "O2+", "Ni2+", "Co2+", "Mn2+", "LiO+")


@pytest.fixture(scope="module")
def specimen():
    # narrow peaks without thermal tails: every ion of a species falls in its windows
    params = get_preset("ncm-homogeneous", n_ions=500_000, thermal_tail_fraction=0.0,
                        mass_resolving_power=2000.0)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(0))
    names = [s.name for s in truth.species]
    real = ~truth.is_background
    counts = {n: int(np.sum((truth.species_index == i) & real)) for i, n in enumerate(names)}
    return ions, counts


def test_o_and_ni_recovered_within_2_sigma_where_naive_ranging_is_biased(specimen):
    ions, true = specimen
    spectrum = mass_spectrum(ions.mass_to_charge_da, bin_width_da=0.01, range_da=(1, 120))
    res = deconvolve_overlaps(ions.mass_to_charge_da, species=FIT,
                              background=estimate_background(spectrum))
    true_o = true["O+"] + 2 * (true["O2+"] + true["O2 2+"]) + true["LiO+"]
    o, o_sigma = res.atoms("O")
    assert abs(o - true_o) <= 2 * o_sigma
    assert abs(res.naive_atoms("O") - true_o) > 5 * o_sigma  # 16 Da all O+: O2 2+ lost
    ni, ni_sigma = res.atoms("Ni")
    assert abs(ni - true["Ni2+"]) <= 2 * ni_sigma
    assert abs(res.naive_atoms("Ni") - true["Ni2+"]) > 2 * ni_sigma  # 64Ni2+ taken as O2+
    for name in ("O+", "O2 2+", "O2+", "Ni2+"):
        k = res.species.index(name)
        assert abs(res.counts[k] - true[name]) <= 2 * res.sigmas[k], name
    assert res.chi2 / res.dof < 3.0


def test_li2o_under_60ni2_is_separated(rng):
    # hand-made spectrum: Ni2+ with Li2O+ hiding under 60Ni2+ (30 Da) and 6Li7LiO+ (29 Da)
    def draw(name, n):
        mz, p = np.array(species_pattern(name)).T
        return rng.choice(mz, n, p=p / p.sum()) + rng.normal(0, 0.01, n)

    mass = np.concatenate([draw("Ni2+", 300_000), draw("Li2O+", 20_000), draw("O2+", 10_000)])
    res = deconvolve_overlaps(mass, species=("Ni2+", "Li2O+", "O2+"))
    for name, truth in (("Ni2+", 300_000), ("Li2O+", 20_000), ("O2+", 10_000)):
        k = res.species.index(name)
        assert abs(res.counts[k] - truth) <= 2 * res.sigmas[k]
    # naive: the 30 Da window all Ni2+ -> Ni over-counted by about the Li2O+ ions
    assert res.naive_counts[0] - 300_000 > 15_000


def test_background_is_subtracted(rng):
    mz, p = np.array(species_pattern("O2+")).T
    mass = np.concatenate([rng.choice(mz, 50_000, p=p / p.sum()), rng.uniform(20, 40, 40_000)])
    res = deconvolve_overlaps(mass, species=("O2+",), background=2000.0)  # 40000 / 20 Da
    assert abs(res.counts[0] - 50_000) <= 2 * res.sigmas[0]
    raw = deconvolve_overlaps(mass, species=("O2+",))
    assert raw.counts[0] - 50_000 > 3 * raw.sigmas[0]


def test_bad_species_and_options_raise():
    with pytest.raises(ParameterError, match="ion species"):
        deconvolve_overlaps(np.zeros(3), species=("Ni 2++",))
    with pytest.raises(ParameterError, match="half_width_da"):
        deconvolve_overlaps(np.zeros(3), species=("O+",), half_width_da=0.5)
    with pytest.raises(ParameterError, match="told apart"):
        deconvolve_overlaps(np.full(10, 16.0), species=("O+", "O+"))

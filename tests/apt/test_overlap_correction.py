"""Overlap-corrected composition: truth is the generator's species and atoms of every ion.

The synthetic specimens carry O+ and O2 2+ at 16 Da and O2+ and 64Ni2+ at 32 Da; the
expert range file gives the 16 Da range to O and the 32 Da range to O2, as a person would.
"""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.composition import compose
from liprobe.apt.isotope_patterns import species_pattern
from liprobe.apt.overlap_correction import (
    correct_composition,
    correct_composition_from_statistics,
    overlap_species_for,
)
from liprobe.apt.overlap_statistics import overlap_statistics
from liprobe.data import Ion, RangeTable
from liprobe.errors import ParameterError
from liprobe.synth import generate_specimen, get_preset
from liprobe.synth.ranges import ncm_ranges
from liprobe.synth.species import DEFAULT_EVAPORATION

# Ni mostly as Ni2+: 64Ni2+ under O2+ at 32 Da is then large enough to bias Ni by > 3σ
NI2_RICH = tuple({**dict(DEFAULT_EVAPORATION), "Ni2+": 0.9, "Ni+": 0.05, "NiO+": 0.05}.items())


def _oxygen_spectrum(rng, n_o, n_o2):
    """m/q of ``n_o`` O+ and ``n_o2`` O2 2+ ions drawn from their isotope patterns (no
    background; peaks 4 mDa wide)."""
    def draw(name, n):
        mz, p = np.array(species_pattern(name)).T
        return rng.choice(mz, n, p=p / p.sum()) + rng.normal(0, 0.004, n)

    return np.concatenate([draw("O+", n_o), draw("O2 2+", n_o2)]).astype(np.float32)


@pytest.fixture(scope="module")
def specimen():
    params = get_preset("ncm-homogeneous", n_ions=600_000, evaporation=NI2_RICH)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(11))
    ranges = ncm_ranges(params)
    comp = compose(ions, ranges)
    fixed, corr = correct_composition(ions, ranges, comp)
    return ions, truth, ranges, comp, fixed, corr


def test_o_and_ni_recovered_within_2_sigma_where_ranging_is_biased_by_3(specimen):
    _, truth, _, comp, fixed, corr = specimen
    true = truth.element_counts()
    for element in ("O", "Ni"):
        value, sigma = corr.atoms(element)
        assert abs(value - true[element]) <= 2 * sigma, element
        assert abs(fixed.atoms(element) - true[element]) <= 2 * sigma, element
        assert abs(comp.atoms(element) - true[element]) > 3 * sigma, element
    # the share uncertainty is what the ions of one isotope peak cannot tell: O2 2+ at 16
    # Da is seen only through the 16.5 and 17 Da isotopologues (< 0.5 % of its ions)
    assert corr.share_sigma("O") > 0.5 * corr.atoms("O")[1]
    # elements without overlaps are left exactly as ranged
    for element in ("Co", "Mn"):
        assert fixed.atoms(element) == comp.atoms(element)


def test_shares_match_the_true_species_in_the_overlapped_ranges(specimen):
    ions, truth, ranges, _, _, corr = specimen
    names = [s.name for s in truth.species]
    mass = ions.mass_to_charge_da
    checked = 0
    for k, r in enumerate(corr.range_index):
        inside = (mass >= ranges.low_da[r]) & (mass < ranges.high_da[r]) & ~truth.is_background
        for name in ("O2 2+", "Ni2+"):
            s = corr.species.index(name)
            if not corr.relabelled[k, s] or corr.range_ions[k] < 1000:
                continue
            true_share = np.mean(truth.species_index[inside] == names.index(name))
            assert abs(corr.shares[k, s] - true_share) <= 2 * corr.share_sigmas[k, s], name
            checked += 1
    assert checked == 2  # 16 Da (O2 2+ in the O range) and 32 Da (Ni2+ in the O2 range)


def test_sigmas_are_calibrated_over_replicate_specimens():
    # z = (corrected - true) / sigma over independent specimens: mean 0, SD 1
    params = get_preset("ncm-homogeneous", n_ions=80_000)
    ranges = ncm_ranges(params)
    z = []
    for seed in range(12):
        ions, truth = generate_specimen(params, rng=np.random.default_rng(100 + seed))
        _, corr = correct_composition(ions, ranges, compose(ions, ranges))
        value, sigma = corr.atoms("O")
        z.append((value - truth.element_counts()["O"]) / sigma)
    z = np.array(z)
    assert abs(z.mean()) < 3 / np.sqrt(z.size)
    assert 0.55 < z.std(ddof=1) < 1.5


def test_sixteen_da_range_carries_n16_times_one_plus_phi_oxygen(rng):
    # hand-made O spectrum, no background: 16 Da holds O+ and O2 2+ (φ = 1/4)
    n_o, n_o2 = 600_000, 200_000
    mass = _oxygen_spectrum(rng, n_o, n_o2)
    # only the 16 Da peak is ranged, as O: the other isotope peaks inform the fit only
    ranges = RangeTable((Ion("O", (("O", 1),)),), [15.95], [16.05], [0])
    comp = compose(mass, ranges)
    fixed, corr = correct_composition(mass, ranges, comp, species=("O+", "O2 2+"),
                                      background=None)
    n16 = comp.ion_counts[0]
    share_true = (n_o2 * species_pattern("O2 2+")[0][1]) / n16
    k = corr.species.index("O2 2+")
    assert abs(corr.shares[0, k] - share_true) <= 2 * corr.share_sigmas[0, k]
    o, sigma = corr.atoms("O")
    assert o == pytest.approx(n16 * (1 + corr.shares[0, k]), rel=1e-9)
    assert abs(o - n16 * (1 + share_true)) <= 2 * sigma
    # the O2 composition the range file lacks is appended for the moved ions
    assert fixed.ion_names == ("O", "O2")
    assert fixed.n_ranged == comp.n_ranged and fixed.n_ions == comp.n_ions
    assert abs(fixed.ion_counts[1] - n_o2 * species_pattern("O2 2+")[0][1]) <= 2 * n16 * (
        corr.share_sigmas[0, k]) + 1


def test_ranges_without_overlaps_are_unchanged(rng):
    mass = np.concatenate([rng.normal(7.016, 0.01, 5000), rng.normal(6.015, 0.01, 400),
                           rng.normal(58.93 / 2, 0.01, 3000)]).astype(np.float32)
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("Co", (("Co", 1),))),
                        [5.95, 6.95, 29.4], [6.1, 7.1, 29.55], [0, 0, 1])
    comp = compose(mass, ranges)
    fixed, corr = correct_composition(mass, ranges, comp)
    assert corr.range_index.size == 0 and corr.moved_shares() == {}
    assert fixed.atom_counts.tolist() == comp.atom_counts.tolist() == [5400, 3000]


def test_default_species_follow_the_range_file_ions(specimen):
    ranges = specimen[2]
    chosen = overlap_species_for(ranges)
    assert {"O+", "O2 2+", "O2+", "Ni2+"} <= set(chosen) and "Li2O+" not in chosen


def test_bad_inputs_raise(specimen):
    ions, _, ranges, comp, _, _ = specimen
    other = RangeTable((Ion("H", (("H", 1),)),), [0.9], [1.1], [0])
    with pytest.raises(ParameterError, match="different ions"):
        correct_composition(ions, other, comp)
    with pytest.raises(ParameterError, match="no species to fit"):
        correct_composition(ions, other, compose(ions, other))
    with pytest.raises(ParameterError, match="background"):
        correct_composition(ions, ranges, comp, background="guess")


def test_correction_from_chunk_statistics_equals_the_correction_of_all_ions(specimen):
    # truth: correct_composition on every ion at once (tested above against the generator)
    ions, _, ranges, comp, fixed, corr = specimen
    mass = ions.mass_to_charge_da.astype(">f4")  # as a POS memory map gives it
    chunks = [overlap_statistics(mass[i:i + 170_000], ranges)
              for i in range(0, mass.size, 170_000)]
    streamed_fixed, streamed = correct_composition_from_statistics(sum(chunks), ranges, comp)
    assert streamed_fixed.ion_counts.tolist() == fixed.ion_counts.tolist()
    assert streamed_fixed.atom_counts.tolist() == fixed.atom_counts.tolist()
    for name in ("shares", "share_sigmas", "atom_counts", "counting_variance",
                 "share_covariance", "range_ions"):
        assert np.array_equal(getattr(streamed, name), getattr(corr, name)), name
    assert np.array_equal(streamed.deconvolution.counts, corr.deconvolution.counts)
    for element in ("O", "Ni", "Li"):
        assert streamed.ratio(element) == corr.ratio(element)


def test_correction_from_statistics_checks_its_inputs(specimen):
    ions, _, ranges, comp, _, _ = specimen
    part = ions.mass_to_charge_da[:20_000]
    no_spectrum = overlap_statistics(part, ranges, spectrum_bin_da=None)
    with pytest.raises(ParameterError, match="no spectrum"):
        correct_composition_from_statistics(no_spectrum, ranges, comp)
    other = RangeTable(ranges.ions, ranges.low_da, ranges.high_da + 0.01, ranges.ion_index)
    with pytest.raises(ParameterError, match="another range table"):
        correct_composition_from_statistics(no_spectrum, other, comp, background=None)
    with pytest.raises(ParameterError, match="OverlapStatistics"):
        correct_composition_from_statistics(part, ranges, comp)
    # a background passed explicitly needs no spectrum, and equals the in-memory result
    _, from_stats = correct_composition_from_statistics(no_spectrum, ranges,
                                                        compose(part, ranges), background=3.0)
    _, direct = correct_composition(part, ranges, compose(part, ranges), background=3.0)
    assert from_stats.atoms("O") == direct.atoms("O")


def test_a_background_passed_in_gives_the_composition_of_the_estimated_one(specimen):
    from liprobe.apt.overlap_correction import composition_of
    from liprobe.apt.spectrum import background_of

    # composition_of counts the ranges in the correction's own pass: the same answer as
    # compose + correct_composition (the fixture), with or without a background passed in
    ions, _, ranges, comp, fixed, corr = specimen
    for background in ("estimate", background_of(ions.mass_to_charge_da)):
        got, got_corr = composition_of(ions, ranges, background=background)
        np.testing.assert_array_equal(got.ion_counts, fixed.ion_counts)
        np.testing.assert_array_equal(got.atom_counts, fixed.atom_counts)
        assert got.n_ions == comp.n_ions and got.n_ranged == comp.n_ranged
        np.testing.assert_array_equal(got_corr.atom_counts, corr.atom_counts)
        np.testing.assert_array_equal(got_corr.share_covariance, corr.share_covariance)


def test_counting_variance_of_a_mixed_range_is_compound_poisson(rng):
    # one range at 16 Da, O+ and O2 2+ (share φ of O2 2+): each of its n16 Poisson ions
    # carries 1 + φ O atoms, so Var(O atoms) = n16 (1 + φ)²; nothing else is counted
    mass = _oxygen_spectrum(rng, 300_000, 100_000)
    ranges = RangeTable((Ion("O", (("O", 1),)),), [15.95], [16.05], [0])
    comp = compose(mass, ranges)
    fixed, corr = correct_composition(mass, ranges, comp, species=("O+", "O2 2+"),
                                      background=None)
    n16 = float(((mass >= 15.95) & (mass <= 16.05)).sum())
    assert comp.ion_counts[0] == n16
    phi = corr.shares[0, corr.species.index("O2 2+")]
    o = corr.elements.index("O")
    assert corr.counting_variance[o] == pytest.approx(n16 * (1 + phi) ** 2, rel=1e-9)
    # the total: counting plus the (non-negative) share term
    assert corr.atoms("O")[1] ** 2 >= corr.counting_variance[o]
    assert fixed.atom_covariance[o, o] >= corr.counting_variance[o]
    assert corr.naive_atom_counts[o] == n16  # uncorrected: every ion of the range one O
    assert np.all(np.linalg.eigvalsh(corr.realised_covariance) >= -1e-9)
    # the share is known from 400 000 ions: a σ of 0.1 or more would be no information
    assert 0 < corr.share_sigmas[0, corr.species.index("O2 2+")] < 0.1


def test_realised_covariance_of_one_mixed_range_in_closed_form(rng):
    # 16 Da holds 16O+ (abundance a = 0.99757, IUPAC) and 16O16O 2+ (a²): given the fitted
    # totals N, the range's ions of each species scatter binomially, x_s = N_s A_s with
    # Var = N_s A_s (1 - A_s); the O2 2+ share x2 / (x1 + x2) then varies by
    # (x1² w2 + x2² w1) / D⁴, and its n16 ions carry one extra O each per unit share
    mass = _oxygen_spectrum(rng, 300_000, 100_000)
    ranges = RangeTable((Ion("O", (("O", 1),)),), [15.95], [16.05], [0])
    comp = compose(mass, ranges)
    # Ni 2+ is fitted too, though the range file has no Ni: its naive count is 0
    _, corr = correct_composition(mass, ranges, comp, species=("O+", "O2 2+", "Ni 2+"),
                                  background=None)
    n16 = float(comp.ion_counts[0])
    n1, n2, _ = corr.deconvolution.counts
    a1, a2 = 0.99757, 0.99757**2
    x1, x2 = n1 * a1, n2 * a2
    w1, w2 = x1 * (1 - a1), x2 * (1 - a2)
    expected = n16**2 * (x1**2 * w2 + x2**2 * w1) / (x1 + x2) ** 4
    o, ni = corr.elements.index("O"), corr.elements.index("Ni")
    assert corr.realised_covariance[o, o] == pytest.approx(expected, rel=2e-3)
    assert corr.naive_atom_counts[ni] == 0 and corr.atom_counts[ni] == 0
    assert corr.naive_atom_counts[o] == n16

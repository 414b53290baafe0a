"""Mass spectrum: truth from the generator (species of every ion, background events)."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.ranging import species_per_ion
from liprobe.apt.spectrum import estimate_background, find_peaks, mass_spectrum, propose_ranges
from liprobe.errors import ParameterError
from liprobe.synth import generate_specimen, get_preset


@pytest.fixture(scope="module")
def specimen():
    params = get_preset("ncm-homogeneous", n_ions=300_000)
    return generate_specimen(params, rng=np.random.default_rng(4))


def test_histogram_counts_match_numpy(rng):
    mass = rng.uniform(0, 50, 10_000).astype(np.float32)
    spec = mass_spectrum(mass, bin_width_da=0.5, range_da=(10, 40))
    expected, edges = np.histogram(mass, bins=60, range=(10, 40))
    np.testing.assert_array_equal(spec.counts, expected)
    np.testing.assert_allclose(spec.edges_da, edges)


def test_constant_tof_background_amplitude_recovered(rng):
    # events uniform in time of flight t in [t1, t2] give m = (t / c)^2
    t = rng.uniform(1.0, 11.0, 400_000)
    mass = (t**2).astype(np.float32)  # m from 1 to 121 Da
    spec = mass_spectrum(mass, bin_width_da=0.05, range_da=(1, 120))
    bg = estimate_background(spec)
    # dN/dm = N / (t2 - t1) * dt/dm = N / 10 / (2 sqrt(m)): amplitude N / 20
    assert bg.amplitude == pytest.approx(400_000 / 20, rel=3 * bg.amplitude_sigma / bg.amplitude
                                         + 0.005)


def test_background_of_the_synthetic_specimen(specimen):
    ions, truth = specimen
    spec = mass_spectrum(ions.mass_to_charge_da, bin_width_da=0.02, range_da=(1, 120))
    bg = estimate_background(spec)
    n_bg = int(truth.is_background.sum())
    # generator: background uniform in TOF over 1-120 Da -> amplitude N / (2 (sqrt120 - 1))
    assert bg.amplitude == pytest.approx(n_bg / (2 * (np.sqrt(120) - 1)), rel=0.1)


def test_proposed_ranges_label_the_generated_ions(specimen):
    ions, truth = specimen
    spec = mass_spectrum(ions.mass_to_charge_da, bin_width_da=0.01, range_da=(1, 120))
    peaks = find_peaks(spec)
    positions = np.array([p.position_da for p in peaks])
    for mz in (6.015, 7.016, 15.995, 27.47, 28.97, 29.47, 31.99, 57.94, 58.93):
        assert np.min(np.abs(positions - mz)) < 0.05, mz
    ranges = propose_ranges(peaks)
    assert {"Li", "O", "O2", "Ni", "Co", "Mn"} <= set(ranges.ion_names)
    labels = species_per_ion(ions.mass_to_charge_da, ranges, overlap="first")
    real = ~truth.is_background
    true_atoms = [dict(sp.atoms) for sp in truth.species]
    got = np.array([dict(ranges.ions[k].atoms) if k >= 0 else None for k in labels[real]],
                   dtype=object)
    want = np.array([true_atoms[i] for i in truth.species_index[real]], dtype=object)
    ranged = labels[real] >= 0
    # the known overlaps cannot be ranged apart (see overlaps.py): O2 2+ under O+ at 16 Da
    # and 64Ni2+ under O2+ at 32 Da; everything else must be labelled right
    names = np.array([sp.name for sp in truth.species])[truth.species_index[real]]
    mass = ions.mass_to_charge_da[real]
    overlap = (names == "O2 2+") | ((names == "Ni2+") & (mass > 31.5))
    keep = ranged & ~overlap
    assert np.mean(got[keep] == want[keep]) > 0.999
    assert np.mean(got[ranged & overlap] == want[ranged & overlap]) < 0.1
    assert ranged.mean() > 0.6  # thermal tails outside the ranges stay unranged


def test_bad_spectrum_options_raise():
    with pytest.raises(ParameterError, match="bin_width_da"):
        mass_spectrum(np.ones(3, np.float32), bin_width_da=0)
    with pytest.raises(ParameterError, match="no peaks"):
        propose_ranges(())


def test_species_for_elements_builds_atomic_ions_and_oxides():
    from liprobe.apt.isotope_patterns import species_for_elements

    assert species_for_elements("Si,O") == ("Si+", "Si 2+", "O+", "O 2+", "O2+", "O2 2+",
                                            "SiO+")
    assert species_for_elements(["Li", "Li2O+"]) == ("Li2O+", "Li+", "Li 2+")
    everything = species_for_elements("all")
    assert {"H+", "Pb+", "Si+", "NiO+"} <= set(everything)
    assert "Tc+" not in everything  # no natural isotopes


def test_unranged_peaks_are_those_outside_every_range():
    from liprobe.apt.spectrum import Peak, unranged_peaks
    from liprobe.data import Ion, RangeTable

    peaks = [Peak(7.0, 6.9, 7.1, 1000.0, 10.0, 30.0), Peak(28.0, 27.9, 28.1, 500.0, 5.0, 20.0),
             Peak(40.0, 39.9, 40.1, 5.0, 5.0, 1.5)]
    ranges = RangeTable((Ion("Li", (("Li", 1),)),), [6.9], [7.1], [0])
    assert [p.position_da for p in unranged_peaks(peaks, ranges)] == [28.0, 40.0]
    strong = unranged_peaks(peaks, ranges, min_fraction_of_strongest=0.01)
    assert [p.position_da for p in strong] == [28.0]


def test_spectrum_bins_match_numpy_histogram_in_both_evaluations(monkeypatch):
    """Truth: np.histogram over the same edges (masses drawn away from the bin edges)."""
    from liprobe.apt import _range_kernels

    rng = np.random.default_rng(11)
    centres = rng.integers(0, 12_000, 200_000)
    mass = ((centres + rng.uniform(0.1, 0.9, centres.size)) * 0.01).astype(np.float32)
    expected, _ = np.histogram(mass.astype(np.float64), bins=np.arange(0, 12_001) * 0.01)
    small = mass_spectrum(mass, bin_width_da=0.01, range_da=(0.0, 120.0)).counts
    monkeypatch.setattr(_range_kernels, "COMPILED_MIN_IONS", 1)
    compiled = mass_spectrum(mass, bin_width_da=0.01, range_da=(0.0, 120.0)).counts
    np.testing.assert_array_equal(small, expected)
    np.testing.assert_array_equal(compiled, expected)


def test_median_without_masked_arrays_is_numpys():
    from liprobe.apt.spectrum import _median

    rng = np.random.default_rng(13)
    for n in (1, 2, 3, 4, 101, 1000):
        values = rng.lognormal(3.0, 2.0, n)
        assert _median(values) == float(np.median(values))
    assert np.isnan(_median(np.array([1.0, np.nan, 2.0])))


def test_background_of_the_ions_is_the_overlap_statistics_background(specimen):
    # the CLI fits the background once and passes it to the correction and the window loss
    from liprobe.apt.overlap_statistics import overlap_statistics
    from liprobe.apt.spectrum import background_of
    from liprobe.synth import ncm_ranges

    ions, _ = specimen
    ranges = ncm_ranges(get_preset("ncm-homogeneous", n_ions=300_000))
    own = overlap_statistics(ions, ranges).estimate_background()
    assert background_of(ions.mass_to_charge_da) == own


@pytest.mark.parametrize("dtype", ["<f4", ">f4", "<f8"])
def test_spectrum_evaluations_agree_on_edges_and_outside(monkeypatch, dtype):
    """Truth: the compiled evaluation (its own loop) on masses exactly on bin edges, just
    beside them and outside the range, in any dtype and byte order."""
    from liprobe.apt import _range_kernels

    rng = np.random.default_rng(14)
    edges = (np.arange(0, 2001) * 0.05).astype(np.float32)
    mass = np.concatenate([rng.uniform(-5, 110, 50_000), edges,
                           np.nextafter(edges, np.float32(-np.inf)),
                           np.nextafter(edges, np.float32(np.inf))]).astype(dtype)
    small = mass_spectrum(mass, bin_width_da=0.05, range_da=(2.0, 90.0)).counts
    monkeypatch.setattr(_range_kernels, "COMPILED_MIN_IONS", 1)
    compiled = mass_spectrum(mass, bin_width_da=0.05, range_da=(2.0, 90.0)).counts
    np.testing.assert_array_equal(small, compiled)

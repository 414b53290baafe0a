"""Overlap statistics add over chunks: truth is the statistics of the whole array and
independent numpy counts (boolean window masks, ``np.histogram``) of the same ions."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.isotope_patterns import species_pattern
from liprobe.apt.overlap_statistics import OverlapStatistics, overlap_statistics
from liprobe.apt.overlaps import deconvolve_overlaps, deconvolve_window_counts, isotope_windows
from liprobe.data import Ion, RangeTable
from liprobe.errors import ParameterError

SPECIES = ("O+", "O2 2+", "O2+", "Ni2+")


def _ranges() -> RangeTable:
    ions = (Ion("O", (("O", 1),)), Ion("O2", (("O", 2),)), Ion("Ni", (("Ni", 1),)))
    centres = np.array([16.0, 17.0, 32.0, 29.0, 30.0, 31.0])
    return RangeTable(ions, centres - 0.15, centres + 0.15, [0, 0, 1, 2, 2, 2])


def _mass(rng: np.random.Generator, n: int) -> np.ndarray:
    """Peaks of the four species plus a flat background; big-endian like a POS memmap."""
    parts = []
    for name, share in zip(SPECIES, (0.4, 0.1, 0.3, 0.2), strict=True):
        mz, p = np.array(species_pattern(name)).T
        k = int(share * n * 0.95)
        parts.append(rng.choice(mz, k, p=p / p.sum()) + rng.normal(0, 0.01, k))
    parts.append(rng.uniform(1.0, 80.0, n - sum(p.size for p in parts)))
    mass = np.concatenate(parts)
    rng.shuffle(mass)
    return mass.astype(">f4")


def _assert_equal(a: OverlapStatistics, b: OverlapStatistics) -> None:
    assert a.species == b.species and (a.n_ions, a.n_unranged) == (b.n_ions, b.n_unranged)
    for name in ("window_low_da", "window_high_da", "window_counts", "range_counts",
                 "ion_counts", "spectrum_counts"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_statistics_of_two_halves_add_to_those_of_the_whole(rng) -> None:
    mass = _mass(rng, 200_000)
    mass[123] = 95.0  # the largest m/q sits in the first half: the halves' spectra differ
    ranges = _ranges()
    whole = overlap_statistics(mass, ranges, species=SPECIES)
    first = overlap_statistics(mass[:100_000], ranges, species=SPECIES)
    second = overlap_statistics(mass[100_000:], ranges, species=SPECIES)
    assert first.spectrum_counts.size > second.spectrum_counts.size
    _assert_equal(first + second, whole)
    _assert_equal(second + first, whole)
    parts = [overlap_statistics(mass[i:i + 30_000], ranges, species=SPECIES)
             for i in range(0, mass.size, 30_000)]
    _assert_equal(sum(parts), whole)
    # independent counts of the same ions: boolean masks in float64 and np.histogram
    m = mass.astype(np.float64)
    expect = [int(((m >= lo) & (m < hi)).sum())
              for lo, hi in zip(whole.window_low_da, whole.window_high_da, strict=True)]
    assert whole.window_counts.tolist() == expect
    in_range = [int(((m >= lo) & (m < hi)).sum())
                for lo, hi in zip(ranges.low_da, ranges.high_da, strict=True)]
    assert whole.range_counts.tolist() == in_range
    assert whole.ion_counts.tolist() == [in_range[0] + in_range[1], in_range[2],
                                         sum(in_range[3:])]
    assert whole.n_ions == 200_000 and whole.n_unranged == 200_000 - sum(in_range)
    # spectrum: 0.05 Da bins from 0 to max(m) + 0.05 Da
    n_bins = int(np.ceil((95.0 + 0.05) / 0.05))
    hist, _ = np.histogram(m, bins=n_bins, range=(0.0, n_bins * 0.05))
    spectrum = whole.spectrum()
    assert spectrum.counts.size == n_bins and spectrum.edges_da[-1] == pytest.approx(95.05)
    # bins agree except for ions within float rounding of an edge
    assert np.abs(spectrum.counts - hist).sum() <= 2
    assert int(spectrum.counts.sum()) == 200_000


def test_native_and_big_endian_input_give_the_same_statistics(rng) -> None:
    mass = _mass(rng, 50_000)
    ranges = _ranges()
    _assert_equal(overlap_statistics(mass, ranges, species=SPECIES),
                  overlap_statistics(mass.astype(np.float32), ranges, species=SPECIES))


def test_window_counts_fit_equals_the_fit_of_the_masses(rng) -> None:
    mass = _mass(rng, 100_000)
    stats = overlap_statistics(mass, _ranges(), species=SPECIES)
    from_counts = deconvolve_window_counts(stats.window_counts, species=SPECIES,
                                           background=stats.estimate_background())
    from_mass = deconvolve_overlaps(mass, species=SPECIES,
                                    background=stats.estimate_background())
    assert np.array_equal(from_counts.counts, from_mass.counts)
    assert np.array_equal(from_counts.covariance, from_mass.covariance)
    # and the fit recovers the drawn ions of each species (truth: the generator's shares)
    for name, share in zip(SPECIES, (0.4, 0.1, 0.3, 0.2), strict=True):
        s = SPECIES.index(name)
        assert abs(from_counts.counts[s] - int(share * 100_000 * 0.95)) <= (
            4 * from_counts.sigmas[s] + 30), name


def test_isotope_windows_are_disjoint_and_cover_the_peaks() -> None:
    peaks, design, low, high = isotope_windows(SPECIES, half_width_da=0.12)
    assert np.all(low[1:] >= high[:-1]) and np.all(high > low)
    assert np.all((peaks >= low) & (peaks < high))
    # 64Ni2+ (0.93 % of Ni) shares the 31.99 Da window with 16O2+ (99.5 % of O2)
    j = int(np.argmin(np.abs(peaks - 31.99)))
    assert design[j, SPECIES.index("Ni2+")] == pytest.approx(0.009255, abs=2e-4)
    assert design[j, SPECIES.index("O2+")] == pytest.approx(0.9952, abs=2e-3)


def test_mismatched_statistics_and_inputs_raise(rng) -> None:
    mass = _mass(rng, 5_000)
    ranges = _ranges()
    stats = overlap_statistics(mass, ranges, species=SPECIES)
    with pytest.raises(ParameterError, match="different species"):
        stats + overlap_statistics(mass, ranges, species=SPECIES[:2])
    shifted = RangeTable(ranges.ions, ranges.low_da + 0.01, ranges.high_da, ranges.ion_index)
    with pytest.raises(ParameterError, match="range tables"):
        stats + overlap_statistics(mass, shifted, species=SPECIES)
    with pytest.raises(ParameterError, match="another range table"):
        stats.check_ranges(shifted)
    with pytest.raises(ParameterError, match="no spectrum"):
        overlap_statistics(mass, ranges, species=SPECIES, spectrum_bin_da=None).spectrum()
    with pytest.raises(ParameterError, match="isotope windows"):
        deconvolve_window_counts(stats.window_counts[:-1], species=SPECIES)
    with pytest.raises(ParameterError, match=">= 0"):
        deconvolve_window_counts(-stats.window_counts, species=SPECIES)
    with pytest.raises(ParameterError, match="1-D"):
        overlap_statistics(mass.reshape(-1, 2), ranges, species=SPECIES)
    with pytest.raises(ParameterError, match="no species"):
        overlap_statistics(mass, RangeTable((Ion("H", (("H", 1),)),), [0.9], [1.1], [0]))

"""Ranging against an independent brute-force loop; overlap detection and rules."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.ranging import (
    IonCounts,
    assign_ranges,
    check_overlaps,
    count_ions,
    find_overlaps,
    resolve_overlaps,
    species_per_ion,
)
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError, RangeOverlapError


def _table(low, high, ion_index, names=None) -> RangeTable:
    n_species = int(np.max(ion_index)) + 1 if len(ion_index) else 0
    names = names or [f"X{k}" for k in range(n_species)]
    ions = tuple(Ion(name, ((name, 1),)) for name in names)
    return RangeTable(ions, np.asarray(low, float), np.asarray(high, float), ion_index)


def _brute_force(mass32: np.ndarray, ranges: RangeTable, rule: str) -> np.ndarray:
    """Reference labels: a plain loop over ions and ranges, float32 comparisons."""
    low = ranges.low_da.astype(np.float32)
    high = ranges.high_da.astype(np.float32)
    width = ranges.high_da - ranges.low_da
    out = np.full(mass32.size, -1, dtype=np.int64)
    for i, m in enumerate(mass32.tolist()):
        m = np.float32(m)
        best = -1
        for k in range(ranges.n_ranges):
            if low[k] <= m < high[k]:
                if best == -1:
                    best = k
                elif rule == "narrowest" and width[k] < width[best]:
                    best = k
        out[i] = best
    return out


def _random_disjoint(rng, n, span=(1.0, 250.0)) -> RangeTable:
    edges = np.sort(rng.uniform(*span, 2 * n))
    low, high = edges[0::2], edges[1::2]
    # make some ranges touch their neighbour exactly
    touch = rng.random(n - 1) < 0.3
    low[1:][touch] = high[:-1][touch]
    order = rng.permutation(n)  # file order is not sorted
    return _table(low[order], high[order], rng.integers(0, 7, n) % 7)


def _masses_with_bounds(rng, ranges: RangeTable, n_random: int) -> np.ndarray:
    bounds = np.concatenate([ranges.low_da, ranges.high_da]).astype(np.float32)
    near = np.concatenate([bounds, np.nextafter(bounds, np.float32(-np.inf)),
                           np.nextafter(bounds, np.float32(np.inf))])
    lo, hi = ranges.low_da.min() - 5, ranges.high_da.max() + 5
    uniform = rng.uniform(lo, hi, n_random).astype(np.float32)
    special = np.array([np.nan, -1.0, 0.0, 1e6, np.inf], np.float32)
    mass = np.concatenate([uniform, near, special])
    return mass[rng.permutation(mass.size)]


def test_assign_ranges_matches_brute_force_incl_bounds(rng):
    ranges = _random_disjoint(rng, 25)
    mass = _masses_with_bounds(rng, ranges, 4000)
    expected = _brute_force(mass, ranges, "error")
    got = assign_ranges(mass, ranges)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)
    # ions exactly on a bound: low is inside, high is outside
    assert (expected >= 0).sum() > 100
    k = int(np.argmin(ranges.low_da))
    on_low = np.float32(ranges.low_da[k])
    assert assign_ranges(np.array([on_low], np.float32), ranges)[0] == k


def test_big_endian_strided_and_float64_inputs_agree(rng):
    ranges = _random_disjoint(rng, 12)
    mass = _masses_with_bounds(rng, ranges, 3000)
    expected = _brute_force(mass, ranges, "error")
    records = np.zeros((mass.size, 4), dtype=">f4")  # a POS file's layout
    records[:, 3] = mass
    column = records[:, 3]
    assert not column.flags.c_contiguous and not column.dtype.isnative
    np.testing.assert_array_equal(assign_ranges(column, ranges), expected)
    np.testing.assert_array_equal(assign_ranges(mass.astype(np.float64), ranges), expected)
    counts = count_ions(column, ranges)
    np.testing.assert_array_equal(
        counts.range_counts, np.bincount(expected[expected >= 0], minlength=ranges.n_ranges)
    )


def test_chunked_path_matches_brute_force(rng, monkeypatch):
    from liprobe.apt import _range_kernels

    monkeypatch.setattr(_range_kernels, "CHUNK", 1000)  # several chunks of a big-endian input
    ranges = _random_disjoint(rng, 10)
    mass = _masses_with_bounds(rng, ranges, 3500)
    expected = _brute_force(mass, ranges, "error")
    big = mass.astype(">f4")
    np.testing.assert_array_equal(assign_ranges(big, ranges), expected)
    assert count_ions(big, ranges).n_unranged == int((expected < 0).sum())


def test_count_ions_matches_brute_force(rng):
    ranges = _random_disjoint(rng, 30)
    mass = _masses_with_bounds(rng, ranges, 5000)
    expected = _brute_force(mass, ranges, "error")
    counts = count_ions(mass, ranges)
    assert isinstance(counts, IonCounts)
    species = ranges.ion_index[expected[expected >= 0]]
    np.testing.assert_array_equal(counts.counts, np.bincount(species, minlength=ranges.n_ions))
    assert counts.n_unranged == int((expected < 0).sum())
    assert counts.n_ions == mass.size
    assert counts.n_ranged == int((expected >= 0).sum())
    assert counts.unranged_fraction == pytest.approx((expected < 0).mean())
    ion_labels = species_per_ion(mass, ranges)
    np.testing.assert_array_equal(
        ion_labels, np.where(expected >= 0, ranges.ion_index[np.maximum(expected, 0)], -1)
    )


def test_ion_table_input_and_wide_mass_domain(rng):
    # ranges spread over 10^6 Da force a coarser lookup table
    ranges = _random_disjoint(rng, 40, span=(0.5, 1.0e6))
    mass = _masses_with_bounds(rng, ranges, 3000)
    ions = IonTable(np.zeros((mass.size, 3), np.float32), mass)
    np.testing.assert_array_equal(assign_ranges(ions, ranges), _brute_force(mass, ranges, "e"))


def test_no_ranges_leaves_everything_unranged():
    ranges = RangeTable((), np.empty(0), np.empty(0), np.empty(0, int))
    counts = count_ions(np.array([1.0, 2.0, 3.0], np.float32), ranges)
    assert counts.n_unranged == 3 and counts.counts.size == 0
    assert assign_ranges(np.array([1.0], np.float32), ranges).tolist() == [-1]


def test_float32_rounding_of_bounds():
    """A mass stored as float32(7.1) is not in [6.9, 7.1): the decimal reading holds."""
    ranges = _table([6.9], [7.1], [0])
    mass = np.array([7.1, 6.9, np.nextafter(np.float32(7.1), np.float32(0))], np.float32)
    assert assign_ranges(mass, ranges).tolist() == [-1, 0, 0]


def test_touching_ranges_are_not_overlaps():
    ranges = _table([10.0, 10.5], [10.5, 11.0], [0, 1])
    assert find_overlaps(ranges) == ()
    check_overlaps(ranges)  # does not raise
    assert assign_ranges(np.array([10.5, 10.49], np.float32), ranges).tolist() == [1, 0]


def test_overlap_error_names_both_ranges_and_the_option():
    ions = (Ion("O+", (("O", 1),)), Ion("Li+", (("Li", 1),)), Ion("O2++", (("O", 2),)))
    ranges = RangeTable(ions, [15.9, 6.9, 15.95], [16.1, 7.1, 16.2], [0, 1, 2])
    assert find_overlaps(ranges) == ((0, 2),)
    with pytest.raises(RangeOverlapError) as info:
        count_ions(np.array([16.0], np.float32), ranges)
    message = str(info.value)
    for part in ("range 1", "O+", "15.9", "16.1", "range 3", "O2++", "15.95", "16.2",
                 "overlap='first'", "overlap='narrowest'"):
        assert part in message
    with pytest.raises(RangeOverlapError):
        assign_ranges(np.array([16.0], np.float32), ranges, overlap="error")


def test_exact_duplicates_are_not_overlaps():
    ranges = _table([6.9, 15.9, 6.9], [7.1, 16.1, 7.1], [0, 1, 0])
    assert find_overlaps(ranges) == ()
    counts = count_ions(np.array([7.0, 7.0, 16.0], np.float32), ranges)
    assert counts.range_counts.tolist() == [2, 1, 0]
    assert counts.counts.tolist() == [2, 1]
    # same bounds but another ion: a real overlap
    clash = _table([6.9, 6.9], [7.1, 7.1], [0, 1])
    assert find_overlaps(clash) == ((0, 1),)


@pytest.mark.parametrize("rule", ["first", "narrowest"])
def test_overlap_rules_match_brute_force(rng, rule):
    centres = rng.uniform(5, 80, 30)
    widths = rng.uniform(0.1, 3.0, 30)
    low, high = centres - widths / 2, centres + widths / 2
    low[5], high[5] = low[3], high[3]  # identical bounds, different ion: resolved too
    ranges = _table(low, high, np.arange(30) % 9)
    assert len(find_overlaps(ranges)) > 5
    mass = _masses_with_bounds(rng, ranges, 4000)
    expected = _brute_force(mass, ranges, rule)
    np.testing.assert_array_equal(assign_ranges(mass, ranges, overlap=rule), expected)
    counts = count_ions(mass, ranges, overlap=rule)
    np.testing.assert_array_equal(
        counts.range_counts, np.bincount(expected[expected >= 0], minlength=30)
    )


def test_resolve_overlaps_splits_the_loser():
    # narrow O2++ inside wide O+: narrowest splits O+ in two, first keeps O+ whole
    ranges = _table([15.8, 15.95], [16.2, 16.05], [0, 1], names=["O+", "O2++"])
    narrow = resolve_overlaps(ranges, "narrowest")
    assert narrow.low_da.tolist() == [15.8, 15.95, 16.05]
    assert narrow.high_da.tolist() == [15.95, 16.05, 16.2]
    assert narrow.ion_index.tolist() == [0, 1, 0]
    assert find_overlaps(narrow) == ()
    first = resolve_overlaps(ranges, "first")
    assert (first.low_da.tolist(), first.high_da.tolist()) == ([15.8], [16.2])
    # partial overlap: the later range keeps its uncovered tail
    partial = resolve_overlaps(_table([10.0, 10.6], [11.0, 11.5], [0, 1]), "first")
    assert partial.low_da.tolist() == [10.0, 11.0]
    assert partial.high_da.tolist() == [11.0, 11.5]


def test_unknown_rule_and_bad_input():
    ranges = _table([1.0], [2.0], [0])
    with pytest.raises(ParameterError, match="narrowest"):
        count_ions(np.zeros(2, np.float32), ranges, overlap="last")
    with pytest.raises(ParameterError, match="1-D"):
        assign_ranges(np.zeros((2, 2), np.float32), ranges)
    with pytest.raises(ParameterError, match="RangeTable"):
        count_ions(np.zeros(2, np.float32), {"low": 1})

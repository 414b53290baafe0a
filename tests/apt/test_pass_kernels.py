"""The per-specimen pass's bounded-memory kernels give what plain NumPy gives.

Truth, computed independently in each test: species by ``np.searchsorted`` over the range
bounds, counts by ``np.bincount``, bounds by ``min``/``max`` of a native copy, equal-count
edges by a full sort, FDA blocks by a stable argsort of (column, z slice) in NumPy, binomial
mixtures by a sum over every block. Arrays of more than 2**21 ions take the compiled
(numba) paths; a big-endian memory map is the case a POS file gives.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from liprobe.apt import _fda_kernels as fk
from liprobe.apt import _fda_stats
from liprobe.apt._guards import finite_position_bounds, require_finite_masses
from liprobe.apt.profiles import concentration_profile
from liprobe.apt.species import ions_per_species, species_per_ion
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.io import read_ions, write_ions

BIG = (1 << 21) + 12_345  # above the compiled-path threshold


def _ranges() -> RangeTable:
    ions = (Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("Ni", (("Ni", 1),)),
            Ion("O2", (("O", 2),)))
    return RangeTable(ions, [5.9, 6.9, 15.8, 28.8, 31.8], [6.1, 7.1, 16.2, 29.2, 32.2],
                      [0, 0, 1, 2, 3])


def _needle(rng, n):
    """Ions in evaporation order (z grows along the sequence) in a widening needle."""
    z = np.sort(rng.uniform(0.0, 80.0, n))
    r = (10.0 + 0.1 * z) * np.sqrt(rng.random(n))
    phi = rng.uniform(0, 2 * np.pi, n)
    xyz = np.column_stack([r * np.cos(phi), r * np.sin(phi), z]).astype(np.float32)
    mass = rng.choice(np.array([6.0, 7.0, 16.0, 29.0, 32.0, 50.0], np.float32), n,
                      p=[0.02, 0.25, 0.2, 0.3, 0.18, 0.05])
    mass = (mass + rng.normal(0, 0.03, n)).astype(np.float32)
    return IonTable(xyz, mass)


def _numpy_species(mass, ranges):
    m = np.asarray(mass, np.float32).astype(np.float64)
    low = ranges.low_da.astype(np.float32).astype(np.float64)
    high = ranges.high_da.astype(np.float32).astype(np.float64)
    k = np.searchsorted(low, m, side="right") - 1
    inside = (k >= 0) & (m < high[np.maximum(k, 0)])
    return np.where(inside, ranges.ion_index[np.maximum(k, 0)], -1)


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    """A big-endian memory-mapped POS of BIG ions and its native float32 truth."""
    rng = np.random.default_rng(20211)
    ions = _needle(rng, BIG)
    path = tmp_path_factory.mktemp("pass") / "needle.pos"
    write_ions(path, ions)
    return read_ions(path), ions


def test_species_are_int8_and_match_a_searchsorted_assignment(mapped):
    big_endian, native = mapped
    ranges = _ranges()
    species = species_per_ion(big_endian, ranges)
    assert species.dtype == np.int8  # 1 byte per ion: 4 species fit
    truth = _numpy_species(native.mass_to_charge_da, ranges)
    np.testing.assert_array_equal(species, truth)
    counts = ions_per_species(species, ranges.n_ions)
    np.testing.assert_array_equal(counts, np.bincount(truth[truth >= 0], minlength=4))
    small = species_per_ion(native.mass_to_charge_da[:1000], ranges)
    assert small.dtype == np.int8
    np.testing.assert_array_equal(ions_per_species(small, 4),
                                  np.bincount(truth[:1000][truth[:1000] >= 0], minlength=4))


def test_species_of_many_ion_kinds_widen_to_int16():
    n = 200
    ions = tuple(Ion(f"X{k}", (("Li", k + 1),)) for k in range(n))
    ranges = RangeTable(ions, np.arange(n) + 0.9, np.arange(n) + 1.1, np.arange(n))
    mass = np.arange(1, n + 1, dtype=np.float32)
    species = species_per_ion(mass, ranges)
    assert species.dtype == np.int16
    np.testing.assert_array_equal(species, np.arange(n))


@pytest.mark.parametrize("which", ["big", "small"])
def test_position_bounds_and_non_finite_positions(mapped, which):
    big_endian, native = mapped
    ions = big_endian if which == "big" else big_endian.take(slice(0, 5000))
    truth = np.asarray(native.xyz_nm[: ions.n_ions], np.float32)
    low, high = finite_position_bounds(ions, what="test")
    np.testing.assert_array_equal(low, truth.min(axis=0).astype(np.float64))
    np.testing.assert_array_equal(high, truth.max(axis=0).astype(np.float64))
    bad = truth.copy()
    bad[[17, 4000, 4001], [2, 0, 1]] = [np.nan, np.inf, -np.inf]
    with pytest.raises(ParameterError, match="test: 3 of .* first at ion index 17"):
        finite_position_bounds(IonTable(bad.astype(">f4"), np.zeros(len(bad), ">f4")),
                               what="test")
    masses = np.asarray(native.mass_to_charge_da[: ions.n_ions]).astype(">f4")
    require_finite_masses(masses, what="m")
    masses[[9, 99]] = np.nan
    with pytest.raises(ParameterError, match=r"m: 2 of .*first at ion index 9\)"):
        require_finite_masses(masses, what="m")


def test_position_bounds_of_a_read_only_file_are_computed_once(mapped, monkeypatch):
    # a table over a read-only memory map cannot change: its bounds are remembered; a
    # table over an array the caller can still write is measured on every call
    from liprobe.apt import _guards

    big_endian, native = mapped
    calls = []
    real = _guards._position_bounds
    monkeypatch.setattr(_guards, "_position_bounds", lambda t: calls.append(1) or real(t))
    mapped_view = big_endian.take(slice(0, 3000))  # basic slicing: still the read-only map
    for _ in range(3):
        finite_position_bounds(mapped_view, what="test")
    assert len(calls) == 1
    xyz = np.array(native.xyz_nm[:3000])
    table = IonTable(xyz, np.ones(3000, np.float32))
    low, _ = finite_position_bounds(table, what="test")
    xyz[0, 0] = low[0] - 5.0  # the caller's array is writeable: new bounds are seen
    assert finite_position_bounds(table, what="test")[0][0] == np.float32(low[0] - 5.0)
    xyz[1, 1] = np.nan
    with pytest.raises(ParameterError, match="first at ion index 1"):
        finite_position_bounds(table, what="test")
    assert len(calls) == 1 + 3


def test_equal_count_profile_of_a_memory_map_matches_a_full_sort(mapped):
    big_endian, native = mapped
    ranges = _ranges()
    profile = concentration_profile(big_endian, ranges, bin_ions=200_000)
    species = _numpy_species(native.mass_to_charge_da, ranges)
    z = np.asarray(native.xyz_nm[:, 2], np.float32)
    dist = np.maximum(z[species >= 0] - z[0], np.float32(0))  # z grows: sign +1
    ordered = np.sort(dist)
    n_bins = round(dist.size / 200_000)
    kth = np.unique((np.arange(1, n_bins) * (dist.size / n_bins)).astype(np.int64))
    span = float(z.max() - z[0])
    inner = np.unique(ordered[kth].astype(np.float64))
    inner = inner[(inner > 0) & (inner < span)]
    np.testing.assert_array_equal(profile.start_nm[1:], inner)
    # ions per bin: every ranged ion in the bin its distance falls in (the distance taken
    # in float64 here, as the profile kernels bin it)
    edges = np.concatenate([[0.0], inner, [span]])
    d64 = z[species >= 0].astype(np.float64) - float(z[0])
    b = np.clip(np.searchsorted(edges, d64, side="right") - 1, 0, edges.size - 2)
    truth = np.zeros((edges.size - 1, 4), np.int64)
    np.add.at(truth, (b, species[species >= 0]), 1)
    np.testing.assert_array_equal(profile.ion_counts, truth.sum(axis=1))


def test_fixed_width_profile_of_a_memory_map_matches_numpy_bins(mapped):
    big_endian, native = mapped
    ranges = _ranges()
    profile = concentration_profile(big_endian, ranges, bin_nm=2.0)
    species = _numpy_species(native.mass_to_charge_da, ranges)
    z = np.asarray(native.xyz_nm[:, 2], np.float32)
    d = z[species >= 0].astype(np.float64) - float(z[0])
    n_bins = int(np.floor(float(z.max() - z[0]) / 2.0)) + 1
    b = np.clip((d / 2.0).astype(np.int64), 0, n_bins - 1)
    np.testing.assert_array_equal(profile.ion_counts, np.bincount(b, minlength=n_bins))


def _numpy_blocks(xyz, species, contains, x0, y0, z0, cell, dz, nx, ny, n_slices, n_b):
    """Spatial FDA blocks in NumPy: ranged ions in (z slice, index) order, split by x-y
    column, a block per n_b consecutive ions of a column, listed in the order they close."""
    xyz = np.asarray(xyz, np.float32)
    ranged = np.flatnonzero(species >= 0)
    sl = np.clip(((xyz[ranged, 2].astype(np.float64) - z0) / dz).astype(np.int64), 0,
                 n_slices - 1)
    order = ranged[np.argsort(sl, kind="stable")]
    cx = ((xyz[order, 0].astype(np.float64) - x0) / cell).astype(np.int64)
    cy = ((xyz[order, 1].astype(np.float64) - y0) / cell).astype(np.int64)
    col = cy * nx + cx
    by_col = np.argsort(col, kind="stable")  # keeps the z order within a column
    c_sorted = col[by_col]
    first = np.searchsorted(c_sorted, c_sorted, side="left")
    rank = np.arange(c_sorted.size) - first
    block = rank // n_b
    rows = []
    for c in np.unique(c_sorted):
        members = by_col[c_sorted == c]
        for k in range(members.size // n_b):
            idx = members[k * n_b:(k + 1) * n_b]  # positions in `order`
            ions = order[idx]
            zz = xyz[ions, 2]
            rows.append((idx[-1], contains[species[ions]].sum(axis=0),
                         float(zz.max()) - float(zz.min()),
                         0.5 * (float(zz.max()) + float(zz.min()))))
    assert block.size == c_sorted.size
    rows.sort(key=lambda r: r[0])
    return (np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]))


@pytest.mark.parametrize("order_chunk", [3_000, 1 << 25])
def test_fda_blocks_in_bounded_z_groups_match_numpy(order_chunk):
    rng = np.random.default_rng(7)
    ions = _needle(rng, 40_000)
    ranges = _ranges()
    species = _numpy_species(ions.mass_to_charge_da, ranges).astype(np.int8)
    contains = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]], np.int32)
    xyz = ions.xyz_nm.astype(">f4")  # read in place as a POS memory map would be
    low, high = np.asarray(ions.xyz_nm).min(axis=0), np.asarray(ions.xyz_nm).max(axis=0)
    cell, n_b = 4.0, 50
    dz = cell / 20
    nx, ny = int((high[0] - low[0]) // cell) + 1, int((high[1] - low[1]) // cell) + 1
    n_slices = int((high[2] - low[2]) // dz) + 1
    x, y, z = (fk.column_view(xyz[:, a]) for a in range(3))
    counts, height, middle = fk.spatial_blocks(
        x, y, z, species, contains, x0=float(low[0]), y0=float(low[1]), z0=float(low[2]),
        cell_nm=cell, dz=dz, nx=nx, ny=ny, n_slices=n_slices, block_ions=n_b,
        max_blocks=40_000 // n_b + 1, order_chunk=order_chunk)
    t_counts, t_height, t_middle = _numpy_blocks(
        ions.xyz_nm, species, contains, float(low[0]), float(low[1]), float(low[2]), cell,
        dz, nx, ny, n_slices, n_b)
    assert counts.shape[0] > 300
    np.testing.assert_array_equal(counts, t_counts)
    np.testing.assert_array_equal(height, t_height)
    np.testing.assert_array_equal(middle, t_middle)


def test_grouped_binomial_mixture_is_the_sum_over_blocks():
    rng = np.random.default_rng(3)
    n_b = 40
    trials = rng.integers(5, n_b + 1, 300)
    p = rng.choice([0.1, 0.25, 0.4], 300)
    k = np.arange(n_b + 1)
    truth = sum(stats.binom.pmf(k, int(n), float(q)) for n, q in zip(trials, p))
    np.testing.assert_allclose(_fda_stats.mixture_expected(trials, p, n_b), truth,
                               rtol=1e-12, atol=1e-12)
    # one entry per group of blocks (a depth slab), weighted by its blocks
    slab_p, slab_blocks = np.array([0.2, 0.3, 0.0]), np.array([7, 0, 5])
    truth = 7 * stats.binom.pmf(k, n_b, 0.2) + 5 * stats.binom.pmf(k, n_b, 0.0)
    np.testing.assert_allclose(
        _fda_stats.mixture_expected(np.full(3, n_b), slab_p, n_b, weights=slab_blocks),
        truth, rtol=1e-12, atol=1e-12)

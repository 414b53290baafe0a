"""FDA kernels read big-endian memory maps in place and give what native arrays give.

Truth: the same analysis on a native float32 copy of the coordinates (independent of the
in-kernel byte swap), and a stable argsort for the counting order.
"""

from __future__ import annotations

import numpy as np

from liprobe.apt import _fda_kernels as k
from liprobe.apt.frequency import frequency_distribution
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.io import read_ions, write_ions


def _specimen(rng, n=60_000):
    xyz = rng.uniform(0, 25, (n, 3)).astype(np.float32)
    mass = rng.choice(np.array([7.0, 16.0, 29.0, 50.0], np.float32), n, p=[0.3, 0.4, 0.25, 0.05])
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("Ni", (("Ni", 1),))),
                        [6.8, 15.8, 28.8], [7.2, 16.2, 29.2], [0, 1, 2])
    return IonTable(xyz, mass), ranges


def test_counting_order_is_a_stable_sort_by_slice(rng):
    z = rng.uniform(-3, 40, 50_000).astype(np.float32)
    species = rng.integers(-1, 3, z.size).astype(np.int32)
    z0, dz, n_slices = float(z.min()), 0.37, int((z.max() - z.min()) / 0.37) + 1
    order = k.counting_order(k.column_view(z), species, z0, dz, n_slices)
    slices = np.clip(((z.astype(np.float64) - z0) / dz).astype(np.int64), 0, n_slices - 1)
    ranged = np.flatnonzero(species >= 0)
    expected = ranged[np.argsort(slices[ranged], kind="stable")]
    assert order.dtype == np.int32
    np.testing.assert_array_equal(order, expected)


def test_big_endian_memory_map_gives_the_native_result(tmp_path, rng):
    ions, ranges = _specimen(rng)
    write_ions(tmp_path / "run.pos", ions)
    mapped = read_ions(tmp_path / "run.pos")
    assert not mapped.xyz_nm.dtype.isnative  # POS is big-endian: the case under test
    native = IonTable(np.ascontiguousarray(mapped.xyz_nm, np.float32),
                      np.ascontiguousarray(mapped.mass_to_charge_da, np.float32))
    a = frequency_distribution(mapped, ranges, block_ions=100)
    b = frequency_distribution(native, ranges, block_ions=100)
    np.testing.assert_array_equal(a.block_counts, b.block_counts)
    for el in a.species:
        assert a.species[el].chi2 == b.species[el].chi2

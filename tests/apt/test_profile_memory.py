"""Equal-count profile edges, computed in place, against an independent full sort."""

import numpy as np
import pytest

from liprobe.apt.profiles import concentration_profile
from liprobe.data import Ion, IonTable, RangeTable


def _table(seed, descending, big_endian):
    rng = np.random.default_rng(seed)
    n = 5000
    z = np.sort(rng.uniform(0.0, 50.0, n))
    if descending:
        z = z[::-1].copy()
    xyz = np.column_stack([rng.normal(0, 5, n), rng.normal(0, 5, n), z]).astype(np.float32)
    mass = rng.choice([7.0, 29.0, 16.0, 100.0], n).astype(np.float32)
    if big_endian:
        xyz, mass = xyz.astype(">f4"), mass.astype(">f4")
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),)), Ion("O", (("O", 1),))),
                        [6.5, 28.5, 15.5], [7.5, 29.5, 16.5], [0, 1, 2])
    return IonTable(xyz, mass), ranges, z, mass


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("big_endian", [False, True])
def test_equal_count_edges_match_sorted_order_statistics(descending, big_endian):
    ions, ranges, z, mass = _table(3, descending, big_endian)
    profile = concentration_profile(ions, ranges, bin_ions=250)
    # independent: distance from the first ion along the evaporation direction, full sort
    zf = z.astype(np.float32)
    sign = -1.0 if descending else 1.0
    ranged = np.isin(np.asarray(mass, np.float32), np.float32([7.0, 29.0, 16.0]))
    dist = np.sort(np.maximum(np.float32(sign) * (zf[ranged] - zf[0]), np.float32(0)))
    n_bins = round(dist.size / 250)
    kth = np.unique((np.arange(1, n_bins) * (dist.size / n_bins)).astype(np.int64))
    span = float(dist.max())
    inner = np.unique(dist[kth].astype(np.float64))
    inner = inner[(inner > 0) & (inner < span)]
    np.testing.assert_array_equal(profile.start_nm[1:], inner)
    assert profile.ion_counts.sum() == ranged.sum()
    # every bin holds about bin_ions ranged ions (edges at order statistics; an ion at
    # an edge falls on either side, and the last bin takes the remainder)
    assert np.all(np.abs(profile.ion_counts - 250) <= 3)

"""The mass spectrum's one-pass window histogram against independent computations."""

import numpy as np
import pytest

from liprobe.apt.profile_kernels import fine_histogram
from liprobe.apt.spectrum import mass_spectrum


@pytest.mark.parametrize("dtype", ["<f4", ">f4", "<f8"])
def test_window_histogram_matches_masked_copy_and_numpy(dtype):
    rng = np.random.default_rng(7)
    mass = np.concatenate([rng.uniform(0.0, 130.0, 200_000),
                           rng.normal(7.016, 0.02, 50_000)]).astype(dtype)
    spec = mass_spectrum(mass, bin_width_da=0.01, range_da=(1.0, 120.0))
    # the masked-copy computation this pass replaces: filter, then the profile kernel
    m32 = mass.astype(np.float32)
    inside = (m32 >= 1.0) & (m32 < spec.edges_da[-1])
    expected = fine_histogram(m32[inside], np.zeros(int(inside.sum()), np.int8), 1.0, 1.0,
                              0.01, spec.counts.size)
    np.testing.assert_array_equal(spec.counts, expected)
    assert spec.counts.sum() == int(inside.sum())
    # numpy's histogram over the same edges: only ions within rounding of an edge move
    ref, _ = np.histogram(m32[inside].astype(np.float64), bins=spec.edges_da)
    assert np.abs(spec.counts - ref).sum() <= 0.001 * ref.sum()


@pytest.mark.parametrize("dtype", ["<f4", ">f4"])
def test_li_window_counts_match_numpy(dtype):
    from liprobe.apt.quality import _near_counts

    rng = np.random.default_rng(11)
    mass = np.concatenate([rng.normal(6.015, 0.1, 30_000), rng.normal(7.016, 0.1, 90_000),
                           rng.uniform(1, 120, 30_000)]).astype(dtype)
    m = mass.astype(np.float32)
    expected = tuple(float(np.count_nonzero(np.abs(m - np.float32(c)) < 0.15))
                     for c in (6.015, 7.016))
    assert _near_counts(mass, (6.015, 7.016), 0.15) == expected


def test_count_species_matches_bincount():
    from liprobe.apt.profile_kernels import count_species

    species = np.random.default_rng(2).integers(-1, 13, 100_000).astype(np.int32)
    expected = np.bincount(species[species >= 0], minlength=13)
    np.testing.assert_array_equal(count_species(species, 13), expected)

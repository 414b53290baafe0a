"""The mass spectrum's one-pass window histogram against independent computations."""

import numpy as np
import pytest

from liprobe.apt._profile_kernels import fine_histogram
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

"""The two evaluations of the ranging lookup table (NumPy and compiled) against brute force.

Truth: every ion compared with every segment, ``low <= m < high`` in float64 on the float32
mass (an independent, quadratic computation).
"""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt import _range_kernels as k


def _segments(rng, n_seg):
    bounds = np.sort(rng.choice(np.arange(1, 4000), size=2 * n_seg, replace=False)) / 31.0
    bounds = bounds.astype(np.float32).astype(np.float64)
    return bounds[0::2].copy(), bounds[1::2].copy()


def _masses(rng, low, high, n):
    edges = np.concatenate([low, high]).astype(np.float32)
    parts = [
        rng.uniform(-5, 140, n).astype(np.float32),
        edges,  # exactly on every bound
        np.nextafter(edges, np.float32(-np.inf)),  # one float32 step below every bound
        np.array([np.nan, np.inf, -np.inf, 0.0, -1e30, 1e30, 3e38], np.float32),
    ]
    return rng.permutation(np.concatenate(parts))


def _brute(mass, low, high):
    m = mass.astype(np.float64)[:, None]
    inside = (low[None, :] <= m) & (m < high[None, :])
    return np.where(inside.any(axis=1), inside.argmax(axis=1), low.size)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_count_and_label_match_brute_force(compiled, seed):
    rng = np.random.default_rng(seed)
    low, high = _segments(rng, 40)
    mass = _masses(rng, low, high, 20_000)
    cells, origin, inv_width = k.build_lookup(low, high)
    table = cells if compiled else k.numpy_cells(cells, low.size)
    truth = _brute(mass, low, high)

    counts = np.zeros(low.size + 1, np.int64)
    k.count_segments(mass, table, origin, inv_width, low, high, counts, compiled=compiled)
    np.testing.assert_array_equal(counts, np.bincount(truth, minlength=low.size + 1))

    value = np.arange(low.size, dtype=np.int32) * 3 + 1
    out = np.empty(mass.size, np.int32)
    k.label_segments(mass, table, origin, inv_width, low, high, value, out, compiled=compiled)
    np.testing.assert_array_equal(out, np.where(truth < low.size, value[np.minimum(truth, low.size - 1)], -1))


def test_coarse_table_of_wide_ranges_matches_brute_force():
    # a range far wider than the table allows at 1/64 Da: the table coarsens, results do not change
    rng = np.random.default_rng(7)
    low = np.array([1.0, 20.0, 5000.0]).astype(np.float32).astype(np.float64)
    high = np.array([2.0, 4000.0, 6e5]).astype(np.float32).astype(np.float64)
    mass = rng.uniform(0, 7e5, 50_000).astype(np.float32)
    cells, origin, inv_width = k.build_lookup(low, high)
    truth = _brute(mass, low, high)
    for compiled in (False, True):
        table = cells if compiled else k.numpy_cells(cells, low.size)
        counts = np.zeros(low.size + 1, np.int64)
        k.count_segments(mass, table, origin, inv_width, low, high, counts, compiled=compiled)
        np.testing.assert_array_equal(counts, np.bincount(truth, minlength=low.size + 1))

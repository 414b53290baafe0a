"""Phase labels from synthetic site intensities with a known pattern."""

from __future__ import annotations

import numpy as np

from liprobe.stem.phases import Alternation, classify_phase, li_alternation


def _li_sites(rng, n_planes, n_cols, even_level, odd_level, noise):
    plane = np.repeat(np.arange(n_planes), n_cols)
    index = np.tile(np.arange(n_cols), n_planes)
    level = np.where(index % 2 == 0, even_level, odd_level)
    return level + rng.normal(0, noise, level.size), plane, index


def test_alternation_measures_the_even_odd_difference():
    rng = np.random.default_rng(51)
    li, plane, index = _li_sites(rng, 10, 20, 150.0, 30.0, 10.0)
    alt = li_alternation(li, plane, index, tm_level=300.0)
    assert alt.amplitude == np.float64(alt.amplitude)
    assert abs(alt.amplitude - 120.0 / 300.0) < 0.02
    assert alt.z > 10
    assert classify_phase(0.2, alt) == "spinel-like"


def test_no_alternation_in_layered_or_rock_salt():
    rng = np.random.default_rng(52)
    li, plane, index = _li_sites(rng, 10, 20, 40.0, 40.0, 10.0)
    alt = li_alternation(li, plane, index, tm_level=300.0)
    assert alt.amplitude < 0.05
    assert classify_phase(0.03, alt) == "layered"
    assert classify_phase(0.48, alt) == "rock-salt"


def test_too_few_sites_gives_no_evidence():
    alt = li_alternation(np.ones(3), np.zeros(3, int), np.arange(3), tm_level=1.0)
    assert alt.n_planes == 0
    assert classify_phase(0.1, alt) == "layered"
    assert classify_phase(0.1, Alternation(0.5, 1.0, 3)) == "layered"  # not significant

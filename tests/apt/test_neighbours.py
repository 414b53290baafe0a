"""Nearest-neighbour distributions and g(r) against Poisson theory and random labelling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.apt.neighbours import (
    boundary_distance_nm,
    nearest_neighbour_distribution,
    pair_correlation,
)
from liprobe.errors import ParameterError
from liprobe.synth.features3d import feature_ranges, generate_clusters

MATRIX = {"Li": 0.05, "Ni": 0.45, "O": 0.5}


@pytest.fixture(scope="module")
def random_box():
    return generate_clusters(rng=np.random.default_rng(41), box_nm=(24, 24, 24), n_clusters=0,
                             matrix_composition=MATRIX)[0]


@pytest.fixture(scope="module")
def clustered_box():
    return generate_clusters(rng=np.random.default_rng(42), box_nm=(24, 24, 24), n_clusters=8,
                             radius_nm=1.5, matrix_composition=MATRIX)[0]


def test_first_neighbour_distance_of_a_poisson_process(random_box):
    nn = nearest_neighbour_distribution(random_box, feature_ranges(), rng=np.random.default_rng(0),
                                        k=1, n_random=3, max_distance_nm=3.0)
    density = 30.0 * MATRIX["Li"]
    # E[r1] = Γ(4/3) (4 π ρ / 3)^(-1/3) for a 3-D Poisson process (edge ions excluded)
    expected = math.gamma(4 / 3) * (4 * math.pi * density / 3) ** (-1 / 3)
    assert nn.mean_distance_nm == pytest.approx(expected, rel=0.03)
    assert nn.random_mean_distance_nm == pytest.approx(expected, rel=0.03)
    assert nn.n_excluded_edge > 0
    # the observed histogram lies within (or near) the random-labelling envelope
    outside = (nn.observed < nn.random_low - 0.01) | (nn.observed > nn.random_high + 0.01)
    assert outside.mean() < 0.1
    assert nn.observed.sum() == pytest.approx(1.0, abs=0.01)


def test_edge_ions_are_excluded_and_would_bias_the_distance(random_box):
    rt = feature_ranges()
    kept = nearest_neighbour_distribution(random_box, rt, rng=np.random.default_rng(1), k=5,
                                          n_random=1, max_distance_nm=4.0)
    raw = nearest_neighbour_distribution(random_box, rt, rng=np.random.default_rng(1), k=5,
                                         n_random=1, max_distance_nm=4.0, edge_exclusion_nm=0)
    assert raw.n_excluded_edge == 0
    # ions at the faces miss half their neighbours: their k-th NN is farther
    assert raw.mean_distance_nm > kept.mean_distance_nm * 1.01


@pytest.mark.slow
def test_clustering_shows_as_short_distances_and_g_above_one(clustered_box, random_box):
    rt = feature_ranges()
    nn = nearest_neighbour_distribution(clustered_box, rt, rng=np.random.default_rng(2), k=1,
                                        n_random=3)
    assert nn.mean_distance_nm < 0.98 * nn.random_mean_distance_nm  # 4 % of Li clustered
    near = nn.centers_nm < 0.3
    assert nn.observed[near].sum() > nn.random_high[near].sum() * 1.25
    g = pair_correlation(clustered_box, rt, rng=np.random.default_rng(3), max_distance_nm=2.0,
                         bin_nm=0.2)
    assert np.all(g.g[:5] > 1 + 5 * g.sigma[:5])  # significant excess of close pairs
    assert g.g[1] > g.g[4] > g.g[-1]  # fading with distance past the cluster size
    flat = pair_correlation(random_box, rt, rng=np.random.default_rng(4), max_distance_nm=2.0,
                            bin_nm=0.2)
    ok = np.isfinite(flat.g) & (flat.pairs_observed > 50)
    assert np.all(np.abs(flat.g[ok] - 1) < 4 * flat.sigma[ok] + 0.02)
    # solute-to-all neighbours of a random solid solution: same as random labels
    to_all = nearest_neighbour_distribution(random_box, rt, rng=np.random.default_rng(5), k=2,
                                            target="all", n_random=2)
    assert to_all.mean_distance_nm == pytest.approx(to_all.random_mean_distance_nm, rel=0.02)


def test_boundary_distance_of_a_cube_and_bad_input(random_box):
    d = boundary_distance_nm(random_box.xyz_nm, rng=np.random.default_rng(6),
                             points=np.array([[12.0, 12.0, 12.0], [2.0, 12.0, 12.0]]))
    assert d == pytest.approx([12.0, 2.0], abs=0.1)
    rt = feature_ranges()
    with pytest.raises(ParameterError, match="target"):
        nearest_neighbour_distribution(random_box, rt, rng=np.random.default_rng(0), target="x")
    with pytest.raises(ParameterError, match="k and n_random"):
        nearest_neighbour_distribution(random_box, rt, rng=np.random.default_rng(0), k=0)

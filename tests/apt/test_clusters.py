"""Cluster finding: known spherical clusters recovered; a random specimen finds none
beyond its random-labelling baseline; DBSCAN labels match scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from liprobe.apt.clusters import dbscan_clusters, link_solute, maximum_separation_clusters
from liprobe.errors import ParameterError
from liprobe.synth.features3d import feature_ranges, generate_clusters

MATRIX = {"Li": 0.03, "Ni": 0.47, "O": 0.5}
CLUSTER = {"Li": 0.5, "Ni": 0.2, "O": 0.3}


@pytest.fixture(scope="module")
def clustered():
    return generate_clusters(rng=np.random.default_rng(31), box_nm=(30, 30, 30), n_clusters=12,
                             radius_nm=1.5, cluster_composition=CLUSTER,
                             matrix_composition=MATRIX, min_gap_nm=3.0)


def test_maxsep_recovers_count_centroids_size_and_composition(clustered):
    ions, truth = clustered
    found = maximum_separation_clusters(ions, feature_ranges(), d_max_nm=0.5, order=1,
                                        n_min=20, rng=np.random.default_rng(1),
                                        baseline_repeats=2)
    assert found.n_clusters == truth.n_clusters
    centroids = np.array([c.centroid_nm for c in found.clusters])
    dist, match = cKDTree(truth.centers_nm).query(centroids)
    assert len(set(match.tolist())) == truth.n_clusters  # one found cluster per true one
    assert dist.max() < 0.3
    guinier = np.array([c.guinier_radius_nm for c in found.clusters])
    assert np.median(guinier) == pytest.approx(truth.radius_nm, rel=0.1)
    li = np.array([c.composition["Li"] for c in found.clusters])
    # envelope + erosion keep every linked solute ion but erode matrix ions at the
    # surface: the known solute-rich bias of the method (here +0.07 at most)
    assert CLUSTER["Li"] - 0.02 < np.mean(li) < CLUSTER["Li"] + 0.1
    c = found.clusters[0]
    assert c.composition_sigma["Li"] == pytest.approx(
        np.sqrt(c.composition["Li"] * (1 - c.composition["Li"]) / c.n_ions), rel=1e-9)
    assert found.random_label_baseline.n_clusters == 0
    # labels agree with the per-cluster counts; solute ions of each true sphere mostly found
    labels = found.labels
    assert all(int(np.sum(labels == k)) == c.n_ions for k, c in enumerate(found.clusters))
    inside = truth.cluster_index >= 0
    assert np.mean(labels[inside] >= 0) > 0.8


def test_random_specimen_finds_no_more_than_its_baseline():
    ions, _ = generate_clusters(rng=np.random.default_rng(32), box_nm=(30, 30, 30),
                                n_clusters=0, matrix_composition=MATRIX)
    rt = feature_ranges()
    sane = maximum_separation_clusters(ions, rt, d_max_nm=0.5, n_min=20,
                                       rng=np.random.default_rng(2))
    assert sane.n_clusters == 0 and sane.random_label_baseline.n_clusters == 0
    # too long a linking distance finds "clusters" in noise: the baseline finds as many
    loose = maximum_separation_clusters(ions, rt, d_max_nm=0.75, n_min=10, envelope_nm=0,
                                        rng=np.random.default_rng(3), baseline_repeats=4)
    base = np.array(loose.random_label_baseline.n_clusters_per_repeat)
    assert base.mean() > 5
    assert abs(loose.n_clusters - base.mean()) < 4 * np.sqrt(base.mean()) + base.std()


def test_core_linkage_order_and_chains():
    # a chain of points 0.4 nm apart, one loose point 0.45 nm from the chain end
    chain = np.zeros((6, 3))
    chain[:5, 0] = np.arange(5) * 0.4
    chain[5, 0] = 1.6 + 0.45
    lab = link_solute(chain, radius_nm=0.5, min_neighbours=1)
    assert len(set(lab.tolist())) == 1
    # order 2: the chain ends have one neighbour each: they join as border points
    lab2 = link_solute(chain, radius_nm=0.5, min_neighbours=2)
    assert np.all(lab2 >= 0) and len(set(lab2[:5].tolist())) == 1
    # order 3: nobody is a core
    assert np.all(link_solute(chain, radius_nm=0.5, min_neighbours=3) == -1)


@pytest.mark.slow
def test_dbscan_matches_scikit_learn(clustered):
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    ions, _ = clustered
    rt = feature_ranges()
    found = dbscan_clusters(ions, rt, eps_nm=0.5, min_samples=4, n_min=1, baseline_repeats=0)
    solute = np.flatnonzero(ions.mass_to_charge_da == 7.0)
    ref = sklearn_cluster.DBSCAN(eps=0.5, min_samples=4).fit(
        ions.xyz_nm[solute].astype(np.float64))
    ours = found.labels[solute]
    core = np.zeros(solute.size, bool)
    core[ref.core_sample_indices_] = True
    # the same partition of the core points, the same noise points
    pairs = np.unique(np.stack([ours[core], ref.labels_[core]], axis=1), axis=0)
    assert pairs.shape[0] == len(set(ref.labels_[core].tolist()))
    assert len(set(pairs[:, 0].tolist())) == pairs.shape[0]
    assert np.array_equal(ours < 0, ref.labels_ < 0)
    assert found.n_clusters == len(set(ref.labels_.tolist()) - {-1})


def test_bad_parameters_are_refused(clustered):
    ions, _ = clustered
    rt = feature_ranges()
    with pytest.raises(ParameterError, match="d_max_nm"):
        maximum_separation_clusters(ions, rt, d_max_nm=-1, rng=np.random.default_rng(0))
    with pytest.raises(ParameterError, match="rng"):
        maximum_separation_clusters(ions, rt, d_max_nm=0.5)
    with pytest.raises(ParameterError, match="min_samples"):
        dbscan_clusters(ions, rt, min_samples=0, baseline_repeats=0)
    with pytest.raises(ParameterError, match="Zr"):
        dbscan_clusters(ions, rt, element="Zr", baseline_repeats=0)

"""The cell-list cluster kernels against a plain scipy reference written here.

Reference: ``cKDTree.query_pairs`` + ``scipy.sparse.csgraph.connected_components`` for the
core linkage (border ions to their nearest core), ``cKDTree.query`` with a distance bound
for the envelope (nearest cluster solute ion) and the erosion (an ion in no cluster within
the erosion distance). Same clusters, same members, same order, on seeded specimens.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from liprobe.apt.clusters import dbscan_clusters, link_solute, maximum_separation_clusters
from liprobe.synth.features3d import feature_ranges, generate_clusters

MATRIX = {"Li": 0.03, "Ni": 0.47, "O": 0.5}


def _bound(r):
    # cKDTree.query keeps d < bound; the linkage keeps d <= r
    return float(np.nextafter(r, np.inf))


def reference_link(points, radius, min_neighbours):
    """Core linkage with scipy; labels numbered by each cluster's first core."""
    p = np.asarray(points, np.float64)
    n = p.shape[0]
    pairs = cKDTree(p).query_pairs(radius, output_type="ndarray")
    core = np.bincount(pairs.ravel(), minlength=n) >= min_neighbours
    cc = pairs[core[pairs[:, 0]] & core[pairs[:, 1]]]
    graph = coo_matrix((np.ones(len(cc)), (cc[:, 0], cc[:, 1])), shape=(n, n))
    comp = connected_components(graph, directed=False)[1]
    labels = np.full(n, -1, np.int64)
    first = {}
    for i in np.flatnonzero(core):
        labels[i] = first.setdefault(comp[i], len(first))
    cores = np.flatnonzero(core)
    other = np.flatnonzero(~core)
    if cores.size and other.size:
        d, j = cKDTree(p[cores]).query(p[other], distance_upper_bound=_bound(radius))
        ok = np.isfinite(d)
        labels[other[ok]] = labels[cores[j[ok]]]
    return labels


def reference_clusters(xyz, solute, radius, min_neighbours, n_min, envelope, erosion):
    """Per-ion labels of the maximum-separation method, all with scipy."""
    sol = np.flatnonzero(solute)
    lab = reference_link(xyz[sol], radius, min_neighbours)
    sizes = np.bincount(lab[lab >= 0])
    keep = np.flatnonzero(sizes >= n_min)
    keep = keep[np.argsort(-sizes[keep], kind="stable")]
    remap = np.full(sizes.size + 1, -1)
    remap[keep] = np.arange(keep.size)
    labels = np.full(xyz.shape[0], -1, np.int64)
    labels[sol] = remap[lab]
    member = np.flatnonzero(labels >= 0)
    if envelope > 0 and member.size:
        rest = np.setdiff1d(np.arange(xyz.shape[0]), member)
        d, j = cKDTree(xyz[member]).query(xyz[rest], distance_upper_bound=_bound(envelope))
        added = rest[np.isfinite(d)]
        labels[added] = labels[member[j[np.isfinite(d)]]]
        if erosion > 0 and added.size:
            outside = np.flatnonzero(labels < 0)
            d, _ = cKDTree(xyz[outside]).query(xyz[added], distance_upper_bound=_bound(erosion))
            labels[added[np.isfinite(d)]] = -1
    return labels, keep.size


@pytest.fixture(scope="module")
def specimen():
    ions, _ = generate_clusters(rng=np.random.default_rng(41), box_nm=(16, 16, 16),
                                n_clusters=12, radius_nm=1.5, min_gap_nm=0.5,
                                matrix_composition=MATRIX)
    return ions, ions.mass_to_charge_da == 7.0


@pytest.mark.parametrize("order", [0, 1, 2, 3, 5])
def test_link_solute_matches_scipy(specimen, order):
    ions, solute = specimen
    points = ions.xyz_nm[solute]
    for radius in (0.5, 0.8):
        ours = link_solute(points, radius_nm=radius, min_neighbours=order)
        assert np.array_equal(ours, reference_link(points, radius, order))


@pytest.mark.parametrize(("d_max", "order", "n_min", "envelope", "erosion"), [
    (0.5, 1, 10, 0.5, 0.5), (0.6, 2, 5, 0.8, 0.4), (0.5, 1, 5, 1.0, 1.3), (0.5, 1, 5, 0.5, 0)])
def test_maxsep_matches_scipy(specimen, d_max, order, n_min, envelope, erosion):
    ions, solute = specimen
    found = maximum_separation_clusters(ions, feature_ranges(), d_max_nm=d_max, order=order,
                                        n_min=n_min, envelope_nm=envelope,
                                        erosion_nm=erosion, baseline_repeats=0)
    xyz = ions.xyz_nm.astype(np.float64)
    ref, n = reference_clusters(xyz, solute, d_max, order, n_min, envelope, erosion)
    assert found.n_clusters == n > 0
    assert np.array_equal(found.labels, ref)
    for k, c in enumerate(found.clusters):
        mine = ref == k
        p = xyz[mine & solute]
        assert (c.n_ions, c.n_solute) == (int(mine.sum()), p.shape[0])
        assert np.allclose(c.centroid_nm, p.mean(axis=0), rtol=0, atol=1e-9)
        rg = np.sqrt(np.mean(np.sum((p - p.mean(axis=0)) ** 2, axis=1)))
        assert c.radius_of_gyration_nm == pytest.approx(rg, rel=1e-9)
        assert c.atom_counts["Li"] == p.shape[0]


def test_random_label_baseline_matches_scipy(specimen):
    ions, solute = specimen
    found = maximum_separation_clusters(ions, feature_ranges(), d_max_nm=0.75, n_min=5,
                                        baseline_repeats=3, rng=np.random.default_rng(7))
    # the documented protocol: as many solute labels drawn from the ranged ions, relinked
    rng = np.random.default_rng(7)
    ranged = np.arange(ions.n_ions)
    expected = []
    for _ in range(3):
        drawn = np.sort(rng.choice(ranged, size=int(solute.sum()), replace=False))
        lab = reference_link(ions.xyz_nm[drawn], 0.75, 1)
        expected.append(int(np.sum(np.bincount(lab[lab >= 0]) >= 5)))
    assert list(found.random_label_baseline.n_clusters_per_repeat) == expected
    assert max(expected) > 0


def test_dbscan_core_partition_matches_scipy(specimen):
    ions, solute = specimen
    found = dbscan_clusters(ions, feature_ranges(), eps_nm=0.5, min_samples=4, n_min=1,
                            baseline_repeats=0)
    ref = reference_link(ions.xyz_nm[solute], 0.5, 3)
    assert np.array_equal(found.labels[solute] >= 0, ref >= 0)
    assert found.n_clusters == len(set(ref.tolist()) - {-1})

"""Solute clusters: the maximum-separation method and DBSCAN, on a KD-tree.

Both methods link *solute ions* (ions holding at least one atom of ``element``) closer than
a linking distance (``d_max_nm``, ``eps_nm``) with ``scipy.spatial.cKDTree``:

- a solute ion with at least ``order`` other solute ions within ``d_max`` is a *core* ion;
  cores within ``d_max`` of each other form one cluster; a non-core solute ion within
  ``d_max`` of a core joins that core's cluster (core linkage; Stephenson et al. 2007);
- DBSCAN is the same rule with ``min_samples = order + 1`` (the ion itself counted, Ester
  et al. 1996), so both share one implementation;
- clusters with fewer than ``n_min`` solute ions are dropped;
- the envelope adds every other ion within ``envelope_nm`` of a cluster's solute ions,
  then erosion removes the added ions within ``erosion_nm`` of an ion outside every
  cluster (Vaumousse, Cerezo & Warren 2003). The maximum-separation method defaults both to
  ``d_max``; DBSCAN defaults to none (solute ions only). Erosion removes added ions only,
  never the linked solute ions, so compositions err solute-rich at the cluster surface
  (+0.07 in the Li fraction for 1.5-nm clusters of 0.5 Li in the tests).

Per cluster: ions, solute ions, centroid and radius of gyration of its solute ions
(``R_g``; Guinier radius ``sqrt(5/3) R_g`` = the radius of a uniform sphere) and the
composition of all its ions with binomial σ. The random-labelling baseline reruns the
linkage with the solute labels shuffled over the same positions: how many clusters the same
parameters find in a specimen without clustering.

References: D. Vaumousse, A. Cerezo, P. J. Warren, Ultramicroscopy 95 (2003) 215;
L. T. Stephenson, M. P. Moody, P. V. Liddicoat, S. P. Ringer, Microsc. Microanal. 13 (2007)
448; M. Ester, H.-P. Kriegel, J. Sander, X. Xu, KDD-96 (1996) 226.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liprobe.apt._fractions import fractions_with_sigma
from liprobe.apt.species import atoms_per_species, element_index, species_per_ion
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["SoluteCluster", "RandomLabelBaseline", "ClusterResult", "CLUSTER_METHODS",
           "maximum_separation_clusters", "dbscan_clusters", "link_solute"]

#: The cluster methods: ``"maxsep"`` (:func:`maximum_separation_clusters`) and ``"dbscan"``
#: (:func:`dbscan_clusters`), as named in :attr:`ClusterResult.method`.
CLUSTER_METHODS = ("maxsep", "dbscan")

GUINIER_PER_GYRATION = math.sqrt(5.0 / 3.0)


@dataclass(frozen=True, eq=False)
class SoluteCluster:
    """One cluster: its ions, centroid, size and composition (with binomial σ)."""

    n_ions: int
    n_solute: int
    centroid_nm: tuple[float, float, float]
    radius_of_gyration_nm: float
    composition: dict[str, float]
    composition_sigma: dict[str, float]
    atom_counts: dict[str, int]

    @property
    def guinier_radius_nm(self) -> float:
        """``sqrt(5/3) R_g``: the radius of a uniform sphere with this R_g."""
        return GUINIER_PER_GYRATION * self.radius_of_gyration_nm

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"n_ions": self.n_ions, "n_solute": self.n_solute,
                "centroid_nm": list(self.centroid_nm),
                "radius_of_gyration_nm": self.radius_of_gyration_nm,
                "guinier_radius_nm": self.guinier_radius_nm, "composition": self.composition,
                "composition_sigma": self.composition_sigma, "atom_counts": self.atom_counts}


@dataclass(frozen=True)
class RandomLabelBaseline:
    """Clusters the same parameters find with the solute labels shuffled."""

    n_clusters_per_repeat: tuple[int, ...]
    largest_n_solute: int

    @property
    def n_clusters(self) -> float:
        """Mean number of clusters over the repeats."""
        return float(np.mean(self.n_clusters_per_repeat))

    def to_dict(self) -> dict[str, Any]:
        """``{"n_clusters", "per_repeat", "largest_n_solute"}``."""
        return {"n_clusters": self.n_clusters, "per_repeat": list(self.n_clusters_per_repeat),
                "largest_n_solute": self.largest_n_solute}


@dataclass(frozen=True, eq=False)
class ClusterResult:
    """Clusters found by one method, its parameters and the random-labelling baseline.

    ``labels`` is the cluster index of every ion (-1: in no cluster), in ``clusters`` order
    (decreasing solute count).
    """

    method: str
    parameters: dict[str, Any]
    element: tuple[str, ...]
    clusters: tuple[SoluteCluster, ...]
    n_solute: int
    random_label_baseline: RandomLabelBaseline | None
    labels: np.ndarray = field(repr=False)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return len(self.clusters)

    def to_dict(self) -> dict[str, Any]:
        """``{"method", "parameters", "clusters": [...], "random_label_baseline"}``."""
        return {"method": self.method, "parameters": self.parameters,
                "element": list(self.element), "n_solute": self.n_solute,
                "n_clusters": self.n_clusters,
                "clusters": [c.to_dict() for c in self.clusters],
                "random_label_baseline": (None if self.random_label_baseline is None
                                          else self.random_label_baseline.to_dict())}


def link_solute(points: np.ndarray, *, radius_nm: float, min_neighbours: int) -> np.ndarray:
    """Core-linkage labels of ``points`` (-1: in no cluster), components in any order.

    A point with at least ``min_neighbours`` others within ``radius_nm`` is a core; cores
    within ``radius_nm`` share a label; a non-core point within ``radius_nm`` of a core takes
    the label of its first such core.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = points.shape[0]
    labels = np.full(n, -1, np.int64)
    if n == 0:
        return labels
    pairs = cKDTree(points).query_pairs(radius_nm, output_type="ndarray")
    degree = np.bincount(pairs.ravel(), minlength=n)
    core = degree >= max(int(min_neighbours), 0)
    if max(int(min_neighbours), 0) == 0:
        core[:] = True
    both = core[pairs[:, 0]] & core[pairs[:, 1]]
    cc = pairs[both]
    graph = coo_matrix((np.ones(cc.shape[0], np.int8), (cc[:, 0], cc[:, 1])), shape=(n, n))
    comp = connected_components(graph, directed=False)[1]
    labels[core] = comp[core]
    # border points: non-core with a core neighbour
    one = core[pairs[:, 0]] & ~core[pairs[:, 1]]
    two = core[pairs[:, 1]] & ~core[pairs[:, 0]]
    border = np.concatenate([pairs[one, 1], pairs[two, 0]])
    anchor = np.concatenate([pairs[one, 0], pairs[two, 1]])
    if border.size:
        first = np.unique(border, return_index=True)[1]
        labels[border[first]] = comp[anchor[first]]
    return labels


def _count_clusters(labels: np.ndarray, n_min: int) -> tuple[int, int]:
    sizes = np.bincount(labels[labels >= 0])
    big = sizes[sizes >= n_min]
    return int(big.size), int(big.max()) if big.size else 0


def _envelope(xyz, ion_labels, solute_index, envelope_nm, erosion_nm):
    """Add ions within ``envelope_nm`` of cluster solute ions, then erode the additions."""
    from liprobe.apt._neighbour_kernels import nearest_within

    member = solute_index[ion_labels[solute_index] >= 0]
    if member.size == 0 or envelope_nm <= 0:
        return ion_labels
    seeds = xyz[member]
    dist, nearest = nearest_within(seeds, xyz, envelope_nm)
    near = np.isfinite(dist)
    near[member] = False
    added = np.flatnonzero(near)
    ion_labels[added] = ion_labels[member[nearest[added]]]
    if erosion_nm > 0 and added.size:
        # ions outside every cluster within the erosion distance of an added ion ...
        others = np.flatnonzero(ion_labels < 0)
        d_other, _ = nearest_within(xyz[added], xyz[others], erosion_nm, True)
        outside = others[np.isfinite(d_other)]
        if outside.size:
            # ... erode the added ions within the erosion distance of them
            d_out, _ = nearest_within(xyz[outside], xyz[added], erosion_nm, True)
            ion_labels[added[np.isfinite(d_out)]] = -1
    return ion_labels


def _solute_mask(species, atoms, cols):
    has = atoms[:, cols].sum(axis=1) > 0
    return np.where(species >= 0, has[np.maximum(species, 0)], False)


def _describe(xyz, ion_labels, solute, species, atoms, elements, n_clusters):
    order = np.argsort(ion_labels, kind="stable")
    sorted_labels = ion_labels[order]
    start = np.searchsorted(sorted_labels, np.arange(n_clusters))
    stop = np.searchsorted(sorted_labels, np.arange(n_clusters), side="right")
    out = []
    for k in range(n_clusters):
        idx = order[start[k]:stop[k]]
        sol = idx[solute[idx]]
        p = xyz[sol].astype(np.float64)
        centroid = p.mean(axis=0)
        rg = float(np.sqrt(np.mean(np.sum((p - centroid) ** 2, axis=1))))
        sp = species[idx]
        counts = np.bincount(sp[sp >= 0], minlength=atoms.shape[0]) @ atoms
        frac, sig = fractions_with_sigma(counts)
        out.append(SoluteCluster(
            n_ions=int(idx.size), n_solute=int(sol.size),
            centroid_nm=tuple(float(v) for v in centroid), radius_of_gyration_nm=rg,
            composition={e: float(frac[i]) for i, e in enumerate(elements)},
            composition_sigma={e: float(sig[i]) for i, e in enumerate(elements)},
            atom_counts={e: int(counts[i]) for i, e in enumerate(elements)}))
    return tuple(out)


def _positive(name, value, *, allow_zero=False):
    value = float(value)
    if not (np.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        raise ParameterError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


def _run(ions, ranges, *, method, element, radius_nm, min_neighbours, n_min, envelope_nm,
         erosion_nm, baseline_repeats, rng, overlap, species, parameters):
    names = (element,) if isinstance(element, str) else tuple(element)
    elements, atoms = atoms_per_species(ranges)
    cols = element_index(elements, names, what=f"{method} clusters")
    species = np.asarray(species_per_ion(ions, ranges, overlap=overlap, known=species))
    xyz = ions.xyz_nm
    if not (xyz.dtype == np.float32 and xyz.dtype.isnative):
        xyz = xyz.astype(np.float32)
    solute = _solute_mask(species, atoms, cols)
    solute_index = np.flatnonzero(solute)
    labels = link_solute(xyz[solute_index], radius_nm=radius_nm, min_neighbours=min_neighbours)
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, np.int64)
    keep = np.flatnonzero(sizes >= n_min)
    keep = keep[np.argsort(-sizes[keep], kind="stable")]
    remap = np.full(sizes.size + 1, -1, np.int64)
    remap[keep] = np.arange(keep.size)
    ion_labels = np.full(ions.n_ions, -1, np.int64)
    ion_labels[solute_index] = remap[labels]
    ion_labels = _envelope(xyz, ion_labels, solute_index, envelope_nm, erosion_nm)
    clusters = _describe(xyz, ion_labels, solute, species, atoms, elements, keep.size)
    baseline = None
    if baseline_repeats:
        if rng is None:
            raise ParameterError("the random-labelling baseline needs rng "
                                 "(numpy.random.default_rng(seed)); or baseline_repeats=0")
        found, largest = [], 0
        ranged = np.flatnonzero(species >= 0)
        for _ in range(int(baseline_repeats)):
            shuffled = rng.choice(ranged, size=solute_index.size, replace=False)
            lab = link_solute(xyz[np.sort(shuffled)], radius_nm=radius_nm,
                              min_neighbours=min_neighbours)
            n, big = _count_clusters(lab, n_min)
            found.append(n)
            largest = max(largest, big)
        baseline = RandomLabelBaseline(tuple(found), largest)
    return ClusterResult(method=method, parameters=parameters, element=names,
                         clusters=clusters, n_solute=int(solute_index.size),
                         random_label_baseline=baseline,
                         labels=ion_labels.astype(np.int32))


def maximum_separation_clusters(
    ions: IonTable, ranges: RangeTable, *, element: str | Sequence[str] = "Li",
    d_max_nm: float = 0.5, order: int = 1, n_min: int = 10, envelope_nm: float | None = None,
    erosion_nm: float | None = None, baseline_repeats: int = 1,
    rng: np.random.Generator | None = None, overlap: str = "error",
    species: np.ndarray | None = None,
) -> ClusterResult:
    """Clusters of ``element`` by the maximum-separation method (see the module docstring).

    Parameters
    ----------
    ions, ranges : IonTable, RangeTable
    element : str or sequence of str
        Solute element(s): an ion holding any of their atoms is a solute ion.
    d_max_nm : float
        Linking distance between solute ions.
    order : int
        A solute ion needs this many solute neighbours within ``d_max`` to be a core.
    n_min : int
        Smallest cluster, in solute ions.
    envelope_nm, erosion_nm : float, optional
        Envelope and erosion distances (default ``d_max``; 0 switches them off).
    baseline_repeats : int
        Random-labelling repeats (0: no baseline).
    rng : numpy.random.Generator
        For the baseline's shuffles.
    overlap, species
        Ranging options.

    Returns
    -------
    ClusterResult

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.synth.features3d import feature_ranges, generate_clusters
    >>> ions, truth = generate_clusters(rng=np.random.default_rng(0), box_nm=(20, 20, 20),
    ...                                 n_clusters=4, radius_nm=1.5,
    ...                                 matrix_composition={"Li": 0.03, "Ni": 0.47, "O": 0.5})
    >>> found = maximum_separation_clusters(ions, feature_ranges(), d_max_nm=0.5, n_min=20,
    ...                                     rng=np.random.default_rng(1))
    >>> found.n_clusters, found.random_label_baseline.n_clusters
    (4, 0.0)
    """
    d_max = _positive("d_max_nm", d_max_nm)
    if int(order) < 1 or int(n_min) < 1:
        raise ParameterError(f"order and n_min must be >= 1, got {order} and {n_min}")
    envelope = d_max if envelope_nm is None else _positive("envelope_nm", envelope_nm,
                                                           allow_zero=True)
    erosion = envelope if erosion_nm is None else _positive("erosion_nm", erosion_nm,
                                                            allow_zero=True)
    params = {"d_max_nm": d_max, "order": int(order), "n_min": int(n_min),
              "envelope_nm": envelope, "erosion_nm": erosion,
              "baseline_repeats": int(baseline_repeats)}
    return _run(ions, ranges, method="maxsep", element=element, radius_nm=d_max,
                min_neighbours=int(order), n_min=int(n_min), envelope_nm=envelope,
                erosion_nm=erosion, baseline_repeats=baseline_repeats, rng=rng,
                overlap=overlap, species=species, parameters=params)


def dbscan_clusters(
    ions: IonTable, ranges: RangeTable, *, element: str | Sequence[str] = "Li",
    eps_nm: float = 0.5, min_samples: int = 5, n_min: int = 1, envelope_nm: float = 0.0,
    erosion_nm: float = 0.0, baseline_repeats: int = 1,
    rng: np.random.Generator | None = None, overlap: str = "error",
    species: np.ndarray | None = None,
) -> ClusterResult:
    """DBSCAN clusters of the solute ions of ``element`` (Ester et al. 1996).

    A solute ion with at least ``min_samples`` solute ions (itself included) within
    ``eps_nm`` is a core; labels match ``sklearn.cluster.DBSCAN`` on the solute positions
    (a border ion reachable from two clusters may be given to either). ``n_min``,
    envelope, erosion, baseline and the per-cluster results as in
    :func:`maximum_separation_clusters`.
    """
    eps = _positive("eps_nm", eps_nm)
    if int(min_samples) < 1 or int(n_min) < 1:
        raise ParameterError(f"min_samples and n_min must be >= 1, got {min_samples}, {n_min}")
    envelope = _positive("envelope_nm", envelope_nm, allow_zero=True)
    erosion = _positive("erosion_nm", erosion_nm, allow_zero=True)
    params = {"eps_nm": eps, "min_samples": int(min_samples), "n_min": int(n_min),
              "envelope_nm": envelope, "erosion_nm": erosion,
              "baseline_repeats": int(baseline_repeats)}
    return _run(ions, ranges, method="dbscan", element=element, radius_nm=eps,
                min_neighbours=int(min_samples) - 1, n_min=int(n_min), envelope_nm=envelope,
                erosion_nm=erosion, baseline_repeats=baseline_repeats, rng=rng,
                overlap=overlap, species=species, parameters=params)

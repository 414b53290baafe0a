"""Solute clusters: the maximum-separation method and DBSCAN, on cell lists.

Both methods link *solute ions* (ions holding at least one atom of ``element``) closer than
a linking distance (``d_max_nm``, ``eps_nm``; ``d <= d_max``, as ``cKDTree.query_pairs``):

- a solute ion with at least ``order`` other solute ions within ``d_max`` is a *core* ion;
  cores within ``d_max`` of each other form one cluster; a non-core solute ion within
  ``d_max`` of a core joins its nearest core's cluster (core linkage; Stephenson et al.
  2007);
- DBSCAN is the same rule with ``min_samples = order + 1`` (the ion itself counted, Ester
  et al. 1996), so both share one implementation;
- clusters with fewer than ``n_min`` solute ions are dropped;
- the envelope adds every other ion within ``envelope_nm`` of a cluster's solute ions (to
  the cluster of the nearest one), then erosion removes the added ions within
  ``erosion_nm`` of an ion outside every cluster (Vaumousse, Cerezo & Warren 2003). The
  maximum-separation method defaults both to ``d_max``; DBSCAN defaults to none (solute
  ions only). Erosion removes added ions only,
  never the linked solute ions, so compositions err solute-rich at the cluster surface
  (+0.07 in the Li fraction for 1.5-nm clusters of 0.5 Li in the tests).

Per cluster: ions, solute ions, centroid and radius of gyration of its solute ions
(``R_g``; Guinier radius ``sqrt(5/3) R_g`` = the radius of a uniform sphere) and the
composition of all its ions with binomial σ. The random-labelling baseline reruns the
linkage with the solute labels shuffled over the same positions: how many clusters the same
parameters find in a specimen without clustering.

The neighbour searches run on uniform cell lists (numba kernels in ``_neighbour_kernels``):
the linkage on the solute ions only, the envelope and erosion with every ion queried once
against a cell list of the cluster ions. Tests check them against ``cKDTree`` +
``connected_components`` (``tests/apt/test_clusters_reference.py``).

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


_CELLS_PER_POINT = 8  # the grid's cells at most per point (else cells grow past the radius)
_BUCKETS = 16384  # coarse blocks that order every ion before the envelope's queries


def _grid(points: np.ndarray, cell_nm: float, pad_nm: float = 0.0, cap: int | None = None):
    """Cell-list geometry of ``points``: ``(lo, cell, shape)``, ~8 cells a point at most.

    ``pad_nm``: room around the points' box (queries from outside it are rejected).
    """
    from liprobe.apt._neighbour_kernels import bounds

    lo, hi = bounds(points)
    cell = float(cell_nm)
    cap = max(_CELLS_PER_POINT * points.shape[0], 1024) if cap is None else cap
    while True:
        pad = (_reach(pad_nm, cell) + 1) * cell if pad_nm > 0 else 0.0
        shape = ((hi - lo + 2 * pad) / cell).astype(np.int64) + 1
        if int(np.prod(shape)) <= cap:
            return lo - pad, cell, shape
        cell *= max((float(np.prod(shape)) / cap) ** (1.0 / 3.0), 1.01)


def _reach(radius_nm: float, cell: float) -> int:
    return max(int(math.ceil(radius_nm / cell - 1e-9)), 1)


def _sorted_points(points: np.ndarray, cell_nm: float, pad_nm: float = 0.0,
                   cap: int | None = None):
    from liprobe.apt._neighbour_kernels import grid_sort

    lo, cell, shape = _grid(points, cell_nm, pad_nm, cap)
    order = np.empty(points.shape[0], np.int32 if points.shape[0] < 2**31 else np.int64)
    start, sxyz = grid_sort(points, lo, cell, shape, order)
    return start, sxyz, order, shape, cell, lo


def link_solute(points: np.ndarray, *, radius_nm: float, min_neighbours: int) -> np.ndarray:
    """Core-linkage labels of ``points`` (-1: in no cluster).

    A point with at least ``min_neighbours`` others within ``radius_nm`` is a core; cores
    within ``radius_nm`` share a label; a non-core point within ``radius_nm`` of a core takes
    the label of its nearest core. Labels are numbered in the order of each cluster's
    first core (as ``scipy.sparse.csgraph.connected_components`` numbers components).
    Runs on a cell list (numba), not a KD-tree: the same pairs as ``cKDTree.query_pairs``
    on the float32 positions.
    """
    from liprobe.apt._neighbour_kernels import link_core

    pts = np.ascontiguousarray(points, dtype=np.float32)  # the ion table's precision
    if pts.shape[0] == 0:
        return np.full(0, -1, np.int64)
    start, sxyz, order, shape, cell, _ = _sorted_points(pts, radius_nm)
    return link_core(sxyz, start, shape, order, float(radius_nm), _reach(radius_nm, cell),
                     max(int(min_neighbours), 0))


def _count_clusters(labels: np.ndarray, n_min: int) -> tuple[int, int]:
    sizes = np.bincount(labels[labels >= 0])
    big = sizes[sizes >= n_min]
    return int(big.size), int(big.max()) if big.size else 0


def _envelope(xyz, ion_labels, solute_index, envelope_nm, erosion_nm):
    """Add ions within ``envelope_nm`` of cluster solute ions, then erode the additions.

    Every other ion takes the label of its nearest cluster solute ion within
    ``envelope_nm``; an added ion within ``erosion_nm`` of an ion left in no cluster is
    removed again (Vaumousse et al. 2003). Both steps query every ion, in its own order,
    against a cell list of the few cluster ions, every ion visited once in coarse blocks.
    """
    from liprobe.apt._neighbour_kernels import envelope_pass, within_of_any

    member = solute_index[ion_labels[solute_index] >= 0]
    if member.size == 0 or envelope_nm <= 0:
        return ion_labels
    # every ion bucketed by coarse blocks: the queries of one block hit the same cells
    _, bxyz, border, _, _, _ = _sorted_points(xyz, 8 * envelope_nm, cap=_BUCKETS)
    seeds = xyz[member]
    start, sref, order, shape, cell, lo = _sorted_points(seeds, envelope_nm, envelope_nm)
    skip = np.zeros(ion_labels.size, bool)
    skip[member] = True
    added = envelope_pass(sref, ion_labels[member][order], start, lo, cell, shape,
                          _reach(envelope_nm, cell), float(envelope_nm), bxyz, border,
                          skip, ion_labels)
    added = np.flatnonzero(added)
    if erosion_nm > 0 and added.size:
        # an added ion within the erosion distance of an ion outside every cluster
        start, sref, order, shape, cell, lo = _sorted_points(xyz[added], erosion_nm,
                                                             erosion_nm)
        eroded = within_of_any(sref, start, lo, cell, shape, _reach(erosion_nm, cell),
                               float(erosion_nm), bxyz, border, ion_labels < 0)
        ion_labels[added[order[eroded]]] = -1
    return ion_labels


def _solute_mask(species, atoms, cols):
    has = atoms[:, cols].sum(axis=1) > 0
    return np.where(species >= 0, has[np.maximum(species, 0)], False)


def _describe(xyz, ion_labels, solute, species, atoms, elements, n_clusters):
    """Per cluster: ions, solute ions, centroid and R_g of its solute ions, composition."""
    inside = np.flatnonzero(ion_labels >= 0)
    lab = ion_labels[inside].astype(np.int64)
    n_ions = np.bincount(lab, minlength=n_clusters)
    sol = solute[inside]
    slab = lab[sol]
    p = xyz[inside[sol]].astype(np.float64)
    n_sol = np.bincount(slab, minlength=n_clusters)
    per = np.maximum(n_sol, 1).astype(np.float64)
    centroid = np.zeros((n_clusters, 3))
    for a in range(3):
        centroid[:, a] = np.bincount(slab, p[:, a], n_clusters) / per
    d2 = np.sum((p - centroid[slab]) ** 2, axis=1)
    rg = np.sqrt(np.bincount(slab, d2, n_clusters) / per)
    sp = species[inside]
    ranged = sp >= 0
    n_species = atoms.shape[0]
    per_species = np.bincount(lab[ranged] * n_species + sp[ranged],
                              minlength=n_clusters * n_species).reshape(n_clusters, n_species)
    counts = per_species @ atoms
    frac, sig = fractions_with_sigma(counts)
    return tuple(SoluteCluster(
        n_ions=int(n_ions[k]), n_solute=int(n_sol[k]),
        centroid_nm=tuple(float(v) for v in centroid[k]), radius_of_gyration_nm=float(rg[k]),
        composition={e: float(frac[k, i]) for i, e in enumerate(elements)},
        composition_sigma={e: float(sig[k, i]) for i, e in enumerate(elements)},
        atom_counts={e: int(counts[k, i]) for i, e in enumerate(elements)})
        for k in range(n_clusters))


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
    ion_labels = np.full(ions.n_ions, -1, np.int32)
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
                         labels=ion_labels)


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
    (a border ion reachable from two clusters goes to its nearest core's; scikit-learn
    gives it to the first cluster that reaches it). ``n_min``,
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

"""Nearest-neighbour distributions and pair correlation against random labelling.

k-th nearest-neighbour distances (``k = 1, 2, ...``) from each solute ion to the other
solute ions (``target="solute"``) or to every ion (``target="all"``), histogrammed and set
against *random labelling*: the same number of "solute" labels drawn at random from the
same ion positions, repeated ``n_random`` times; the envelope is the range over the
repeats. Clustering shows as an excess of short distances over the envelope
(Stephenson et al. 2007; the distribution also guides ``d_max`` of the maximum-separation
method). The pair correlation ``g(r)`` is the number of solute-solute pairs per distance
shell divided by the random-labelling expectation on the same positions, so the
specimen's shape cancels.

Edge effects: ions closer than ``edge_exclusion_nm`` to the reconstruction's boundary
(its convex hull; a conservative stand-in for an alpha shape on a convex tip) are not
used as query points (their neighbour shells are cut by the boundary); they still count
as neighbours.

References: L. T. Stephenson, M. P. Moody, P. V. Liddicoat, S. P. Ringer, Microsc.
Microanal. 13 (2007) 448; B. Gault et al., *Atom Probe Microscopy* (Springer, 2012) ch. 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt.species import atoms_per_species, element_index, species_per_ion
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["NeighbourDistribution", "PairCorrelation", "boundary_distance_nm",
           "nearest_neighbour_distribution", "pair_correlation", "NEIGHBOUR_TARGETS"]

#: The neighbours of :func:`nearest_neighbour_distribution`: other solute ions or every ion.
NEIGHBOUR_TARGETS = ("solute", "all")

_HULL_SAMPLE = 50_000


def _hull_planes(xyz: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Facet planes ``(F, 4)`` (unit normal out, offset) of the ions' convex hull."""
    from scipy.spatial import ConvexHull

    sample = xyz if xyz.shape[0] <= _HULL_SAMPLE else xyz[
        rng.choice(xyz.shape[0], _HULL_SAMPLE, replace=False)]
    return ConvexHull(np.asarray(sample, dtype=np.float64)).equations


def _inside_distance(planes: np.ndarray, points: np.ndarray) -> np.ndarray:
    normal, offset = planes[:, :3], planes[:, 3]
    out = np.empty(points.shape[0], np.float64)
    chunk = max(1, 4_000_000 // max(normal.shape[0], 1))
    for start in range(0, points.shape[0], chunk):
        part = points[start:start + chunk].astype(np.float64)
        out[start:start + chunk] = -np.max(part @ normal.T + offset, axis=1)
    return out


def boundary_distance_nm(xyz_nm: np.ndarray, *, rng: np.random.Generator,
                         points: np.ndarray | None = None) -> np.ndarray:
    """Distance of ``points`` (default every ion) inside the convex hull of ``xyz_nm``.

    The hull is that of at most 50 000 ions drawn with ``rng`` (slightly inside the full
    hull, so distances err small: exclusion errs safe). Negative outside the hull.

    Examples
    --------
    >>> import numpy as np
    >>> cube = np.random.default_rng(0).random((20000, 3)) * 10
    >>> d = boundary_distance_nm(cube, rng=np.random.default_rng(1),
    ...                          points=np.array([[5.0, 5.0, 5.0], [1.0, 5.0, 5.0]]))
    >>> np.round(d, 1).tolist()
    [5.0, 1.0]
    """
    xyz = np.asarray(xyz_nm)
    return _inside_distance(_hull_planes(xyz, rng), xyz if points is None else np.asarray(points))


@dataclass(frozen=True, eq=False)
class NeighbourDistribution:
    """k-th NN distance histogram, observed and under random labelling.

    ``observed`` and ``random_mean``/``random_low``/``random_high`` are normalised
    frequencies per bin (sum 1 over all distances; distances past the last edge are not
    shown); ``random_low``/``random_high`` the envelope over the repeats.
    """

    element: tuple[str, ...]
    k: int
    target: str
    edges_nm: np.ndarray
    observed: np.ndarray
    random_mean: np.ndarray
    random_low: np.ndarray
    random_high: np.ndarray
    mean_distance_nm: float
    random_mean_distance_nm: float
    n_query: int
    n_excluded_edge: int
    edge_exclusion_nm: float
    n_random: int

    @property
    def centers_nm(self) -> np.ndarray:
        """Bin centres."""
        return 0.5 * (self.edges_nm[:-1] + self.edges_nm[1:])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"element": list(self.element), "k": self.k, "target": self.target,
                "distance_nm": self.centers_nm, "observed": self.observed,
                "random_mean": self.random_mean, "random_low": self.random_low,
                "random_high": self.random_high, "mean_distance_nm": self.mean_distance_nm,
                "random_mean_distance_nm": self.random_mean_distance_nm,
                "n_query": self.n_query, "n_excluded_edge": self.n_excluded_edge,
                "edge_exclusion_nm": self.edge_exclusion_nm, "n_random": self.n_random}


def _prepare(ions, ranges, element, overlap, species, what):
    names = (element,) if isinstance(element, str) else tuple(element)
    elements, atoms = atoms_per_species(ranges)
    cols = element_index(elements, names, what=what)
    species = np.asarray(species_per_ion(ions, ranges, overlap=overlap, known=species))
    has = atoms[:, cols].sum(axis=1) > 0
    solute = np.where(species >= 0, has[np.maximum(species, 0)], False)
    xyz = ions.xyz_nm
    if not (xyz.dtype == np.float32 and xyz.dtype.isnative):
        xyz = xyz.astype(np.float32)
    return names, xyz, np.flatnonzero(solute), np.flatnonzero(species >= 0)


def _kth(xyz, labelled, query, k, target, all_tree):
    from scipy.spatial import cKDTree

    if target == "solute":
        tree = cKDTree(xyz[labelled])
    else:
        tree = all_tree
    dist, _ = tree.query(xyz[query], k=[k + 1])  # the first neighbour is the ion itself
    return dist[:, 0]


def nearest_neighbour_distribution(
    ions: IonTable, ranges: RangeTable, *, rng: np.random.Generator,
    element: str | Sequence[str] = "Li", k: int = 1, target: str = "solute",
    bin_nm: float = 0.05, max_distance_nm: float = 2.0, n_random: int = 5,
    edge_exclusion_nm: float | None = None, max_query: int = 200_000,
    overlap: str = "error", species: np.ndarray | None = None,
) -> NeighbourDistribution:
    """k-th NN distances of solute ions against random labelling (module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random labels, the query subsample and the hull sample.
    element : str or sequence of str
        Solute element(s).
    k : int
        Neighbour order.
    target : {"solute", "all"}
        Neighbours among the solute ions or among every ranged ion.
    bin_nm, max_distance_nm : float
        Histogram bins.
    n_random : int
        Random-labelling repeats (envelope = their range).
    edge_exclusion_nm : float, optional
        Query ions closer to the boundary are not used (default ``max_distance_nm``; 0: all).
    max_query : int
        At most this many query ions (a random subset) per labelling.
    """
    from scipy.spatial import cKDTree

    if target not in NEIGHBOUR_TARGETS:
        raise ParameterError(f"target must be one of {', '.join(NEIGHBOUR_TARGETS)}, "
                             f"got {target!r}")
    if int(k) < 1 or int(n_random) < 1:
        raise ParameterError(f"k and n_random must be >= 1, got {k} and {n_random}")
    if not (np.isfinite(bin_nm) and bin_nm > 0 and max_distance_nm > bin_nm):
        raise ParameterError("bin_nm must be positive and below max_distance_nm")
    edge = float(max_distance_nm if edge_exclusion_nm is None else edge_exclusion_nm)
    names, xyz, solute, ranged = _prepare(ions, ranges, element, overlap, species,
                                          "nearest neighbours")
    if solute.size <= k:
        raise ParameterError(f"only {solute.size} solute ions: too few for k = {k}")
    planes = _hull_planes(xyz[ranged], rng) if edge > 0 else None

    def histogram(labelled):
        query = labelled
        if query.size > max_query:
            query = rng.choice(query, max_query, replace=False)
        if edge > 0:
            query = query[_inside_distance(planes, xyz[query]) >= edge]
        if query.size == 0:
            raise ParameterError(f"no solute ion lies {edge:g} nm or more inside the "
                                 "specimen's boundary (edge exclusion): the specimen is too "
                                 "small; lower edge_exclusion_nm or max_distance_nm")
        d = _kth(xyz, labelled, query, int(k), target, all_tree)
        return np.histogram(d, edges)[0] / max(d.size, 1), float(np.mean(d)), query.size

    all_tree = cKDTree(xyz[ranged]) if target == "all" else None
    edges = np.arange(0.0, max_distance_nm + 0.5 * bin_nm, bin_nm)

    observed, mean_obs, n_query = histogram(solute)
    runs, means = [], []
    for _ in range(int(n_random)):
        labelled = np.sort(rng.choice(ranged, solute.size, replace=False))
        h, m, _ = histogram(labelled)
        runs.append(h)
        means.append(m)
    runs_arr = np.asarray(runs)
    return NeighbourDistribution(
        element=names, k=int(k), target=target, edges_nm=edges, observed=observed,
        random_mean=runs_arr.mean(axis=0), random_low=runs_arr.min(axis=0),
        random_high=runs_arr.max(axis=0), mean_distance_nm=mean_obs,
        random_mean_distance_nm=float(np.mean(means)), n_query=int(n_query),
        n_excluded_edge=int(min(solute.size, max_query) - n_query), edge_exclusion_nm=edge,
        n_random=int(n_random))


@dataclass(frozen=True, eq=False)
class PairCorrelation:
    """Solute-solute pair correlation ``g(r)`` against random labelling, with σ."""

    element: tuple[str, ...]
    edges_nm: np.ndarray
    g: np.ndarray
    sigma: np.ndarray
    pairs_observed: np.ndarray
    pairs_random: np.ndarray

    @property
    def centers_nm(self) -> np.ndarray:
        """Shell centres."""
        return 0.5 * (self.edges_nm[:-1] + self.edges_nm[1:])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"element": list(self.element), "distance_nm": self.centers_nm, "g": self.g,
                "sigma": self.sigma, "pairs_observed": self.pairs_observed,
                "pairs_random": self.pairs_random}


def pair_correlation(
    ions: IonTable, ranges: RangeTable, *, rng: np.random.Generator,
    element: str | Sequence[str] = "Li", bin_nm: float = 0.1, max_distance_nm: float = 3.0,
    n_random: int = 3, max_ions: int = 200_000, overlap: str = "error",
    species: np.ndarray | None = None,
) -> PairCorrelation:
    """``g(r)``: solute pairs per shell over the random-labelling mean (1: no correlation).

    At most ``max_ions`` solute ions (and as many random labels) are used, drawn with
    ``rng``; σ is Poisson on both pair counts.
    """
    from scipy.spatial import cKDTree

    if not (np.isfinite(bin_nm) and bin_nm > 0 and max_distance_nm > bin_nm):
        raise ParameterError("bin_nm must be positive and below max_distance_nm")
    names, xyz, solute, ranged = _prepare(ions, ranges, element, overlap, species,
                                          "pair correlation")
    n = min(solute.size, int(max_ions))
    if n < 2:
        raise ParameterError(f"only {solute.size} solute ions: too few for pair correlation")
    edges = np.arange(0.0, max_distance_nm + 0.5 * bin_nm, bin_nm)

    def shells(index):
        tree = cKDTree(xyz[index].astype(np.float64))
        cumulative = tree.count_neighbors(tree, edges).astype(np.float64)
        return np.diff(cumulative) / 2.0  # ordered pairs, self-pairs fall in r = 0

    observed = shells(np.sort(rng.choice(solute, n, replace=False)) if n < solute.size
                      else solute)
    random = np.mean([shells(np.sort(rng.choice(ranged, n, replace=False)))
                      for _ in range(int(n_random))], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(random > 0, observed / random, np.nan)
        sigma = g * np.sqrt(1.0 / np.maximum(observed, 1) + 1.0 / (random * n_random))
    return PairCorrelation(element=names, edges_nm=edges, g=g, sigma=sigma,
                           pairs_observed=observed, pairs_random=random)

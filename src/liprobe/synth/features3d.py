"""Seeded boxes of ions holding 3-D features of known geometry and composition.

Test specimens for the spatial analyses (isosurfaces, proxigrams, clusters, nearest
neighbours): ions uniform in a box, each ion one atom of Li, Ni or O (single-atom ions at
7, 58 and 16 Da: :func:`feature_ranges`), the element drawn from the local composition.
Every generator returns ``(ions, truth)`` and draws all randomness from ``rng``.

- :func:`generate_clusters`: spherical clusters of given radius and composition in a
  matrix (``n_clusters=0``: a random solid solution);
- :func:`generate_precipitate`: one spherical precipitate (a closed isosurface of known
  volume ``4/3 pi R^3``);
- :func:`generate_interface`: a planar interface between two compositions with an
  error-function profile of given 10-90 % width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["FEATURE_ELEMENTS", "feature_ranges", "ClusterTruth", "InterfaceTruth",
           "PrecipitateTruth", "generate_clusters", "generate_precipitate",
           "generate_interface"]

#: Elements of the feature boxes, in the order of :func:`feature_ranges`.
FEATURE_ELEMENTS: tuple[str, ...] = ("Li", "Ni", "O")
_MASS_DA = np.array([7.0, 58.0, 16.0], np.float32)
#: 10-90 % width of an error-function step in units of its σ: 2 sqrt(2) erfinv(0.8).
WIDTH_PER_SIGMA = float(2.0 * math.sqrt(2.0) * special.erfinv(0.8))


def feature_ranges() -> RangeTable:
    """The range table of the feature boxes: Li+ 7 Da, Ni+ 58 Da, O+ 16 Da (±0.5 Da)."""
    ions = tuple(Ion(e, ((e, 1),)) for e in FEATURE_ELEMENTS)
    return RangeTable(ions, _MASS_DA - 0.5, _MASS_DA + 0.5, [0, 1, 2])


def _composition(value: Mapping[str, float], name: str) -> np.ndarray:
    unknown = set(value) - set(FEATURE_ELEMENTS)
    if unknown:
        raise ParameterError(f"{name}: unknown element(s) {sorted(unknown)}; use "
                             f"{', '.join(FEATURE_ELEMENTS)}")
    p = np.array([float(value.get(e, 0.0)) for e in FEATURE_ELEMENTS])
    if not np.all(np.isfinite(p)) or np.any(p < 0) or not abs(p.sum() - 1.0) < 1e-6:
        raise ParameterError(f"{name} must hold atom fractions >= 0 summing to 1, got {value}")
    return p


def _box(box_nm, density_per_nm3: float, rng: np.random.Generator) -> np.ndarray:
    box = np.asarray(box_nm, dtype=np.float64)
    if box.shape != (3,) or not np.all(box > 0):
        raise ParameterError(f"box_nm must be three positive edges in nm, got {box_nm}")
    if not (np.isfinite(density_per_nm3) and density_per_nm3 > 0):
        raise ParameterError(f"density_per_nm3 must be positive, got {density_per_nm3}")
    n = int(round(density_per_nm3 * float(np.prod(box))))
    xyz = rng.random((n, 3), dtype=np.float32)
    xyz *= box.astype(np.float32)
    return xyz


def _draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Element index per ion from per-ion probabilities ``p`` (N, 3)."""
    u = rng.random(p.shape[0], dtype=np.float32)
    cum = np.cumsum(p, axis=1)
    return np.minimum((u[:, None] >= cum[:, :2]).sum(axis=1), 2)


def _table(xyz: np.ndarray, element: np.ndarray) -> IonTable:
    return IonTable(xyz, _MASS_DA[element])


@dataclass(frozen=True, eq=False)
class ClusterTruth:
    """Truth of a cluster box: centres ``(K, 3)``, radius, compositions, ion membership.

    ``cluster_index`` is the cluster of each ion (-1 in the matrix).
    """

    centers_nm: np.ndarray
    radius_nm: float
    cluster_composition: dict[str, float]
    matrix_composition: dict[str, float]
    cluster_index: np.ndarray
    box_nm: tuple[float, float, float]

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.centers_nm.shape[0])


@dataclass(frozen=True, eq=False)
class PrecipitateTruth:
    """Truth of a precipitate box: centre, radius and the volume ``4/3 pi R^3``."""

    center_nm: tuple[float, float, float]
    radius_nm: float
    volume_nm3: float
    precipitate_composition: dict[str, float]
    matrix_composition: dict[str, float]


@dataclass(frozen=True, eq=False)
class InterfaceTruth:
    """Truth of an interface box.

    The composition along ``axis`` is ``low + (high - low) (1 + erf(s / (sqrt 2 σ))) / 2``
    with ``s = coordinate - position_nm``; ``width_nm`` is the 10-90 % width
    (``WIDTH_PER_SIGMA`` σ).
    """

    axis: str
    position_nm: float
    width_nm: float
    composition_low: dict[str, float]
    composition_high: dict[str, float]


def _centres(n: int, radius: float, box: np.ndarray, min_gap: float,
             rng: np.random.Generator) -> np.ndarray:
    lo, hi = radius + min_gap / 2, box - radius - min_gap / 2
    if np.any(hi <= lo):
        raise ParameterError(f"clusters of radius {radius} nm do not fit in the box {box}")
    out = np.empty((n, 3))
    placed = 0
    for _ in range(200 * max(n, 1)):
        if placed == n:
            break
        c = lo + rng.random(3) * (hi - lo)
        if placed == 0 or np.min(np.linalg.norm(out[:placed] - c, axis=1)) >= 2 * radius + min_gap:
            out[placed] = c
            placed += 1
    if placed < n:
        raise ParameterError(f"could not place {n} clusters of radius {radius} nm at least "
                             f"{min_gap} nm apart in the box; use a bigger box or fewer")
    return out


def _spheres(xyz, centres, radius):
    """Index of the sphere holding each point (-1: none); spheres do not overlap."""
    from scipy.spatial import cKDTree

    index = np.full(xyz.shape[0], -1, np.int64)
    if centres.shape[0]:
        dist, nearest = cKDTree(centres).query(xyz, distance_upper_bound=radius)
        inside = dist <= radius
        index[inside] = nearest[inside]
    return index


def generate_clusters(
    *, rng: np.random.Generator, box_nm=(40.0, 40.0, 40.0), density_per_nm3: float = 30.0,
    n_clusters: int = 10, radius_nm: float = 1.5,
    cluster_composition: Mapping[str, float] = {"Li": 0.5, "Ni": 0.2, "O": 0.3},  # noqa: B006
    matrix_composition: Mapping[str, float] = {"Li": 0.05, "Ni": 0.45, "O": 0.5},  # noqa: B006
    min_gap_nm: float = 3.0,
) -> tuple[IonTable, ClusterTruth]:
    """Spherical clusters of ``radius_nm`` at random, non-overlapping places in a box.

    Parameters
    ----------
    rng : numpy.random.Generator
        All randomness (positions, cluster places, elements).
    box_nm : three floats
        Box edges; ions uniform at ``density_per_nm3``.
    n_clusters : int
        Clusters (0: a random solid solution of ``matrix_composition``).
    radius_nm : float
        Cluster radius.
    cluster_composition, matrix_composition : mapping of element to atom fraction
    min_gap_nm : float
        Smallest distance between two cluster surfaces (and half of it to the box faces).

    Examples
    --------
    >>> import numpy as np
    >>> ions, truth = generate_clusters(rng=np.random.default_rng(0), box_nm=(20, 20, 20),
    ...                                 n_clusters=3)
    >>> truth.n_clusters, int((truth.cluster_index >= 0).sum()) > 0
    (3, True)
    """
    if int(n_clusters) < 0 or not (np.isfinite(radius_nm) and radius_nm > 0):
        raise ParameterError("n_clusters must be >= 0 and radius_nm > 0")
    p_in = _composition(cluster_composition, "cluster_composition")
    p_out = _composition(matrix_composition, "matrix_composition")
    xyz = _box(box_nm, density_per_nm3, rng)
    box = np.asarray(box_nm, dtype=np.float64)
    centres = _centres(int(n_clusters), float(radius_nm), box, float(min_gap_nm), rng)
    index = _spheres(xyz, centres, float(radius_nm))
    element = _draw(np.where((index >= 0)[:, None], p_in, p_out), rng)
    truth = ClusterTruth(centers_nm=centres, radius_nm=float(radius_nm),
                         cluster_composition=dict(zip(FEATURE_ELEMENTS, p_in.tolist())),
                         matrix_composition=dict(zip(FEATURE_ELEMENTS, p_out.tolist())),
                         cluster_index=index, box_nm=tuple(float(b) for b in box))
    return _table(xyz, element), truth


def generate_precipitate(
    *, rng: np.random.Generator, box_nm=(30.0, 30.0, 30.0), density_per_nm3: float = 30.0,
    radius_nm: float = 8.0, center_nm=None,
    precipitate_composition: Mapping[str, float] = {"Li": 0.6, "Ni": 0.1, "O": 0.3},  # noqa: B006
    matrix_composition: Mapping[str, float] = {"Li": 0.05, "Ni": 0.45, "O": 0.5},  # noqa: B006
) -> tuple[IonTable, PrecipitateTruth]:
    """One spherical precipitate (default in the box centre) in a matrix.

    Examples
    --------
    >>> import numpy as np
    >>> ions, truth = generate_precipitate(rng=np.random.default_rng(0), box_nm=(12, 12, 12),
    ...                                    radius_nm=3.0)
    >>> round(truth.volume_nm3, 1)
    113.1
    """
    p_in = _composition(precipitate_composition, "precipitate_composition")
    p_out = _composition(matrix_composition, "matrix_composition")
    box = np.asarray(box_nm, dtype=np.float64)
    centre = box / 2 if center_nm is None else np.asarray(center_nm, dtype=np.float64)
    if centre.shape != (3,) or np.any(centre - radius_nm < 0) or np.any(centre + radius_nm > box):
        raise ParameterError(f"a precipitate of radius {radius_nm} nm at {center_nm} does not "
                             f"fit in the box {tuple(box)}")
    xyz = _box(box_nm, density_per_nm3, rng)
    rel = xyz - centre.astype(np.float32)
    inside = np.einsum("ij,ij->i", rel, rel) <= radius_nm**2
    element = _draw(np.where(inside[:, None], p_in, p_out), rng)
    truth = PrecipitateTruth(center_nm=tuple(float(c) for c in centre),
                             radius_nm=float(radius_nm),
                             volume_nm3=4.0 / 3.0 * math.pi * float(radius_nm) ** 3,
                             precipitate_composition=dict(zip(FEATURE_ELEMENTS, p_in.tolist())),
                             matrix_composition=dict(zip(FEATURE_ELEMENTS, p_out.tolist())))
    return _table(xyz, element), truth


def generate_interface(
    *, rng: np.random.Generator, box_nm=(30.0, 30.0, 40.0), density_per_nm3: float = 30.0,
    axis: str = "z", position_nm: float | None = None, width_nm: float = 2.0,
    composition_low: Mapping[str, float] = {"Li": 0.05, "Ni": 0.45, "O": 0.5},  # noqa: B006
    composition_high: Mapping[str, float] = {"Li": 0.4, "Ni": 0.2, "O": 0.4},  # noqa: B006
) -> tuple[IonTable, InterfaceTruth]:
    """A planar interface normal to ``axis``: ``composition_low`` below, ``_high`` above.

    ``width_nm`` is the 10-90 % width of the error-function profile (0: a sharp step).

    Examples
    --------
    >>> import numpy as np
    >>> ions, truth = generate_interface(rng=np.random.default_rng(0), box_nm=(10, 10, 20))
    >>> truth.position_nm, truth.width_nm
    (10.0, 2.0)
    """
    if axis not in ("x", "y", "z"):
        raise ParameterError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    if not (np.isfinite(width_nm) and width_nm >= 0):
        raise ParameterError(f"width_nm must be >= 0, got {width_nm}")
    p_lo = _composition(composition_low, "composition_low")
    p_hi = _composition(composition_high, "composition_high")
    col = "xyz".index(axis)
    box = np.asarray(box_nm, dtype=np.float64)
    position = float(box[col] / 2 if position_nm is None else position_nm)
    xyz = _box(box_nm, density_per_nm3, rng)
    s = xyz[:, col].astype(np.float64) - position
    if width_nm > 0:
        weight = 0.5 * (1.0 + special.erf(s / (math.sqrt(2.0) * width_nm / WIDTH_PER_SIGMA)))
    else:
        weight = (s >= 0).astype(np.float64)
    element = _draw(p_lo + weight[:, None] * (p_hi - p_lo), rng)
    truth = InterfaceTruth(axis=axis, position_nm=position, width_nm=float(width_nm),
                           composition_low=dict(zip(FEATURE_ELEMENTS, p_lo.tolist())),
                           composition_high=dict(zip(FEATURE_ELEMENTS, p_hi.tolist())))
    return _table(xyz, element), truth

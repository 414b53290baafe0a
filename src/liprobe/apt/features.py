"""Line features: linear solute-enriched objects (dislocations, anti-phase boundaries).

Method: atoms of ``element`` and of all elements are counted on a voxel grid and both are
smoothed by a Gaussian of ``delocalization_nm`` (delocalisation, as in Hellman et al.'s
isoconcentration surfaces); the concentration field c = smoothed element / smoothed total
is kept where the smoothed density is at least ``min_density_fraction`` of its median
(inside the specimen). The matrix level is the median c and its spread the robust σ
(1.4826 x median absolute deviation); voxels with c > median + ``threshold_sigma`` σ form
the enriched region. Each connected region (26-connectivity) is skeletonised in 3-D
(``skimage.morphology.skeletonize``, Lee et al. 1994); the principal axis of its skeleton
(SVD) and the skeleton's spread around it say whether it is line-like; regions shorter than
``min_length_nm`` are dropped. Regions that are not line-like (touching lines) are
re-thresholded higher until they split (``max_width_nm``). Each accepted region's axis
passes through its excess-concentration-weighted centroid (sub-voxel), along its weighted
principal direction. :func:`line_proxigram` then gives the composition against the distance
from the features' axes. Lines closer than about 2 x (radius + delocalisation) merge.

References: O. C. Hellman, J. A. Vandenbroucke, J. Rüsing, D. Isheim, D. N. Seidman,
Microsc. Microanal. 6 (2000) 437 (delocalised concentration, proxigrams); T.-C. Lee,
R. L. Kashyap, C.-N. Chu, CVGIP 56 (1994) 462 (3-D thinning); B.-G. Chae et al., Nat.
Commun. (Li-rich lines along dislocations in NCM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liprobe.apt import profile_kernels as _pk
from liprobe.apt._fractions import default_denominator
from liprobe.apt._guards import require_bins, require_finite_positions
from liprobe.apt._voxel_kernels import voxelise
from liprobe.apt.profiles import Profile
from liprobe.apt.species import atoms_per_species, element_index, species_per_ion
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.tabular import FrameView

__all__ = ["LineFeature", "LineFeatures", "find_line_features", "line_proxigram"]


@dataclass(frozen=True, eq=False)
class LineFeature:
    """One linear feature.

    ``direction`` is a unit vector (sign fixed so its largest component is positive);
    ``enrichment`` is the mean concentration in the feature's region divided by the matrix
    level; ``points_nm`` are its skeleton voxel centres.
    """

    length_nm: float
    direction: tuple[float, float, float]
    centroid_nm: tuple[float, float, float]
    enrichment: float
    mean_fraction: float
    n_voxels: int
    points_nm: np.ndarray = field(repr=False)

    def endpoints_nm(self) -> np.ndarray:
        """The axis segment's two ends (2, 3)."""
        c, d = np.asarray(self.centroid_nm), np.asarray(self.direction)
        return np.stack([c - 0.5 * self.length_nm * d, c + 0.5 * self.length_nm * d])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"length_nm": self.length_nm, "direction": list(self.direction),
                "centroid_nm": list(self.centroid_nm), "enrichment": self.enrichment,
                "mean_fraction": self.mean_fraction, "n_voxels": self.n_voxels}


@dataclass(frozen=True, eq=False)
class LineFeatures(FrameView):
    """Features found, with the threshold that found them."""

    features: tuple[LineFeature, ...]
    element: str
    matrix_fraction: float
    matrix_sigma: float
    threshold_fraction: float
    threshold_sigma: float
    voxel_nm: float
    delocalization_nm: float

    def to_dict(self) -> dict[str, Any]:
        """``{"features": [{length_nm, direction, centroid_nm, enrichment}], ...}``."""
        return {"element": self.element, "features": [f.to_dict() for f in self.features],
                "matrix_fraction": self.matrix_fraction, "matrix_sigma": self.matrix_sigma,
                "threshold_fraction": self.threshold_fraction,
                "threshold_sigma": self.threshold_sigma, "voxel_nm": self.voxel_nm,
                "delocalization_nm": self.delocalization_nm}

    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per line feature (length, enrichment, direction,
        centroid)."""
        import pandas as pd

        columns = ["length_nm", "enrichment", "mean_fraction", "n_voxels", "direction_x",
                   "direction_y", "direction_z", "centroid_x_nm", "centroid_y_nm",
                   "centroid_z_nm"]
        return pd.DataFrame([[f.length_nm, f.enrichment, f.mean_fraction, f.n_voxels,
                              *f.direction, *f.centroid_nm] for f in self.features],
                            columns=columns)

    def _summary(self) -> str:
        return (f"{len(self.features)} {self.element}-rich line feature(s) above "
                f"{self.threshold_fraction:.3f}")


def _native(xyz):
    return xyz if xyz.dtype.isnative else xyz.astype(np.float32)


def _describe(points: np.ndarray, voxel_nm: float):
    """Centroid, unit direction, length and transverse RMS width of a point set."""
    centroid = points.mean(axis=0)
    if points.shape[0] == 1:
        return centroid, np.array([0.0, 0.0, 1.0]), voxel_nm, 0.0
    _, _, vt = np.linalg.svd(points - centroid, full_matrices=False)
    direction = vt[0]
    if direction[np.argmax(np.abs(direction))] < 0:
        direction = -direction
    rel = points - centroid
    proj = rel @ direction
    length = float(proj.max() - proj.min()) + voxel_nm
    width = float(np.sqrt(np.mean(np.sum((rel - proj[:, None] * direction) ** 2, axis=1))))
    return centroid, direction, length, width


def _side_by_side(region, direction, opts) -> bool:
    """Whether ``region`` holds two or more long parts lying beside each other (parallel
    touching lines), not one after the other (one noisy line)."""
    from scipy import ndimage

    labels, _ = ndimage.label(region, structure=np.ones((3, 3, 3), bool))
    centres = []
    for k, box in enumerate(ndimage.find_objects(labels)):
        extent = max(b.stop - b.start for b in box) * opts["voxel_nm"]
        if extent >= opts["min_length_nm"]:
            idx = np.argwhere(labels[box] == k + 1) + [b.start for b in box]
            centres.append(idx.mean(axis=0) * opts["voxel_nm"])
    if len(centres) < 2:
        return False
    rel = np.asarray(centres) - centres[0]
    lateral = rel - (rel @ direction)[:, None] * direction
    return bool(np.max(np.linalg.norm(lateral, axis=1)) >= opts["min_separation_nm"])


def _extract(conc, region, offset, level, depth, opts, out):
    """Label ``region``; accept line-like components, re-threshold the others higher."""
    from scipy import ndimage
    from skimage.morphology import skeletonize

    labels, n_regions = ndimage.label(region, structure=np.ones((3, 3, 3), bool))
    for r, box in enumerate(ndimage.find_objects(labels)):
        comp = labels[box] == r + 1
        corner = offset + np.array([b.start for b in box])
        skel = np.argwhere(skeletonize(comp))
        if skel.shape[0] < 2:
            skel = np.argwhere(comp)
        points = opts["lo"] + (corner + skel + 0.5) * opts["voxel_nm"]
        centroid, direction, length, width = _describe(points, opts["voxel_nm"])
        if length < opts["min_length_nm"]:
            continue
        sub = conc[box]
        if depth < opts["max_depth"]:
            top = float(sub[comp].max())
            if width > opts["max_width_nm"]:
                new_level = level + 0.25 * (top - level)
                _extract(sub, comp & (sub > new_level), corner, new_level, depth + 1, opts, out)
                continue
            # line-like, but maybe parallel touching lines: split if a higher level
            # leaves two or more long parts
            new_level = level + 0.5 * (top - level)
            if _side_by_side(comp & (sub > new_level), direction, opts):
                _extract(sub, comp & (sub > new_level), corner, new_level, depth + 1, opts, out)
                continue
        # axis from the region's voxels weighted by their excess concentration: sub-voxel
        # centroid; the skeleton only decided that the region is line-like
        idx = np.argwhere(comp)
        weight = sub[comp].astype(np.float64) - level
        weight = np.where(weight > 0, weight, 1e-12)
        region_pts = opts["lo"] + (corner + idx + 0.5) * opts["voxel_nm"]
        centroid = (weight[:, None] * region_pts).sum(axis=0) / weight.sum()
        rel = (region_pts - centroid) * np.sqrt(weight / weight.sum())[:, None]
        direction = np.linalg.svd(rel, full_matrices=False)[2][0]
        if direction[np.argmax(np.abs(direction))] < 0:
            direction = -direction
        # centre the segment on the region's extent along the axis (weights vary along it)
        proj = (region_pts - centroid) @ direction
        centroid = centroid + 0.5 * (proj.max() + proj.min()) * direction
        length = float(proj.max() - proj.min()) + opts["voxel_nm"]
        mean = float(sub[comp].mean())
        out.append(LineFeature(
            length_nm=length, direction=tuple(float(v) for v in direction),
            centroid_nm=tuple(float(v) for v in centroid),
            enrichment=mean / opts["matrix"] if opts["matrix"] > 0 else float("inf"),
            mean_fraction=mean, n_voxels=int(comp.sum()), points_nm=points,
        ))


def find_line_features(
    ions: IonTable,
    ranges: RangeTable,
    *,
    element: str = "Li",
    voxel_nm: float = 1.0,
    delocalization_nm: float = 1.5,
    threshold_sigma: float = 5.0,
    min_length_nm: float = 5.0,
    min_density_fraction: float = 0.5,
    max_width_nm: float = 1.0,
    overlap: str = "error",
    species: np.ndarray | None = None,
) -> LineFeatures:
    """Find linear features enriched in ``element`` (see the module docstring).

    Parameters
    ----------
    ions, ranges : IonTable, RangeTable
    element : str
        The enriched element (default Li).
    voxel_nm : float
        Voxel edge.
    delocalization_nm : float
        σ of the Gaussian applied to both count grids.
    threshold_sigma : float
        k in the threshold c > median + k σ_robust.
    min_length_nm : float
        Shorter features are dropped.
    min_density_fraction : float
        Voxels below this fraction of the median smoothed density count as outside.
    max_width_nm : float
        A region whose skeleton spreads more than this (RMS distance from its principal
        axis) is several touching lines or a sheet: it is re-thresholded a quarter of the
        way up to its peak concentration, recursively, until its parts are line-like.

    Returns
    -------
    LineFeatures

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, IonTable, RangeTable
    >>> rng = np.random.default_rng(0)
    >>> xyz = rng.uniform(0, 20, (300_000, 3)).astype(np.float32)
    >>> near = np.hypot(xyz[:, 0] - 10, xyz[:, 1] - 10) < 1.5   # a Li-rich line along z
    >>> li = rng.random(300_000) < np.where(near, 0.7, 0.3)
    >>> rt = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
    ...                 [6.5, 28.5], [7.5, 29.5], [0, 1])
    >>> found = find_line_features(IonTable(xyz, np.where(li, 7.0, 29.0).astype(np.float32)), rt)
    >>> [(bool(np.hypot(f.centroid_nm[0] - 10, f.centroid_nm[1] - 10) < 1.0),
    ...   round(abs(f.direction[2]), 2)) for f in found.features]
    [(True, 1.0)]
    """
    from scipy import ndimage

    for name, value in (("voxel_nm", voxel_nm), ("delocalization_nm", delocalization_nm),
                        ("threshold_sigma", threshold_sigma)):
        if not (np.isfinite(value) and value > 0):
            raise ParameterError(f"{name} must be positive, got {value}")
    elements, atoms = atoms_per_species(ranges)
    (col,) = element_index(elements, [element], what="line features")
    require_finite_positions(ions, what="line features")
    species = species_per_ion(ions, ranges, overlap=overlap, known=species)
    if ions.n_ions < 100:
        raise ParameterError(f"only {ions.n_ions} ions: too few for line features")
    xyz = _native(ions.xyz_nm)
    lo = xyz.min(axis=0).astype(np.float64)
    hi = xyz.max(axis=0).astype(np.float64)
    cells = np.floor((hi - lo) / voxel_nm) + 1  # float: an absurd extent cannot overflow
    require_bins(float(np.prod(cells)), what=f"voxel grid of {(hi - lo).round(1).tolist()} nm "
                 f"in {voxel_nm:g} nm voxels", fix="raise voxel_nm or crop outlying ions")
    shape = tuple(int(v) for v in cells)
    solute, total = voxelise(xyz[:, 0], xyz[:, 1], xyz[:, 2], np.asarray(species),
                             atoms[:, col].astype(np.float32),
                             atoms.sum(axis=1).astype(np.float32),
                             lo[0], lo[1], lo[2], float(voxel_nm), *shape)
    sigma_vox = delocalization_nm / voxel_nm
    solute = ndimage.gaussian_filter(solute, sigma_vox, mode="constant", output=np.float32)
    total = ndimage.gaussian_filter(total, sigma_vox, mode="constant", output=np.float32)
    positive = total[total > 0]
    if positive.size == 0:
        raise ParameterError("no ranged atoms: check the range table")
    inside = total >= min_density_fraction * float(np.median(positive))
    conc = np.zeros(shape, np.float32)
    np.divide(solute, total, out=conc, where=inside)
    values = conc[inside]
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median)))
    threshold = median + threshold_sigma * spread
    enriched = inside & (conc > threshold)
    features: list[LineFeature] = []
    opts = {"lo": lo, "voxel_nm": float(voxel_nm), "min_length_nm": float(min_length_nm),
            "max_width_nm": float(max_width_nm), "max_depth": 8, "matrix": median,
            "min_separation_nm": 2.0 * float(delocalization_nm)}
    _extract(conc, enriched, np.zeros(3, int), threshold, 0, opts, features)
    features.sort(key=lambda f: -f.length_nm)
    return LineFeatures(
        features=tuple(features), element=element, matrix_fraction=median,
        matrix_sigma=spread, threshold_fraction=threshold, threshold_sigma=threshold_sigma,
        voxel_nm=float(voxel_nm), delocalization_nm=float(delocalization_nm),
    )


def _segment_distance(xyz: np.ndarray, feature: LineFeature) -> np.ndarray:
    a, b = feature.endpoints_nm().astype(np.float32)
    d = b - a
    dd = float(d @ d)
    rel = xyz - a
    t = np.clip((rel @ d) / dd, 0.0, 1.0) if dd > 0 else np.zeros(xyz.shape[0], np.float32)
    closest = rel - t[:, None].astype(np.float32) * d
    return np.sqrt(np.einsum("ij,ij->i", closest, closest))


def line_proxigram(
    ions: IonTable,
    ranges: RangeTable,
    features: LineFeatures | Sequence[LineFeature],
    *,
    bin_nm: float = 0.5,
    max_distance_nm: float = 5.0,
    normalize_to: str | tuple[str, ...] | None = None,
    overlap: str = "error",
    species: np.ndarray | None = None,
) -> Profile:
    """Composition against distance from the nearest feature axis (a line proxigram).

    Distance is measured to each feature's axis segment (centroid ± length/2 along its
    direction); ions farther than ``max_distance_nm`` from every feature are left out.
    Returns a :class:`~liprobe.apt.profiles.Profile` whose bins are distances.
    """
    feats = tuple(features.features if isinstance(features, LineFeatures) else features)
    if not feats:
        raise ParameterError("no line features given: nothing to measure the distance from")
    if not (np.isfinite(bin_nm) and bin_nm > 0 and max_distance_nm > bin_nm):
        raise ParameterError("bin_nm must be positive and below max_distance_nm")
    elements, atoms = atoms_per_species(ranges)
    denominator = default_denominator(elements, normalize_to)
    species = species_per_ion(ions, ranges, overlap=overlap, known=species)
    xyz = _native(ions.xyz_nm)
    ends = np.concatenate([f.endpoints_nm() for f in feats])
    lo, hi = ends.min(axis=0) - max_distance_nm, ends.max(axis=0) + max_distance_nm
    near = np.all((xyz >= lo.astype(np.float32)) & (xyz <= hi.astype(np.float32)), axis=1)
    idx = np.flatnonzero(near & (species >= 0))
    sub = xyz[idx]
    dist = np.full(idx.shape[0], np.inf, np.float32)
    for f in feats:
        np.minimum(dist, _segment_distance(sub, f), out=dist)
    keep = dist < max_distance_nm
    n_bins = int(np.ceil(max_distance_nm / bin_nm))
    counts = _pk.count_fixed_width(dist[keep].astype(np.float32), species[idx[keep]], 0.0, 1.0,
                                   float(bin_nm), n_bins, ranges.n_ions)
    edges = np.arange(n_bins + 1) * float(bin_nm)
    return Profile(start_nm=edges[:-1], end_nm=edges[1:], elements=elements,
                   atom_counts=counts @ atoms, ion_counts=counts.sum(axis=1),
                   denominator=denominator, axis="distance from line feature axes")

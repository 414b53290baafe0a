"""Proximity histograms (proxigrams) from isosurfaces, and what they measure.

The proxigram (Hellman et al. 2000) bins ions by their signed distance to an
isoconcentration surface, positive on the high-concentration side, and gives the
composition per distance bin with its counting σ and ion counts (a
:class:`~liprobe.apt.profiles.Profile` whose bins are distances).

Signed distance: on the field's voxel centres, within a band around the mesh, the distance
to the nearest mesh vertex projected on that vertex's normal (exact for a plane, second
order in vertex spacing for curved surfaces); points whose offset from the nearest vertex is
mostly sideways (beyond the edge of an open surface) have no distance. Each ion's distance
is then interpolated trilinearly from the grid, one pass over the ions.

On top of the proxigram: :func:`fit_interface` (the two compositions and the 10-90 % width
of an interface, error-function fit) and :func:`surface_layer_thickness_from_proxigram`
(thickness of a surface layer: the distance from the isosurface to the specimen's top,
where the proxigram's ion count falls to half its plateau), with
:func:`layer_depth_from_profile` giving the 1-D profile's value to compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt._fractions import default_denominator
from liprobe.apt.isosurface import IsosurfaceSet
from liprobe.apt.profiles import Profile
from liprobe.apt.species import atoms_per_species, species_per_ion
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["signed_distance_nm", "proxigram", "proxigram_to_dict", "InterfaceFit",
           "fit_interface", "LayerThickness", "surface_layer_thickness_from_proxigram",
           "layer_depth_from_profile"]

#: 10-90 % width of an error-function step in units of its σ.
_WIDTH_PER_SIGMA = 2.0 * math.sqrt(2.0) * 0.9061938024368232


def _distance_grid(surfaces: IsosurfaceSet, band_nm: float) -> np.ndarray:
    from scipy.spatial import cKDTree

    vox = surfaces.voxel_nm
    axes = [surfaces.grid_origin_nm[a] + (np.arange(n) + 0.5) * vox
            for a, n in enumerate(surfaces.grid_shape)]
    grid = np.full(surfaces.grid_shape, np.nan, np.float32)
    verts, normals = surfaces.vertices_nm, surfaces.normals
    if verts.shape[0] == 0:
        return grid
    tree = cKDTree(verts)
    # only voxels whose bounding box comes within the band of the mesh
    lo, hi = verts.min(axis=0) - band_nm, verts.max(axis=0) + band_nm
    sel = [np.flatnonzero((ax >= lo[a]) & (ax <= hi[a])) for a, ax in enumerate(axes)]
    if any(s.size == 0 for s in sel):
        return grid
    for i in sel[0]:  # one plane at a time keeps the temporaries small
        yy, zz = np.meshgrid(axes[1][sel[1]], axes[2][sel[2]], indexing="ij")
        points = np.stack([np.full(yy.size, axes[0][i]), yy.ravel(), zz.ravel()], axis=1)
        dist, nearest = tree.query(points, distance_upper_bound=band_nm)
        ok = np.isfinite(dist)
        offset = points[ok] - verts[nearest[ok]]
        along = np.einsum("ij,ij->i", offset, normals[nearest[ok]])
        sideways = np.sqrt(np.maximum(dist[ok] ** 2 - along**2, 0.0))
        value = np.full(points.shape[0], np.nan)
        value[np.flatnonzero(ok)] = np.where(sideways <= np.maximum(1.5 * vox, 0.5 * np.abs(along)),
                                             along, np.nan)
        grid[i, sel[1][0]:sel[1][-1] + 1, sel[2][0]:sel[2][-1] + 1] = value.reshape(yy.shape)
    return grid


def signed_distance_nm(
    xyz_nm: np.ndarray, surfaces: IsosurfaceSet, *, max_distance_nm: float = 5.0,
) -> np.ndarray:
    """Signed distance of each point to the surfaces (positive on the high side).

    Parameters
    ----------
    xyz_nm : (N, 3) float array
    surfaces : IsosurfaceSet
    max_distance_nm : float
        Points farther than this (or outside the field's grid, or beside an open surface's
        edge) get NaN.

    Returns
    -------
    (N,) float32 array
    """
    from liprobe.apt._grid_kernels import interpolate_trilinear

    if not (np.isfinite(max_distance_nm) and max_distance_nm > 0):
        raise ParameterError(f"max_distance_nm must be positive, got {max_distance_nm}")
    band = float(max_distance_nm) + 2.0 * surfaces.voxel_nm
    grid = _distance_grid(surfaces, band)
    xyz = np.asarray(xyz_nm)
    if not (xyz.dtype == np.float32 and xyz.dtype.isnative):
        xyz = xyz.astype(np.float32)
    o = surfaces.grid_origin_nm
    return interpolate_trilinear(grid, xyz, float(o[0]), float(o[1]), float(o[2]),
                                 float(surfaces.voxel_nm), float(max_distance_nm))


def proxigram(
    ions: IonTable, ranges: RangeTable, surfaces: IsosurfaceSet, *, bin_nm: float = 0.5,
    distance_range_nm: tuple[float, float] = (-5.0, 5.0),
    normalize_to: str | tuple[str, ...] | None = None, overlap: str = "error",
    species: np.ndarray | None = None,
) -> Profile:
    """Composition against signed distance from the isosurfaces (positive: high side).

    Parameters
    ----------
    ions, ranges : IonTable, RangeTable
    surfaces : IsosurfaceSet
        From :func:`liprobe.apt.isosurface.find_isosurfaces`.
    bin_nm : float
        Distance bin width.
    distance_range_nm : (low, high)
        Distances binned (ions outside are left out).
    normalize_to : str or tuple of str, optional
        Ratio denominator (default the NCM metals present).
    overlap, species
        Ranging options (``species``: a precomputed species index per ion).

    Returns
    -------
    Profile
        Bins from ``low`` to ``high`` in steps of ``bin_nm``; ``atom_counts``,
        ``ion_counts``, fractions and binomial σ per bin.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.apt.field import concentration_field
    >>> from liprobe.apt.isosurface import find_isosurfaces
    >>> from liprobe.synth.features3d import feature_ranges, generate_interface
    >>> ions, truth = generate_interface(rng=np.random.default_rng(0), box_nm=(20, 20, 30))
    >>> rt = feature_ranges()
    >>> surfaces = find_isosurfaces(concentration_field(ions, rt), threshold=0.225,
    ...                             min_area_nm2=50)
    >>> p = proxigram(ions, rt, surfaces, distance_range_nm=(-6, 6))
    >>> li = p.fractions[:, 0]
    >>> bool(abs(li[0] - 0.05) < 0.02 and abs(li[-1] - 0.4) < 0.03)
    True
    """
    if not isinstance(surfaces, IsosurfaceSet):
        raise ParameterError("proxigram needs an IsosurfaceSet (find_isosurfaces)")
    if not surfaces.surfaces:
        raise ParameterError(f"no {surfaces.element} isosurface at {surfaces.threshold:g}: "
                             "nothing to measure distances from; choose another threshold")
    low, high = (float(v) for v in distance_range_nm)
    if not (np.isfinite(bin_nm) and bin_nm > 0 and high - low >= bin_nm):
        raise ParameterError(f"bin_nm must be positive and distance_range_nm (low, high) at "
                             f"least one bin wide, got {bin_nm} and {distance_range_nm}")
    elements, atoms = atoms_per_species(ranges)
    denominator = default_denominator(elements, normalize_to)
    species = np.asarray(species_per_ion(ions, ranges, overlap=overlap, known=species))
    n_bins = int(round((high - low) / bin_nm))
    distance = signed_distance_nm(ions.xyz_nm, surfaces,
                                  max_distance_nm=max(abs(low), abs(high)))
    with np.errstate(invalid="ignore"):
        keep = (distance >= low) & (distance < low + n_bins * bin_nm) & (species >= 0)
    b = ((distance[keep] - low) / bin_nm).astype(np.int64)
    np.minimum(b, n_bins - 1, out=b)
    counts = np.bincount(b * ranges.n_ions + species[keep],
                         minlength=n_bins * ranges.n_ions).reshape(n_bins, ranges.n_ions)
    edges = low + np.arange(n_bins + 1) * float(bin_nm)
    return Profile(start_nm=edges[:-1], end_nm=edges[1:], elements=elements,
                   atom_counts=counts @ atoms, ion_counts=counts.sum(axis=1),
                   denominator=denominator,
                   axis=f"signed distance from the {surfaces.element} "
                        f"{surfaces.threshold:g} isosurface (positive: higher "
                        f"{surfaces.element})")


def proxigram_to_dict(profile: Profile) -> dict[str, Any]:
    """``{"distance_nm", "fractions": {El: [...]}, "sigma": {El: [...]}, "n_ions"}``."""
    frac, sig = profile.fractions, profile.sigmas
    return {"distance_nm": profile.center_nm.tolist(),
            "fractions": {e: frac[:, i].tolist() for i, e in enumerate(profile.elements)},
            "sigma": {e: sig[:, i].tolist() for i, e in enumerate(profile.elements)},
            "n_ions": profile.ion_counts.tolist(), "axis": profile.axis}


@dataclass(frozen=True)
class InterfaceFit:
    """Error-function fit of a proxigram across an interface.

    ``low[El]``/``high[El]`` are the plateau fractions on the negative and positive side
    with σ; ``width_nm`` is the 10-90 % width of ``element``'s profile and ``position_nm``
    its midpoint (0 when the isosurface sits mid-interface).
    """

    element: str
    low: dict[str, float]
    low_sigma: dict[str, float]
    high: dict[str, float]
    high_sigma: dict[str, float]
    width_nm: float
    width_sigma_nm: float
    position_nm: float
    success: bool
    message: str


def _erf_step(d, low, high, position, sigma):
    from scipy import special

    return low + (high - low) * 0.5 * (1.0 + special.erf((d - position)
                                                         / (math.sqrt(2.0) * abs(sigma))))


def fit_interface(profile: Profile, *, element: str) -> InterfaceFit:
    """Fit ``low + (high - low)(1 + erf((d - d0) / (√2 σ)))/2`` per element (σ-weighted).

    Every element gets its two plateau values; the width and position are ``element``'s.
    """
    from scipy import optimize

    if element not in profile.elements:
        raise ParameterError(f"fit_interface: {element!r} is not in the profile "
                             f"({', '.join(profile.elements)})")
    d = profile.center_nm
    frac, sig = profile.fractions, profile.sigmas
    low, high, low_s, high_s = {}, {}, {}, {}
    width = width_s = position = math.nan
    success, message = True, "converged"
    for i, name in enumerate(profile.elements):
        ok = np.isfinite(frac[:, i]) & (sig[:, i] > 0)
        if ok.sum() < 5:
            success, message = False, f"{name}: fewer than 5 bins with counts"
            continue
        y, s = frac[ok, i], sig[ok, i]
        guess = [y[: max(1, y.size // 4)].mean(), y[-max(1, y.size // 4):].mean(), 0.0, 1.0]
        try:
            p, cov = optimize.curve_fit(_erf_step, d[ok], y, p0=guess, sigma=s,
                                        absolute_sigma=True, maxfev=10000)
        except (RuntimeError, ValueError) as exc:
            success, message = False, f"{name}: {exc}"
            continue
        err = np.sqrt(np.diag(cov))
        low[name], high[name] = float(p[0]), float(p[1])
        low_s[name], high_s[name] = float(err[0]), float(err[1])
        if name == element:
            width = abs(float(p[3])) * _WIDTH_PER_SIGMA
            width_s = float(err[3]) * _WIDTH_PER_SIGMA
            position = float(p[2])
    return InterfaceFit(element=element, low=low, low_sigma=low_s, high=high,
                        high_sigma=high_s, width_nm=width, width_sigma_nm=width_s,
                        position_nm=position, success=success and math.isfinite(width),
                        message=message)


@dataclass(frozen=True)
class LayerThickness:
    """Thickness of a surface layer from a proxigram, with its counting σ.

    ``plateau_ions`` is the median ion count per bin inside the layer; the specimen's top
    surface is where the count falls to half of it.
    """

    thickness_nm: float
    sigma_nm: float
    plateau_ions: float
    n_layer_ions: int
    side: str


def surface_layer_thickness_from_proxigram(profile: Profile, *,
                                           side: str = "low") -> LayerThickness:
    """Thickness of the layer between an isosurface and the specimen's top surface.

    The proxigram, taken on an isosurface of the layer's element and wider than the layer
    on its side, holds ions from the isosurface (distance 0) out to the top surface; past it
    the counts drop to zero. The top surface is where the ion count per bin falls to half
    the layer's plateau (median of the layer's bins holding at least a quarter of the
    largest), linearly interpolated between bin centres; the thickness is its distance from
    the isosurface. σ: the Poisson σ of the count at the crossing over the local slope
    (counting only; the top surface's own roughness and blur are not in it).

    Parameters
    ----------
    profile : Profile
        From :func:`proxigram`.
    side : {"low", "high"}
        The layer's side: ``"low"`` for a depleted layer (negative distances).
    """
    if side not in ("low", "high"):
        raise ParameterError(f"side must be 'low' or 'high', got {side!r}")
    centre = profile.center_nm
    counts = profile.ion_counts.astype(np.float64)
    on_side = centre < 0 if side == "low" else centre > 0
    if not on_side.any():
        raise ParameterError("the proxigram has no bins on the layer's side of the surface; "
                             "widen distance_range_nm")
    dist = np.abs(centre[on_side])
    c = counts[on_side]
    order = np.argsort(dist)
    dist, c = dist[order], c[order]
    if c.max() <= 0:
        raise ParameterError("no ions on the layer's side of the surface")
    plateau = float(np.median(c[c >= 0.25 * c.max()]))
    first_full = int(np.argmax(c >= 0.5 * plateau))
    below = np.flatnonzero((c < 0.5 * plateau) & (np.arange(c.size) > first_full))
    if below.size == 0:
        raise ParameterError("the proxigram does not reach the top surface on the layer's "
                             "side; widen distance_range_nm")
    k = int(below[0])
    half = 0.5 * plateau
    slope = (c[k] - c[k - 1]) / (dist[k] - dist[k - 1])
    thickness = float(dist[k - 1] + (half - c[k - 1]) / slope)
    sigma = float(math.sqrt(half) / abs(slope)) if slope != 0 else math.nan
    n_layer = int(c[: k].sum())
    return LayerThickness(thickness_nm=thickness, sigma_nm=sigma, plateau_ions=plateau,
                          n_layer_ions=n_layer, side=side)


def layer_depth_from_profile(profile: Profile, *, element: str, threshold: float) -> float:
    """Depth where a 1-D profile's atom fraction of ``element`` first crosses ``threshold``.

    Linear interpolation between bin centres (NaN when it never crosses): the 1-D value
    to set beside :func:`surface_layer_thickness_from_proxigram` at the same threshold.
    """
    if element not in profile.elements:
        raise ParameterError(f"{element!r} is not in the profile ({', '.join(profile.elements)})")
    f = profile.fractions[:, profile.elements.index(element)]
    x = profile.center_nm
    ok = np.isfinite(f)
    f, x = f[ok], x[ok]
    if f.size < 2:
        return math.nan
    above = f >= threshold
    change = np.flatnonzero(above[1:] != above[:-1])
    if change.size == 0:
        return math.nan
    k = int(change[0])
    return float(x[k] + (threshold - f[k]) * (x[k + 1] - x[k]) / (f[k + 1] - f[k]))

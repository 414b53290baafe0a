"""Delocalised concentration fields on a voxel grid, and 2-D concentration maps.

Atoms of one element and of all elements are counted per voxel (molecular ions decomposed,
atoms at the ion's position) and both grids are smoothed by the same Gaussian of standard
deviation ``delocalization_nm`` (delocalisation; Hellman et al. 2000). The concentration is
their ratio; voxels whose smoothed atom count is below ``min_density_fraction`` of the
median are outside the specimen (NaN). Smoothing with ``mode="constant"`` loses the same
share of both grids at the specimen's edge, so the ratio stays unbiased there.

Uncertainty: a smoothed count is a weighted sum of Poisson counts; the ratio's variance is
``c (1 - c) Σw² / n`` for a normalised kernel ``w``, so the fraction carries the binomial σ
of an *effective* number of atoms ``n / Σw²`` (``n`` the smoothed count). Without
delocalisation ``Σw² = 1`` and σ is the plain binomial σ of the voxel's atoms.

2-D maps (:func:`concentration_map`) bin the atoms of a slab (``slab_nm`` along the map's
normal, any thickness, default the whole specimen: a projection) on square pixels, with the
same optional delocalisation and σ in the map plane.

Reference: O. C. Hellman, J. A. Vandenbroucke, J. Rüsing, D. Isheim, D. N. Seidman,
Microsc. Microanal. 6 (2000) 437 (delocalisation, isoconcentration surfaces, proxigrams).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liprobe.apt._voxel_kernels import voxelise
from liprobe.apt.species import atoms_per_species, element_index, species_per_ion
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["ConcentrationField", "ConcentrationMap", "concentration_field",
           "concentration_map", "MAP_AXES"]

#: In-plane axes of a map for each normal axis.
MAP_AXES = {"x": ("y", "z"), "y": ("x", "z"), "z": ("x", "y")}
_MAX_VOXELS = 400_000_000


def _kernel_square_sum(sigma_px: float) -> float:
    """Σw² of the normalised 1-D Gaussian kernel scipy applies (1 without smoothing)."""
    from scipy import ndimage

    if sigma_px <= 0:
        return 1.0
    half = int(4.0 * sigma_px + 0.5) + 1
    delta = np.zeros(2 * half + 1)
    delta[half] = 1.0
    w = ndimage.gaussian_filter1d(delta, sigma_px, mode="constant")
    return float(np.sum(w * w))


def _fraction_sigma(solute, total, effective, inside):
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(inside, solute / np.where(total > 0, total, 1.0), np.nan)
        n_eff = total * effective
        sigma = np.where(inside, np.sqrt(np.clip(frac * (1 - frac), 0, None) / n_eff), np.nan)
    return frac, sigma


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not (np.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        raise ParameterError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


@dataclass(frozen=True, eq=False)
class ConcentrationField:
    """Delocalised atom counts of one element and of all elements on a voxel grid.

    Attributes
    ----------
    element : str
    origin_nm : (3,) float64
        Corner of voxel ``(0, 0, 0)``; voxel ``(i, j, k)`` is centred at
        ``origin_nm + (i + 0.5, j + 0.5, k + 0.5) * voxel_nm``.
    voxel_nm, delocalization_nm : float
    solute_atoms, total_atoms : (nx, ny, nz) float32
        Smoothed atoms of ``element`` and of all elements per voxel.
    min_atoms : float
        Voxels with fewer smoothed atoms are outside the specimen.
    kernel_square_sum : float
        Σw² of the normalised 3-D kernel (1 without delocalisation).
    """

    element: str
    origin_nm: np.ndarray
    voxel_nm: float
    delocalization_nm: float
    solute_atoms: np.ndarray
    total_atoms: np.ndarray
    min_atoms: float
    kernel_square_sum: float

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape ``(nx, ny, nz)``."""
        return tuple(int(n) for n in self.total_atoms.shape)

    @property
    def inside(self) -> np.ndarray:
        """Boolean grid: voxels inside the specimen."""
        return self.total_atoms >= self.min_atoms

    @property
    def fraction(self) -> np.ndarray:
        """Atom fraction of ``element`` per voxel (float32; NaN outside)."""
        return _fraction_sigma(self.solute_atoms, self.total_atoms, 1.0 / self.kernel_square_sum,
                               self.inside)[0].astype(np.float32)

    @property
    def sigma(self) -> np.ndarray:
        """Binomial σ of :attr:`fraction` with the effective atom count ``n / Σw²``."""
        return _fraction_sigma(self.solute_atoms, self.total_atoms, 1.0 / self.kernel_square_sum,
                               self.inside)[1].astype(np.float32)

    def centers_nm(self, axis: int) -> np.ndarray:
        """Voxel-centre coordinates along ``axis`` (0, 1, 2)."""
        return self.origin_nm[axis] + (np.arange(self.shape[axis]) + 0.5) * self.voxel_nm


def _grid(xyz: np.ndarray, voxel_nm: float, bounds_nm) -> tuple[np.ndarray, tuple[int, ...]]:
    if bounds_nm is None:
        lo = xyz.min(axis=0).astype(np.float64)
        hi = xyz.max(axis=0).astype(np.float64)
    else:
        b = np.asarray(bounds_nm, dtype=np.float64)
        if b.shape != (3, 2) or np.any(b[:, 1] <= b[:, 0]):
            raise ParameterError("bounds_nm must be [[xmin, xmax], [ymin, ymax], [zmin, zmax]]")
        lo, hi = b[:, 0], b[:, 1]
    shape = tuple(int(v) for v in np.floor((hi - lo) / voxel_nm).astype(np.int64) + 1)
    if np.prod(shape, dtype=np.int64) > _MAX_VOXELS:
        raise ParameterError(f"voxel grid {shape} is too large; raise voxel_nm")
    return lo, shape


def _native(xyz: np.ndarray) -> np.ndarray:
    return xyz if xyz.dtype == np.float32 and xyz.dtype.isnative else xyz.astype(np.float32)


def concentration_field(
    ions: IonTable, ranges: RangeTable, *, element: str = "Li", voxel_nm: float = 1.0,
    delocalization_nm: float = 1.5, min_density_fraction: float = 0.5, bounds_nm=None,
    overlap: str = "error", species: np.ndarray | None = None,
) -> ConcentrationField:
    """Delocalised concentration of ``element`` on a voxel grid (see the module docstring).

    Parameters
    ----------
    ions, ranges : IonTable, RangeTable
    element : str
        The element whose fraction the field holds.
    voxel_nm : float
        Voxel edge (nm).
    delocalization_nm : float
        σ of the Gaussian applied to both count grids (0: none).
    min_density_fraction : float
        Voxels below this fraction of the median smoothed atom count are outside.
    bounds_nm : (3, 2) array, optional
        Grid extent (default the ions' bounding box).
    overlap : str
        Passed to the ranging step.
    species : (N,) int array, optional
        Precomputed species index per ion, to skip ranging.

    Returns
    -------
    ConcentrationField

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.synth.features3d import feature_ranges, generate_precipitate
    >>> ions, truth = generate_precipitate(rng=np.random.default_rng(0), box_nm=(16, 16, 16),
    ...                                    radius_nm=4.0)
    >>> field = concentration_field(ions, feature_ranges(), element="Li")
    >>> centre = field.fraction[8, 8, 8]; bool(abs(centre - 0.6) < 0.1)
    True
    """
    from scipy import ndimage

    voxel_nm = _positive("voxel_nm", voxel_nm)
    delocalization_nm = _positive("delocalization_nm", delocalization_nm, allow_zero=True)
    elements, atoms = atoms_per_species(ranges)
    (col,) = element_index(elements, [element], what="concentration field")
    species = species_per_ion(ions, ranges, overlap=overlap, known=species)
    if ions.n_ions == 0:
        raise ParameterError("the ion table is empty: no concentration field")
    xyz = _native(ions.xyz_nm)
    lo, shape = _grid(xyz, voxel_nm, bounds_nm)
    solute, total = voxelise(xyz[:, 0], xyz[:, 1], xyz[:, 2], np.asarray(species, np.int32),
                             atoms[:, col].astype(np.float32),
                             atoms.sum(axis=1).astype(np.float32),
                             lo[0], lo[1], lo[2], float(voxel_nm), *shape)
    sigma_vox = delocalization_nm / voxel_nm
    if sigma_vox > 0:
        solute = ndimage.gaussian_filter(solute, sigma_vox, mode="constant", output=np.float32)
        total = ndimage.gaussian_filter(total, sigma_vox, mode="constant", output=np.float32)
    positive = total[total > 0]
    if positive.size == 0:
        raise ParameterError("no ranged atoms in the grid: check the range table")
    min_atoms = max(float(min_density_fraction) * float(np.median(positive)), 1e-6)
    return ConcentrationField(
        element=element, origin_nm=lo, voxel_nm=voxel_nm, delocalization_nm=delocalization_nm,
        solute_atoms=solute, total_atoms=total, min_atoms=min_atoms,
        kernel_square_sum=_kernel_square_sum(sigma_vox) ** 3)


@dataclass(frozen=True, eq=False)
class ConcentrationMap:
    """A 2-D concentration map of one element with σ per pixel.

    ``solute_atoms[i, j]`` and ``total_atoms[i, j]`` are (smoothed) atoms in pixel ``i``
    along ``plane_axes[0]`` and ``j`` along ``plane_axes[1]``; ``slab_nm`` is the range
    along ``axis`` that was summed (the ions' full extent for a projection).
    """

    element: str
    axis: str
    plane_axes: tuple[str, str]
    origin_nm: tuple[float, float]
    pixel_nm: float
    slab_nm: tuple[float, float]
    delocalization_nm: float
    solute_atoms: np.ndarray
    total_atoms: np.ndarray
    min_atoms: float
    kernel_square_sum: float

    @property
    def thickness_nm(self) -> float:
        """Slab thickness along the map's normal."""
        return self.slab_nm[1] - self.slab_nm[0]

    @property
    def fraction(self) -> np.ndarray:
        """Atom fraction per pixel (NaN where fewer than ``min_atoms``)."""
        return _fraction_sigma(self.solute_atoms, self.total_atoms, 1.0 / self.kernel_square_sum,
                               self.total_atoms >= self.min_atoms)[0]

    @property
    def sigma(self) -> np.ndarray:
        """Binomial σ of :attr:`fraction` (effective atom count ``n / Σw²``)."""
        return _fraction_sigma(self.solute_atoms, self.total_atoms, 1.0 / self.kernel_square_sum,
                               self.total_atoms >= self.min_atoms)[1]

    @property
    def extent_nm(self) -> tuple[float, float, float, float]:
        """``(u_min, u_max, v_min, v_max)`` of the map (for ``imshow(extent=...)``)."""
        nu, nv = self.total_atoms.shape
        u0, v0 = self.origin_nm
        return (u0, u0 + nu * self.pixel_nm, v0, v0 + nv * self.pixel_nm)

    def to_dict(self) -> dict:
        """JSON-ready dict (the fraction and σ grids as nested lists, NaN as None)."""
        return {"element": self.element, "axis": self.axis, "plane_axes": list(self.plane_axes),
                "origin_nm": list(self.origin_nm), "pixel_nm": self.pixel_nm,
                "slab_nm": list(self.slab_nm), "thickness_nm": self.thickness_nm,
                "delocalization_nm": self.delocalization_nm, "shape": list(self.fraction.shape),
                "fraction": self.fraction, "sigma": self.sigma,
                "n_atoms": self.total_atoms.sum()}


def concentration_map(
    ions: IonTable, ranges: RangeTable, *, element: str = "Li", axis: str = "z",
    pixel_nm: float = 1.0, slab_nm: tuple[float, float] | None = None,
    delocalization_nm: float = 0.0, min_atoms: float = 1.0, overlap: str = "error",
    species: np.ndarray | None = None,
) -> ConcentrationMap:
    """Map of ``element``'s atom fraction in the plane normal to ``axis``.

    Parameters
    ----------
    axis : {"x", "y", "z"}
        The map's normal: the direction summed over.
    pixel_nm : float
        Square pixel edge.
    slab_nm : (low, high), optional
        Only ions with ``low <= coordinate < high`` along ``axis`` (any thickness); default
        every ion (a projection).
    delocalization_nm : float
        σ of an in-plane Gaussian applied to both count maps (0: none).
    min_atoms : float
        Pixels with fewer (smoothed) atoms are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.synth.features3d import feature_ranges, generate_interface
    >>> ions, truth = generate_interface(rng=np.random.default_rng(0), box_nm=(10, 10, 20),
    ...                                  width_nm=0.0)
    >>> m = concentration_map(ions, feature_ranges(), element="Li", axis="x", pixel_nm=2.0)
    >>> bool(np.nanmean(m.fraction[:, :4]) < 0.1 < 0.3 < np.nanmean(m.fraction[:, -4:]))
    True
    """
    from scipy import ndimage

    if axis not in MAP_AXES:
        raise ParameterError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    pixel_nm = _positive("pixel_nm", pixel_nm)
    delocalization_nm = _positive("delocalization_nm", delocalization_nm, allow_zero=True)
    elements, atoms = atoms_per_species(ranges)
    (col,) = element_index(elements, [element], what="concentration map")
    species = np.asarray(species_per_ion(ions, ranges, overlap=overlap, known=species))
    xyz = ions.xyz_nm
    normal = xyz[:, "xyz".index(axis)]
    keep = species >= 0
    if slab_nm is not None:
        low, high = (float(v) for v in slab_nm)
        if not high > low:
            raise ParameterError(f"slab_nm must be (low, high) with high > low, got {slab_nm}")
        keep &= (normal >= low) & (normal < high)
    else:
        low, high = float(normal.min()), float(normal.max())
    if not keep.any():
        raise ParameterError(f"no ranged ions in the slab {slab_nm} along {axis}")
    u_name, v_name = MAP_AXES[axis]
    u = xyz[keep, "xyz".index(u_name)].astype(np.float64)
    v = xyz[keep, "xyz".index(v_name)].astype(np.float64)
    u0, v0 = float(xyz[:, "xyz".index(u_name)].min()), float(xyz[:, "xyz".index(v_name)].min())
    nu = int((float(xyz[:, "xyz".index(u_name)].max()) - u0) // pixel_nm) + 1
    nv = int((float(xyz[:, "xyz".index(v_name)].max()) - v0) // pixel_nm) + 1
    pixel = (np.minimum(((u - u0) / pixel_nm).astype(np.int64), nu - 1) * nv
             + np.minimum(((v - v0) / pixel_nm).astype(np.int64), nv - 1))
    s = species[keep]
    solute = np.bincount(pixel, atoms[s, col].astype(np.float64), nu * nv).reshape(nu, nv)
    total = np.bincount(pixel, atoms[s].sum(axis=1).astype(np.float64),
                        nu * nv).reshape(nu, nv)
    sigma_px = delocalization_nm / pixel_nm
    if sigma_px > 0:
        solute = ndimage.gaussian_filter(solute, sigma_px, mode="constant")
        total = ndimage.gaussian_filter(total, sigma_px, mode="constant")
    return ConcentrationMap(
        element=element, axis=axis, plane_axes=(u_name, v_name), origin_nm=(u0, v0),
        pixel_nm=pixel_nm, slab_nm=(low, high), delocalization_nm=delocalization_nm,
        solute_atoms=solute, total_atoms=total, min_atoms=float(min_atoms),
        kernel_square_sum=_kernel_square_sum(sigma_px) ** 2)

"""Regions of interest: cylinder, box and sphere selections, composable.

Each shape is a small frozen dataclass with ``.mask(xyz_nm) -> bool array``; shapes
combine with ``&`` (intersection), ``|`` (union), ``-`` (difference) and ``~``
(complement) into new regions. The ``mask_*`` functions are the one-shot forms. Masks
pick ions with :meth:`liprobe.data.IonTable.take`.

Reference: the cylinder/box/sphere ROIs of IVAS/AP Suite and 3Depict (D. Haley,
https://threedepict.sourceforge.net), evaluated here point-wise in float32 without copying
the positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError

__all__ = [
    "Region", "Cylinder", "Box", "Sphere",
    "mask_cylinder", "mask_box", "mask_sphere",
]


def _vec3(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be 3 finite numbers (nm), got {value!r}")
    return arr


def _positive(value: float, name: str) -> float:
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"{name} must be a positive number of nm, got {value}")
    return float(value)


def _xyz(xyz_nm) -> np.ndarray:
    xyz = np.asarray(xyz_nm)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ParameterError(f"positions must have shape (N, 3), got {xyz.shape}")
    return xyz


class Region:
    """Base of the composable regions."""

    def mask(self, xyz_nm: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Boolean mask of the points inside."""
        raise NotImplementedError

    def __and__(self, other: Region) -> Region:
        return _Combined("and", (self, other))

    def __or__(self, other: Region) -> Region:
        return _Combined("or", (self, other))

    def __sub__(self, other: Region) -> Region:
        return _Combined("and", (self, _Combined("not", (other,))))

    def __invert__(self) -> Region:
        return _Combined("not", (self,))


@dataclass(frozen=True)
class _Combined(Region):
    op: str
    parts: tuple[Region, ...]

    def mask(self, xyz_nm: np.ndarray) -> np.ndarray:
        if self.op == "not":
            return ~self.parts[0].mask(xyz_nm)
        left, right = (p.mask(xyz_nm) for p in self.parts)
        return (left & right) if self.op == "and" else (left | right)


@dataclass(frozen=True)
class Sphere(Region):
    """Points within ``radius_nm`` of ``center_nm``."""

    center_nm: tuple[float, float, float]
    radius_nm: float

    def mask(self, xyz_nm: np.ndarray) -> np.ndarray:
        return mask_sphere(xyz_nm, center_nm=self.center_nm, radius_nm=self.radius_nm)


@dataclass(frozen=True)
class Box(Region):
    """Axis-aligned box ``lower_nm <= p < upper_nm`` per axis."""

    lower_nm: tuple[float, float, float]
    upper_nm: tuple[float, float, float]

    def mask(self, xyz_nm: np.ndarray) -> np.ndarray:
        return mask_box(xyz_nm, lower_nm=self.lower_nm, upper_nm=self.upper_nm)


@dataclass(frozen=True)
class Cylinder(Region):
    """Cylinder of ``radius_nm`` around the segment centred at ``center_nm`` along ``axis``,
    ``length_nm`` long."""

    center_nm: tuple[float, float, float]
    radius_nm: float
    length_nm: float
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def mask(self, xyz_nm: np.ndarray) -> np.ndarray:
        return mask_cylinder(xyz_nm, center_nm=self.center_nm, radius_nm=self.radius_nm,
                             length_nm=self.length_nm, axis=self.axis)


def mask_sphere(xyz_nm: np.ndarray, *, center_nm, radius_nm: float) -> np.ndarray:
    """Points within ``radius_nm`` of ``center_nm``.

    Examples
    --------
    >>> import numpy as np
    >>> mask_sphere(np.array([[0, 0, 0], [2, 0, 0]], np.float32), center_nm=(0, 0, 0),
    ...             radius_nm=1.0).tolist()
    [True, False]
    """
    xyz = _xyz(xyz_nm)
    c = _vec3(center_nm, "center_nm").astype(np.float32)
    r = _positive(radius_nm, "radius_nm")
    d2 = np.zeros(xyz.shape[0], np.float32)
    for k in range(3):
        diff = xyz[:, k] - c[k]
        d2 += diff * diff
    return d2 <= np.float32(r * r)


def mask_box(xyz_nm: np.ndarray, *, lower_nm, upper_nm) -> np.ndarray:
    """Points with ``lower_nm[k] <= p[k] < upper_nm[k]`` on every axis."""
    xyz = _xyz(xyz_nm)
    lo = _vec3(lower_nm, "lower_nm")
    hi = _vec3(upper_nm, "upper_nm")
    if np.any(hi <= lo):
        raise ParameterError(f"upper_nm {tuple(hi)} must exceed lower_nm {tuple(lo)} on every axis")
    mask = np.ones(xyz.shape[0], bool)
    for k in range(3):
        col = xyz[:, k]
        mask &= (col >= np.float32(lo[k])) & (col < np.float32(hi[k]))
    return mask


def mask_cylinder(
    xyz_nm: np.ndarray, *, center_nm, radius_nm: float, length_nm: float,
    axis=(0.0, 0.0, 1.0),
) -> np.ndarray:
    """Points inside a cylinder: within ``radius_nm`` of the axis line through ``center_nm``
    and within ``length_nm / 2`` of ``center_nm`` along ``axis``."""
    xyz = _xyz(xyz_nm)
    c = _vec3(center_nm, "center_nm")
    a = _vec3(axis, "axis")
    norm = np.linalg.norm(a)
    if norm == 0:
        raise ParameterError("axis must not be the zero vector")
    a = (a / norm).astype(np.float32)
    r = _positive(radius_nm, "radius_nm")
    half = 0.5 * _positive(length_nm, "length_nm")
    along = np.zeros(xyz.shape[0], np.float32)
    d2 = np.zeros(xyz.shape[0], np.float32)
    for k in range(3):
        diff = xyz[:, k] - np.float32(c[k])
        along += diff * a[k]
        d2 += diff * diff
    d2 -= along * along
    return (np.abs(along) <= np.float32(half)) & (d2 <= np.float32(r * r))

"""The depleted surface layer of a specimen, measured in 3-D and along the 1-D profile.

One call for studies and reports: from the ions, the 1-D profile along the analysis
direction gives the surface and bulk fractions of ``element`` and the depth where it crosses
their midpoint (the threshold, unless given); the delocalised field's isosurface at that
threshold and its proxigram give the layer's thickness along the surface normal, measured
from the isosurface to the specimen's top (see
:func:`liprobe.apt.proxigram.surface_layer_thickness_from_proxigram`). Both values are
returned side by side: they agree for a layer parallel to the top surface, and differ when
the layer boundary is tilted or curved (the 1-D value then averages over the cross-section).

A specimen without a layer (surface and bulk fractions equal within counting noise) has
no meaningful threshold: ``contrast_sigma`` states the surface-bulk difference in σ, and
with ``min_contrast_sigma`` / ``min_relative_contrast`` the measurement stops there
(thickness NaN, ``found`` False, ``reason`` saying why) instead of meshing noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liprobe.apt.field import concentration_field
from liprobe.apt.isosurface import IsosurfaceSet, find_isosurfaces
from liprobe.apt.profiles import Profile, concentration_profile
from liprobe.apt.proxigram import (
    layer_depth_from_profile,
    proxigram,
    surface_layer_thickness_from_proxigram,
)
from liprobe.apt.ranging import species_per_ion
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["SurfaceLayer", "measure_surface_layer"]


@dataclass(frozen=True, eq=False)
class SurfaceLayer:
    """A surface layer's thickness from the proxigram and from the 1-D profile.

    ``thickness_nm`` (± ``sigma_nm``, counting only) is the proxigram's; ``profile_depth_nm``
    the 1-D profile's crossing depth (from the first ion) at the same ``threshold``.
    ``contrast_sigma``: ``|bulk - surface|`` over its counting σ. When the contrast is
    below the caller's minimum, ``found`` is False, the thicknesses NaN, ``reason`` says
    why and ``proxigram``/``surfaces`` are None. ``surfaces`` is the isosurface set the
    proxigram was taken on (for figures).
    """

    element: str
    threshold: float
    surface_fraction: float
    bulk_fraction: float
    thickness_nm: float
    sigma_nm: float
    profile_depth_nm: float
    n_surfaces: int
    surface_area_nm2: float
    proxigram: Profile | None = field(repr=False)
    profile: Profile = field(repr=False)
    contrast_sigma: float = math.nan
    found: bool = True
    reason: str = ""
    surfaces: IsosurfaceSet | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (without the profiles)."""
        return {"element": self.element, "threshold": self.threshold,
                "surface_fraction": self.surface_fraction, "bulk_fraction": self.bulk_fraction,
                "thickness_nm": self.thickness_nm, "sigma_nm": self.sigma_nm,
                "profile_depth_nm": self.profile_depth_nm, "n_surfaces": self.n_surfaces,
                "surface_area_nm2": self.surface_area_nm2,
                "contrast_sigma": self.contrast_sigma, "found": self.found,
                "reason": self.reason}


def _plateau(frac: np.ndarray, sigma: np.ndarray, select: np.ndarray) -> tuple[float, float]:
    """Median of the selected bins and its σ (1.25 x the σ of their mean, for the median)."""
    f, s = frac[select], sigma[select]
    ok = np.isfinite(f) & np.isfinite(s)
    if not ok.any():
        return math.nan, math.nan
    return (float(np.median(f[ok])),
            1.2533 * float(np.sqrt(np.sum(s[ok] ** 2))) / int(ok.sum()))


def measure_surface_layer(
    ions: IonTable, ranges: RangeTable, *, element: str = "Li", threshold: float | None = None,
    voxel_nm: float = 1.0, delocalization_nm: float = 1.5, bin_nm: float = 0.5,
    max_distance_nm: float | None = None, min_area_nm2: float = 50.0,
    overlap: str = "error", species: np.ndarray | None = None,
    min_contrast_sigma: float = 0.0, min_relative_contrast: float = 0.0,
) -> SurfaceLayer:
    """Thickness of the layer at the specimen's top where ``element`` differs from the bulk.

    Parameters
    ----------
    element : str
        The depleted (or enriched) element.
    threshold : float, optional
        Atom fraction of the isosurface; default the midpoint of the 1-D profile's surface
        value (median of its bins 0.5-2.5 nm deep) and bulk value (median of its deeper half).
    voxel_nm, delocalization_nm : float
        Field of :func:`liprobe.apt.field.concentration_field`.
    bin_nm : float
        Bin of the 1-D profile and the proxigram.
    max_distance_nm : float, optional
        Proxigram range ± (default ``max(10, 3 x`` the 1-D depth ``)``).
    min_area_nm2 : float
        Smaller isosurfaces (noise) are dropped.
    min_contrast_sigma, min_relative_contrast : float
        No layer (``found`` False, NaN thickness) unless ``|bulk - surface|`` is at least
        this many σ (counting) and this fraction of the bulk value (default 0: always
        measure).

    Returns
    -------
    SurfaceLayer
    """
    if species is None:
        species = species_per_ion(ions.mass_to_charge_da, ranges, overlap=overlap)
    line = concentration_profile(ions, ranges, bin_nm=bin_nm, species=species)
    if element not in line.elements:
        raise ParameterError(f"{element!r} is not in the range table "
                             f"({', '.join(line.elements)})")
    column = line.elements.index(element)
    frac, sig = line.fractions[:, column], line.sigmas[:, column]
    depth = line.center_nm
    top_bins, bulk_bins = (depth > 0.5) & (depth < 2.5), depth > 0.5 * depth[-1]
    if not top_bins.any() or not bulk_bins.any():
        raise ParameterError("the specimen is too short for a surface layer (under ~5 nm)")
    surface_value, surface_sigma = _plateau(frac, sig, top_bins)
    bulk_value, bulk_sigma = _plateau(frac, sig, bulk_bins)
    difference = abs(bulk_value - surface_value)
    contrast = difference / math.hypot(surface_sigma, bulk_sigma) if (
        surface_sigma > 0 or bulk_sigma > 0) else math.inf
    level = 0.5 * (surface_value + bulk_value) if threshold is None else float(threshold)
    weak = []
    if not contrast >= float(min_contrast_sigma):
        weak.append(f"{contrast:.1f} σ")
    if not difference >= float(min_relative_contrast) * abs(bulk_value):
        weak.append(f"{100 * difference / abs(bulk_value) if bulk_value else math.nan:.0f} % "
                    "of the bulk value")
    if weak:
        return SurfaceLayer(
            element=element, threshold=level, surface_fraction=surface_value,
            bulk_fraction=bulk_value, thickness_nm=math.nan, sigma_nm=math.nan,
            profile_depth_nm=math.nan, n_surfaces=0, surface_area_nm2=0.0, proxigram=None,
            profile=line, contrast_sigma=contrast, found=False,
            reason=(f"no surface layer: the {element} fraction at the top "
                    f"({surface_value:.3f}) and in the bulk ({bulk_value:.3f}) differ by "
                    f"{' and '.join(weak)} (needed: {min_contrast_sigma:g} σ and "
                    f"{100 * min_relative_contrast:g} %)"))
    one_d = layer_depth_from_profile(line, element=element, threshold=level)
    if max_distance_nm is not None:
        reach = float(max_distance_nm)
    else:
        reach = 10.0 if math.isnan(one_d) else max(10.0, 3.0 * one_d)
    surfaces = find_isosurfaces(
        concentration_field(ions, ranges, element=element, voxel_nm=voxel_nm,
                            delocalization_nm=delocalization_nm, species=species),
        threshold=level, min_area_nm2=min_area_nm2)
    p = proxigram(ions, ranges, surfaces, bin_nm=bin_nm, distance_range_nm=(-reach, reach),
                  species=species)
    layer = surface_layer_thickness_from_proxigram(
        p, side="low" if surface_value < bulk_value else "high")
    return SurfaceLayer(element=element, threshold=level, surface_fraction=surface_value,
                        bulk_fraction=bulk_value, thickness_nm=layer.thickness_nm,
                        sigma_nm=layer.sigma_nm, profile_depth_nm=one_d,
                        n_surfaces=len(surfaces.surfaces),
                        surface_area_nm2=float(sum(s.area_nm2 for s in surfaces.surfaces)),
                        proxigram=p, profile=line, contrast_sigma=contrast,
                        surfaces=surfaces)

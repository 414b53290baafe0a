"""One pass of the HAADF measurement: surface, lattice, columns, sites, site intensities.

Used identically for the analysed image and for its reference, so that R and R0 get
the same background and integration treatment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError
from liprobe.stem.columns import Columns, detect_columns, find_columns, refine_columns
from liprobe.stem.lattice import LatticeFFT, cation_plane_orientations, measure_lattice_fft
from liprobe.stem.layers import LayerSites, index_layers, site_intensities
from liprobe.stem.surface import Surface, find_surface

__all__ = ["Measurement", "measure_sites"]


@dataclass(frozen=True, eq=False)
class Measurement:
    """Everything measured on one image (internal)."""

    pixel_size_nm: float
    surface: Surface
    lattice: LatticeFFT
    columns: Columns
    sites: LayerSites
    intensity: np.ndarray  # raw site intensities (no background subtracted)
    in_material: np.ndarray  # sites inside the particle
    depth_nm: np.ndarray  # site depth below the surface (NaN when no surface)
    probe_sigma_nm: float
    background: float


def measure_sites(
    pixels: np.ndarray,
    *,
    pixel_size_nm: float,
    probe_fwhm_nm: float | None = None,
    surface: str = "auto",
    background: float | None = None,
    threshold: float = 0.25,
    orientation_deg: float | None = None,
) -> Measurement:
    """Run surface finding, FFT lattice, column detection/refinement and site indexing."""
    if pixel_size_nm is None or not pixel_size_nm > 0:
        raise ParameterError(
            "the image has no pixel size; pass pixel_size_nm= (CLI: --pixel-size-nm X)"
        )
    if surface not in ("auto", "none"):
        raise ParameterError(f"surface must be 'auto' or 'none', got {surface!r}")
    img = np.asarray(pixels, dtype=np.float32)
    ps = float(pixel_size_nm)
    if surface == "auto":
        surf = find_surface(img, pixel_size_nm=ps)
    else:
        surf = Surface(False, np.ones(img.shape, bool), np.full(img.shape, np.nan, np.float32),
                       math.nan, math.nan, ps)
    lattice = measure_lattice_fft(img, pixel_size_nm=ps, orientation_deg=orientation_deg)
    sigma_nm = 0.038 if probe_fwhm_nm is None else probe_fwhm_nm / 2.3548
    mask = surf.material if surf.found else None
    columns = find_columns(img, pixel_size_nm=ps, probe_sigma_nm=sigma_nm, threshold=threshold,
                           mask=mask)
    if columns.n_columns < 6:
        raise ParameterError(
            f"only {columns.n_columns} atomic columns found; check the pixel size "
            f"({ps} nm) and that the image shows a lattice"
        )
    if probe_fwhm_nm is None:
        ok = columns.converged
        sigma_nm = float(np.median(columns.sigma_px[ok])) * ps if ok.any() else sigma_nm
        peaks = detect_columns(img, pixel_size_nm=ps, smooth_nm=0.6 * sigma_nm,
                               threshold=threshold, mask=mask)
        columns = refine_columns(img, peaks, sigma_px=sigma_nm / ps)
    radius_px = max(1.5, 1.2 * sigma_nm / ps)
    # the c axis is the cation-plane family with the strongest TM / Li plane contrast:
    # evaluate the (003) candidate and the other {111}-type families (in rock-salt and
    # spinel-like regions their reflections look alike) and keep the lowest R
    candidates: list[tuple[float, LatticeFFT, LayerSites, np.ndarray]] = []
    error = _consider(img, ps, surf, columns, lattice, radius_px, candidates)
    if orientation_deg is None:
        for angle in cation_plane_orientations(img, pixel_size_nm=ps):
            if any(_angle_diff(angle, c[1].orientation_deg) < 10.0 for c in candidates) \
                    or _angle_diff(angle, lattice.orientation_deg) < 10.0:
                continue
            try:
                other = measure_lattice_fft(img, pixel_size_nm=ps, orientation_deg=angle)
            except ParameterError:
                continue
            _consider(img, ps, surf, columns, other, radius_px, candidates)
    if not candidates:
        raise error
    _, lattice, sites, intensity = min(candidates, key=lambda c: c[0])
    in_material = _in_material(surf, sites, img.shape)
    depth = (surf.depth_at(sites.x_px, sites.y_px) if surf.found
             else np.full(sites.n_sites, np.nan))
    if background is None:
        background = surf.outside_level if surf.found else 0.0
    return Measurement(ps, surf, lattice, columns, sites, intensity, in_material, depth,
                       sigma_nm, float(background))


def _angle_diff(a: float, b: float) -> float:
    return abs((a - b + 90.0) % 180.0 - 90.0)


def _in_material(surf: Surface, sites: LayerSites, shape) -> np.ndarray:
    if not surf.found:
        return np.ones(sites.n_sites, bool)
    rows = np.clip(np.round(sites.y_px).astype(int), 0, shape[0] - 1)
    cols = np.clip(np.round(sites.x_px).astype(int), 0, shape[1] - 1)
    return surf.material[rows, cols] & (surf.depth_at(sites.x_px, sites.y_px) >= 0)


def _consider(img, ps, surf, columns, lattice, radius_px, candidates):
    """Index with ``lattice``; append (R, lattice, sites, intensities) or return the error."""
    try:
        sites = index_layers(columns, lattice, pixel_size_nm=ps, shape_px=img.shape)
    except ParameterError as exc:
        return exc
    intensity = site_intensities(img, sites.x_px, sites.y_px, radius_px=radius_px)
    inside = _in_material(surf, sites, img.shape)
    tm = inside & (sites.site == 0)
    li = inside & (sites.site == 1)
    if tm.sum() < 2 or li.sum() < 2:
        return ParameterError("too few TM and Li sites inside the particle to measure R")
    ratio = float(np.mean(intensity[li])) / max(float(np.mean(intensity[tm])), 1e-300)
    candidates.append((ratio, lattice, sites, intensity))
    return None

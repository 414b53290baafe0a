"""Apex radius and shank angle of an atom-probe needle from its SEM/TEM image.

The outline is the sub-pixel iso-contour (marching squares) of the smoothed image at
Otsu's threshold; the needle axis is the principal axis of the segmented needle, its
apex the narrow end. A circle fitted (geometric least squares) to the outline above
the shank gives the apex radius, straight lines fitted to both flanks the shank
half-angle; the pixel size gives the scale. The result turns into a radius-vs-depth
profile for the ``tip-profile`` reconstruction protocol (:func:`tip_profile_radius`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["TipProfile", "measure_tip_profile", "tip_profile_radius"]


@dataclass(frozen=True, eq=False)
class TipProfile:
    """Needle geometry measured on an image.

    Attributes
    ----------
    apex_radius_nm, apex_radius_sigma_nm : float
    shank_angle_deg, shank_angle_sigma_deg : float
        Half-angle of the shank (half the angle between the flanks) and its standard
        error from the two flank fits, inflated for outline points correlated over the
        smoothing (2 sqrt(pi) ``smoothing_px`` pixels per independent point).
    apex_px : (float, float)
        Apex point (row, column).
    axis_angle_deg : float
        Direction from the apex into the needle, counter-clockwise from "down the image".
    outline_px : (M, 2) float64
        The outline (row, column) used.
    pixel_size_nm : float
    """

    apex_radius_nm: float
    apex_radius_sigma_nm: float
    shank_angle_deg: float
    shank_angle_sigma_deg: float
    apex_px: tuple[float, float]
    axis_angle_deg: float
    outline_px: np.ndarray
    pixel_size_nm: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"apex_radius_nm": self.apex_radius_nm,
                "apex_radius_sigma_nm": self.apex_radius_sigma_nm,
                "shank_angle_deg": self.shank_angle_deg,
                "shank_angle_sigma_deg": self.shank_angle_sigma_deg,
                "apex_px": list(self.apex_px), "axis_angle_deg": self.axis_angle_deg,
                "pixel_size_nm": self.pixel_size_nm}


def _fit_circle(u: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import least_squares

    a = np.column_stack([u, s, np.ones_like(u)])
    b = u**2 + s**2
    (d, e, f), *_ = np.linalg.lstsq(a, b, rcond=None)  # Kasa start
    start = np.array([d / 2, e / 2, math.sqrt(max(f + d * d / 4 + e * e / 4, 1e-9))])
    fit = least_squares(lambda p: np.hypot(u - p[0], s - p[1]) - p[2], start)
    dof = max(u.size - 3, 1)
    sigma2 = float(np.sum(fit.fun**2)) / dof
    cov = np.linalg.pinv(fit.jac.T @ fit.jac) * sigma2
    return fit.x, np.sqrt(np.diag(cov))


def _fit_line(s: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Slope du/ds and its standard error."""
    design = np.column_stack([s, np.ones_like(s)])
    coef, res, *_ = np.linalg.lstsq(design, u, rcond=None)
    dof = max(s.size - 2, 1)
    resid = u - design @ coef
    cov = np.linalg.pinv(design.T @ design) * float(resid @ resid) / dof
    return float(coef[0]), float(math.sqrt(cov[0, 0]))


def measure_tip_profile(pixels: np.ndarray, *, pixel_size_nm: float, needle: str = "bright",
                        smoothing_px: float = 2.0, border_px: int = 4,
                        iterations: int = 4) -> TipProfile:
    """Measure apex radius and shank angle of a needle image.

    Parameters
    ----------
    pixels : (H, W) array
        The image (any numeric dtype).
    pixel_size_nm : float
        Edge of one pixel (e.g. ``Image.pixel_size_nm``).
    needle : {"bright", "dark"}
        Whether the needle is brighter (SEM secondary electrons, HAADF) or darker
        (bright-field TEM) than the background.
    smoothing_px : float
        Gaussian smoothing before the contour (noise suppression).
    border_px : int
        Outline points this close to the image border are not used.

    Returns
    -------
    TipProfile

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.synth.tip_image import needle_image
    >>> img, _ = needle_image(apex_radius_nm=40, shank_angle_deg=8,
    ...                       rng=np.random.default_rng(0))
    >>> tip = measure_tip_profile(img.pixels, pixel_size_nm=img.pixel_size_nm)
    >>> abs(tip.apex_radius_nm / 40 - 1) < 0.1, abs(tip.shank_angle_deg - 8) < 1
    (True, True)
    """
    from skimage.filters import gaussian, threshold_otsu
    from skimage.measure import find_contours, label

    img = np.asarray(pixels, dtype=np.float64)
    if img.ndim != 2 or min(img.shape) < 16:
        raise ParameterError(f"a needle image must be 2-D, at least 16 x 16, got {img.shape}")
    if not (pixel_size_nm and pixel_size_nm > 0):
        raise ParameterError("pixel_size_nm must be > 0 (the image has no calibration: pass "
                             "--pixel-size-nm)")
    if needle not in ("bright", "dark"):
        raise ParameterError(f"needle must be 'bright' or 'dark', got {needle!r}")
    if needle == "dark":
        img = -img
    smooth = gaussian(img, sigma=smoothing_px, preserve_range=True)
    level = float(threshold_otsu(smooth))
    labels = label(smooth > level)
    if labels.max() == 0:
        raise ParameterError("no needle found: the image has no bright region above Otsu's "
                             "threshold (try needle='dark')")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    rows, cols = np.nonzero(labels == int(np.argmax(sizes)))
    pts = np.column_stack([rows, cols]).astype(np.float64)
    center = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - center, full_matrices=False)
    axis = vt[0]
    t = (pts - center) @ axis
    lo, hi = np.percentile(t, [2, 98])
    across = (pts - center) @ np.array([-axis[1], axis[0]])
    width_lo = np.ptp(across[t < lo + 0.1 * (hi - lo)])
    width_hi = np.ptp(across[t > hi - 0.1 * (hi - lo)])
    if width_lo > width_hi:  # the apex is the narrow end: point the axis from it inwards
        axis = -axis
    normal = np.array([-axis[1], axis[0]])

    contours = find_contours(smooth, level)
    outline = max(contours, key=len)
    h, w = img.shape
    keep = ((outline[:, 0] > border_px) & (outline[:, 0] < h - 1 - border_px)
            & (outline[:, 1] > border_px) & (outline[:, 1] < w - 1 - border_px))
    outline = outline[keep]
    if outline.shape[0] < 20:
        raise ParameterError("the needle outline is too short; is the needle inside the image?")
    radius = alpha = math.nan
    params = sig = None
    for _ in range(iterations):
        s_all = (outline - center) @ axis
        apex_point = outline[int(np.argmin(s_all))]
        s = (outline - apex_point) @ axis * pixel_size_nm
        u = (outline - apex_point) @ normal * pixel_size_nm
        if not math.isfinite(radius):
            radius = max(float(np.ptp(u[s < 0.05 * np.ptp(s)])) / 2, 3 * pixel_size_nm)
            alpha = 0.0
        cap = s <= 0.8 * radius * (1 - math.sin(alpha))
        if cap.sum() < 8:
            raise ParameterError("too few outline points on the apex cap; use a finer pixel "
                                 "size or less smoothing")
        params, sig = _fit_circle(u[cap], s[cap])
        radius = float(params[2])
        shank = s >= max(1.5 * radius, s.min() + 2 * radius)
        slopes = []
        for side in (u > 0, u < 0):
            sel = shank & side
            if sel.sum() < 10:
                raise ParameterError("too little of the shank is in the image to fit its angle")
            slopes.append(_fit_line(s[sel], u[sel]))
        (b1, e1), (b2, e2) = slopes
        alpha = 0.5 * (math.atan(b1) - math.atan(b2))
        tilt = 0.5 * (math.atan(b1) + math.atan(b2))  # the flanks' bisector vs the axis
        axis = math.cos(tilt) * axis + math.sin(tilt) * normal
        normal = np.array([-axis[1], axis[0]])
    # outline points are correlated over the smoothing: white noise smoothed by a Gaussian
    # of sigma s has a correlation integral of 2 sqrt(pi) s pixels per independent point
    inflate = math.sqrt(max(1.0, 2 * math.sqrt(math.pi) * smoothing_px))
    angle_sigma = inflate * math.degrees(0.5 * math.sqrt((e1 / (1 + b1 * b1)) ** 2
                                                         + (e2 / (1 + b2 * b2)) ** 2))
    apex_rc = apex_point + (params[1] - radius) / pixel_size_nm * axis \
        + params[0] / pixel_size_nm * normal
    axis_angle = math.degrees(math.atan2(axis[1], axis[0]))
    return TipProfile(radius, inflate * float(sig[2]), math.degrees(abs(alpha)), angle_sigma,
                      (float(apex_rc[0]), float(apex_rc[1])), axis_angle, outline,
                      float(pixel_size_nm))


def tip_profile_radius(tip: TipProfile, depth_nm) -> np.ndarray:
    """Apex-cap radius (nm) at apex depths ``depth_nm``: R_0 + d sin(a) / (1 - sin(a)).

    The cap stays tangent to the shank as the apex recedes (the shank geometry); a
    table of it is the tip profile the ``tip-profile`` reconstruction interpolates.
    """
    s = math.sin(math.radians(tip.shank_angle_deg))
    return tip.apex_radius_nm + np.asarray(depth_nm, dtype=np.float64) * s / (1 - s)

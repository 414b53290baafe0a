"""Synthetic SEM/TEM image of an atom-probe needle with known apex radius and shank angle."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erfc

from liprobe.data import Image
from liprobe.errors import ParameterError

__all__ = ["NeedleTruth", "needle_image", "needle_signed_distance_nm"]


@dataclass(frozen=True)
class NeedleTruth:
    """What the needle image was drawn with (apex position in pixels: row, column)."""

    apex_radius_nm: float
    shank_angle_deg: float
    pixel_size_nm: float
    apex_px: tuple[float, float]
    rotation_deg: float


def needle_signed_distance_nm(u_nm: np.ndarray, s_nm: np.ndarray, *, apex_radius_nm: float,
                              shank_angle_deg: float) -> np.ndarray:
    """Signed distance (nm, negative inside) to the outline of a sphere-capped cone.

    ``s_nm`` runs along the axis from the apex into the needle, ``u_nm`` across it. The
    cap (radius R, centre at s = R) meets the shank lines of half-angle alpha at their
    tangent points (R cos(alpha), R (1 - sin(alpha))).
    """
    r = apex_radius_nm
    a = math.radians(shank_angle_deg)
    u = np.abs(u_nm)
    tu, ts = r * math.cos(a), r * (1 - math.sin(a))
    along = (u - tu) * math.sin(a) + (s_nm - ts) * math.cos(a)
    side = (u - tu) * math.cos(a) - (s_nm - ts) * math.sin(a)
    cap = np.hypot(u, s_nm - r) - r
    return np.where(along >= 0, side, cap)


def needle_image(*, apex_radius_nm: float = 40.0, shank_angle_deg: float = 8.0,
                 pixel_size_nm: float = 1.0, shape: tuple[int, int] = (480, 400),
                 apex_px: tuple[float, float] | None = None, rotation_deg: float = 0.0,
                 blur_px: float = 1.5, background: float = 0.2, foreground: float = 0.8,
                 noise_sigma: float = 0.08, rng: np.random.Generator
                 ) -> tuple[Image, NeedleTruth]:
    """A needle seen side-on: bright silhouette on a dark background, blurred and noisy.

    The needle points up (apex towards row 0) for ``rotation_deg = 0`` and is turned
    counter-clockwise by ``rotation_deg``; the edge is blurred by a Gaussian of
    ``blur_px`` and Gaussian noise of ``noise_sigma`` is added.

    Returns
    -------
    image : Image
        float32 pixels with ``pixel_size_nm``.
    truth : NeedleTruth

    Examples
    --------
    >>> import numpy as np
    >>> img, truth = needle_image(rng=np.random.default_rng(0))
    >>> img.pixels.shape, img.pixel_size_nm
    ((480, 400), 1.0)
    """
    if not (apex_radius_nm > 0 and 0 <= shank_angle_deg < 45 and pixel_size_nm > 0):
        raise ParameterError("need apex_radius_nm > 0, 0 <= shank_angle_deg < 45, "
                             "pixel_size_nm > 0")
    rows, cols = (int(v) for v in shape)
    if rows < 16 or cols < 16:
        raise ParameterError(f"shape must be at least 16 x 16 pixels, got {shape}")
    if apex_px is None:
        apex_px = (0.2 * rows, 0.5 * cols)
    r0, c0 = (float(v) for v in apex_px)
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    t = math.radians(rotation_deg)
    # needle frame: s along the axis (down the image at rotation 0), u across
    dr, dc = rr - r0, cc - c0
    s = (dr * math.cos(t) + dc * math.sin(t)) * pixel_size_nm
    u = (dc * math.cos(t) - dr * math.sin(t)) * pixel_size_nm
    dist_px = needle_signed_distance_nm(u, s, apex_radius_nm=apex_radius_nm,
                                        shank_angle_deg=shank_angle_deg) / pixel_size_nm
    inside = 0.5 * erfc(dist_px / (math.sqrt(2) * max(blur_px, 1e-3)))
    pixels = background + (foreground - background) * inside
    pixels += noise_sigma * rng.standard_normal(pixels.shape)
    image = Image(pixels.astype(np.float32), float(pixel_size_nm),
                  {"source": "liprobe.synth.tip_image"})
    return image, NeedleTruth(float(apex_radius_nm), float(shank_angle_deg),
                              float(pixel_size_nm), (r0, c0), float(rotation_deg))

"""The particle surface in a HAADF image, and each point's depth below it.

The image is smoothed well beyond the lattice period (so the lattice contrast vanishes),
split into two intensity classes by Otsu's threshold (N. Otsu, IEEE Trans. Syst. Man
Cybern. 9 (1979) 62), re-split at the midpoint of the two class medians, and the bright
class (the particle) kept when it is clearly brighter than the large dark regions (vacuum
or a low-Z coating). The depth of a point is its Euclidean
distance to the nearest outside pixel (a distance transform), so curved and faceted
surfaces are handled too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["Surface", "find_surface"]


@dataclass(frozen=True, eq=False)
class Surface:
    """Where the particle is.

    Attributes
    ----------
    found : bool
        True when a surface (material next to vacuum/coating) is in view.
    material : (H, W) bool array
        Pixels inside the particle (all True when no surface was found).
    depth_px : (H, W) float32 array
        Distance of each pixel to the nearest outside pixel (0 outside; NaN everywhere
        when no surface was found).
    outside_level : float
        Median raw intensity more than 1 nm outside the particle (vacuum, or the coating
        where it fills the outside); NaN when no surface was found.
    normal_deg : float
        Mean direction of increasing depth (from the x axis); NaN when not found.
    pixel_size_nm : float
        Pixel edge.
    """

    found: bool
    material: np.ndarray
    depth_px: np.ndarray
    outside_level: float
    normal_deg: float
    pixel_size_nm: float

    def depth_at(self, x_px: np.ndarray, y_px: np.ndarray) -> np.ndarray:
        """Depth in nm below the surface at sub-pixel positions (bilinear); NaN if not found."""
        x = np.asarray(x_px, dtype=np.float64)
        y = np.asarray(y_px, dtype=np.float64)
        if not self.found:
            return np.full(x.shape, np.nan)
        from scipy.ndimage import map_coordinates

        values = map_coordinates(self.depth_px, [y, x], order=1, mode="nearest")
        return values * self.pixel_size_nm


def _keep_real_outside(img, material, pixel_size_nm, min_fraction, min_nm, max_ratio):
    """Return ``material`` with dark regions that are not vacuum/coating added back."""
    from scipy.ndimage import distance_transform_edt, gaussian_filter, label

    labels, n_labels = label(~material)
    if not n_labels:
        return material
    areas = np.bincount(labels.ravel(), minlength=n_labels + 1)
    distance = distance_transform_edt(~material) * pixel_size_nm
    extent = np.zeros(n_labels + 1)
    np.maximum.at(extent, labels.ravel(), distance.ravel())
    sigma = 0.1 / pixel_size_nm
    high = img - gaussian_filter(img, sigma, mode="reflect")
    variance = gaussian_filter(high * high, sigma, mode="reflect")
    inside_var = float(np.median(variance[material])) if material.any() else 0.0
    keep = np.zeros(n_labels + 1, bool)
    for k in range(1, n_labels + 1):
        if areas[k] < min_fraction * material.size or extent[k] < min_nm:
            continue
        ratio = float(np.median(variance[labels == k])) / max(inside_var, 1e-300)
        keep[k] = extent[k] >= 1.0 or ratio <= max_ratio
    return material | (~keep[labels] & (labels > 0))


def find_surface(
    pixels: np.ndarray,
    *,
    pixel_size_nm: float,
    smooth_nm: float = 0.3,
    min_contrast: float = 0.15,
    min_outside_fraction: float = 0.01,
    min_outside_nm: float = 0.3,
    max_lattice_ratio: float = 0.08,
) -> Surface:
    """Find the particle surface and the depth map.

    Parameters
    ----------
    pixels : (H, W) array
        Image.
    pixel_size_nm : float
        Pixel edge.
    smooth_nm : float
        Gaussian smoothing before the split (should exceed the lattice period).
    min_contrast : float
        A surface counts only when the bright and dark class medians differ by at least
        this fraction of the bright one, and by more than five times the spread of the
        bright class (a uniform crystal split by noise fails this).
    min_outside_fraction : float
        ...and when the outside covers at least this fraction of the image (smaller dark
        regions are not counted as outside)...
    min_outside_nm : float
        ...and reaches at least this far from the particle...
    max_lattice_ratio : float
        ...and, when it reaches less than 1 nm, holds almost no lattice contrast: its
        high-pass variance (scale 0.1 nm) is below this fraction of the particle's. A dark
        band along the border that is a Li-rich lattice plane is not vacuum.

    Returns
    -------
    Surface

    Notes
    -----
    The surface lies where the smoothed intensity crosses half way between the particle
    and outside levels, which for a sharp edge is the edge itself.
    """
    from scipy.ndimage import binary_opening, distance_transform_edt, gaussian_filter
    from skimage.filters import threshold_otsu

    img = np.asarray(pixels, dtype=np.float32)
    if img.ndim != 2:
        raise ParameterError(f"an image must be 2-D, got shape {img.shape}")
    if pixel_size_nm is None or not pixel_size_nm > 0:
        raise ParameterError("pixel_size_nm must be positive (CLI: --pixel-size-nm)")
    # mirrored edges: repeating the edge row would turn a dark Li plane at the border
    # into a dark band that looks like vacuum
    smooth = gaussian_filter(img, smooth_nm / pixel_size_nm, mode="reflect")
    nan_map = np.full(img.shape, np.nan, np.float32)
    not_found = Surface(False, np.ones(img.shape, bool), nan_map, math.nan, math.nan,
                        float(pixel_size_nm))
    if float(smooth.max() - smooth.min()) <= 0:
        return not_found
    level = threshold_otsu(smooth)
    material = smooth > level
    if material.all() or not material.any():
        return not_found
    # re-split at the midpoint of the two class medians: a smoothed step crosses its
    # half level at the step, whatever the class sizes (Otsu is biased when unbalanced)
    level = 0.5 * (float(np.median(smooth[material])) + float(np.median(smooth[~material])))
    material = smooth > level
    if material.all() or not material.any():
        return not_found
    bright = float(np.median(smooth[material]))
    dark = float(np.median(smooth[~material]))
    spread = float(np.std(smooth[material]))
    if not (bright - dark >= min_contrast * abs(bright) and bright - dark > 5.0 * spread):
        return not_found
    radius = max(1, int(round(0.5 * smooth_nm / pixel_size_nm)))
    material = binary_opening(material, structure=np.ones((2 * radius + 1,) * 2, bool))
    material = _keep_real_outside(img, material, pixel_size_nm, min_outside_fraction,
                                  min_outside_nm, max_lattice_ratio)
    outside_fraction = 1.0 - float(material.mean())
    if outside_fraction < min_outside_fraction:
        return not_found
    outside_distance = distance_transform_edt(~material) * pixel_size_nm
    depth = distance_transform_edt(material).astype(np.float32)
    far = outside_distance > 1.0
    outside_level = float(np.median(img[far])) if far.any() else float(np.median(img[~material]))
    gy, gx = np.gradient(gaussian_filter(depth, 2.0))
    inside = material & (depth > 2)
    normal = math.degrees(math.atan2(float(gy[inside].mean()), float(gx[inside].mean()))) \
        if inside.any() else math.nan
    # sub-pixel: the threshold crossing sits about half a pixel outside the first material
    # pixel centre
    depth = np.where(material, depth - 0.5, 0.0).astype(np.float32)
    return Surface(True, material, depth, outside_level, normal, float(pixel_size_nm))

"""Lattice orientation and (003) spacing from the Fourier transform of an image.

The (003) reflection of the layered structure (TM planes every c/3) is the strongest
low-frequency peak of a [100]hex HAADF image. Its position is found on the FFT grid, then
refined off-grid by evaluating the discrete-time Fourier transform of the Hann-windowed
image on a fine local grid (a zoom/chirp DFT, separable in x and y) with a parabolic peak
fit. Reference: M. J. Hÿtch et al., Ultramicroscopy 74 (1998) 131 (geometric phase: the
phase of a Bragg component locates the planes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["LatticeFFT", "measure_lattice_fft"]


@dataclass(frozen=True)
class LatticeFFT:
    """The (003) Bragg component of an image.

    Attributes
    ----------
    d003_nm : float
        Plane spacing 1/|g|.
    orientation_deg : float
        Direction of the (003) planes from the image x axis, in [0, 180).
    g_per_nm : (2,) ndarray
        Reciprocal vector (gx, gy) in 1/nm, x = column, y = row direction.
    phase_rad : float
        Phase of the component with the origin at pixel (0, 0): the bright (TM) planes
        lie where ``g · r + phase / (2 pi)`` is an integer (r in nm).
    peak_to_median : float
        Power of the peak used over the median power of its annulus (strength; the
        c/6 peak when the (003) peak has vanished in a rock-salt region).
    d003_se_nm : float
        Standard error of the spacing from the peak width and its contrast.
    """

    d003_nm: float
    orientation_deg: float
    g_per_nm: np.ndarray
    phase_rad: float
    peak_to_median: float
    d003_se_nm: float


def _zoom_dft(window_img, x_nm, y_nm, gx, gy):
    ex = np.exp(-2j * np.pi * np.outer(gx, x_nm))  # (m, W)
    ey = np.exp(-2j * np.pi * np.outer(gy, y_nm))  # (m, H)
    return ey @ (window_img @ ex.T)  # (m_y, m_x)


def _parabola_offset(values: np.ndarray) -> float:
    left, mid, right = values
    denom = left - 2.0 * mid + right
    if denom >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))


def _argmax_in(power, region):
    masked = np.where(region, power, 0.0)
    iy, ix = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return int(iy), int(ix)


def _local_max(power, row, col, *, radius):
    """Position of the largest value within +-radius bins (rows wrap, columns clip)."""
    h, w = power.shape
    rows = (row + np.arange(-radius, radius + 1)) % h
    cols = np.clip(col + np.arange(-radius, radius + 1), 0, w - 1)
    block = power[np.ix_(rows, cols)]
    r, c = np.unravel_index(int(np.argmax(block)), block.shape)
    return int(rows[r]), int(cols[c])


def _refine_peak(win64, x_nm, y_nm, g, step):
    """Off-grid peak: two passes of a 9 x 9 zoom DFT with a parabolic fit of log power."""
    g = np.asarray(g, dtype=np.float64).copy()
    for span in (1.0, 0.25):
        offsets = np.linspace(-span, span, 9)
        gx = g[0] + offsets * step[0]
        gy = g[1] + offsets * step[1]
        amp = np.abs(_zoom_dft(win64, x_nm, y_nm, gx, gy)) ** 2
        jy, jx = np.unravel_index(int(np.argmax(amp)), amp.shape)
        jy = int(np.clip(jy, 1, 7))
        jx = int(np.clip(jx, 1, 7))
        logamp = np.log(np.maximum(amp, 1e-300))
        dx = _parabola_offset(logamp[jy, jx - 1:jx + 2])
        dy = _parabola_offset(logamp[jy - 1:jy + 2, jx])
        delta = offsets[1] - offsets[0]
        g = np.array([gx[jx] + dx * delta * step[0], gy[jy] + dy * delta * step[1]])
    return g


def measure_lattice_fft(
    pixels: np.ndarray,
    *,
    pixel_size_nm: float,
    d_range_nm: tuple[float, float] = (0.38, 0.62),
    rocksalt_ratio: float = 0.02,
    cation_plane_range_nm: tuple[float, float] = (0.215, 0.26),
    min_strength: float = 100.0,
    orientation_deg: float | None = None,
    orientation_tolerance_deg: float = 10.0,
) -> LatticeFFT:
    """Find the (003) reflection: spacing, plane orientation and phase.

    Parameters
    ----------
    pixels : (H, W) array
        HAADF image.
    pixel_size_nm : float
        Pixel edge in nm.
    d_range_nm : (float, float)
        Spacings searched (the annulus of the Fourier transform).
    rocksalt_ratio : float
        When the (003) peak power is below this fraction of the strongest cation-plane
        (c/6) reflection, the cations are taken as mixed (rock-salt) and the (003) vector
        is half that reflection (in a rock-salt region either {111}-type cation family
        indexes equally well).
    cation_plane_range_nm : (float, float)
        Spacings searched for the c/6 cation-plane reflection (excludes {200}-type).
    min_strength : float
        The peak used must exceed this multiple of the median power of its annulus;
        otherwise the image shows no layered lattice and :class:`ParameterError` is raised.
    orientation_deg : float, optional
        Approximate direction of the (003) planes (from the x axis). Only reflections
        within ``orientation_tolerance_deg`` of it are considered. Needed where the c axis
        is ambiguous: an image of only rock-salt and spinel-like material (their {111}-type
        cation families and superstructure reflections look alike).
    orientation_tolerance_deg : float
        Tolerance of the hint.

    Returns
    -------
    LatticeFFT

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:128, 0:128] * 0.02
    >>> fringes = 1 + np.cos(2 * np.pi * y / 0.47)
    >>> round(measure_lattice_fft(fringes, pixel_size_nm=0.02).d003_nm, 3)
    0.47
    """
    img = np.asarray(pixels, dtype=np.float32)
    if img.ndim != 2 or min(img.shape) < 16:
        raise ParameterError(f"an image of at least 16 x 16 pixels is needed, got {img.shape}")
    if not pixel_size_nm or pixel_size_nm <= 0:
        raise ParameterError("pixel_size_nm must be positive (pass --pixel-size-nm)")
    h, w = img.shape
    lo, hi = d_range_nm
    if not 0 < lo < hi or lo < 2.0 * pixel_size_nm:
        raise ParameterError(
            f"d_range_nm {d_range_nm} cannot be resolved with pixels of {pixel_size_nm} nm "
            "(the smallest spacing must exceed two pixels)"
        )
    window = (np.hanning(h)[:, None] * np.hanning(w)[None, :]).astype(np.float32)
    windowed = (img - img.mean(dtype=np.float64)) * window
    from scipy import fft as sfft

    power = np.abs(sfft.rfft2(windowed, workers=-1)) ** 2
    fy = np.fft.fftfreq(h, pixel_size_nm)[:, None]
    fx = np.fft.rfftfreq(w, pixel_size_nm)[None, :]
    radius = np.hypot(fx, fy)
    annulus = (radius > 1.0 / hi) & (radius < 1.0 / lo)
    if orientation_deg is not None:
        plane_dir = (np.degrees(np.arctan2(fy, fx)) - 90.0) % 180.0
        off = np.abs((plane_dir - orientation_deg % 180.0 + 90.0) % 180.0 - 90.0)
        cone = off <= orientation_tolerance_deg
    else:
        cone = np.ones(radius.shape, bool)
    annulus &= cone
    if not annulus.any():
        raise ParameterError("the image is too small to resolve the (003) spacing")
    iy, ix = _argmax_in(power, annulus)
    peak = float(power[iy, ix])
    median = float(np.median(power[annulus]))
    g = np.array([fx[0, ix], fy[iy, 0]])
    # cation-plane reflections (c/6): when the (003) peak has (nearly) vanished the
    # cations are mixed (rock-salt) and the (003) vector is half a c/6 vector
    c6_lo, c6_hi = cation_plane_range_nm
    half_annulus = (radius > 1.0 / c6_hi) & (radius < 1.0 / c6_lo) & cone
    halved = False
    strength = peak / max(median, 1e-300)
    if half_annulus.any():
        jy, jx = _argmax_in(power, half_annulus)
        c6_peak = float(power[jy, jx])
        c6_strength = c6_peak / max(float(np.median(power[half_annulus])), 1e-300)
        if (peak < rocksalt_ratio * c6_peak or strength < min_strength) \
                and c6_strength >= min_strength:
            # prefer the c/6 peak at twice the (weak) (003) peak: where any layering is
            # left it marks the c axis among the {111}-type cation families
            ky, kx = _local_max(power, (2 * iy) % h, 2 * ix, radius=2)
            if power[ky, kx] >= 0.25 * c6_peak and half_annulus[ky, kx]:
                jy, jx = ky, kx
            g = np.array([fx[0, jx], fy[jy, 0]])
            halved = True
            peak, strength = float(power[jy, jx]), c6_strength
    if strength < min_strength:
        raise ParameterError(
            f"no lattice fringes of a layered oxide found (strongest (003) peak only "
            f"{strength:.0f} x the median power, {min_strength:.0f} needed); is this an "
            "atomic-resolution [100]hex image, and is the pixel size "
            f"({pixel_size_nm} nm) right?"
        )
    step = np.array([1.0 / (w * pixel_size_nm), 1.0 / (h * pixel_size_nm)])
    x_nm = np.arange(w) * pixel_size_nm
    y_nm = np.arange(h) * pixel_size_nm
    g = _refine_peak(windowed.astype(np.float64), x_nm, y_nm, g, step)
    if halved:
        g = 0.5 * g
    # phase with the origin at pixel (0, 0) (no window, exact frequency)
    comp = _zoom_dft(img.astype(np.float64) - img.mean(), x_nm, y_nm,
                     np.array([g[0]]), np.array([g[1]]))[0, 0]
    gnorm = float(np.hypot(*g))
    d = 1.0 / gnorm
    orientation = (math.degrees(math.atan2(g[1], g[0])) - 90.0) % 180.0
    # spread of the frequency estimate: peak width over sqrt(contrast)
    width = float(np.hypot(*step)) / max(math.sqrt(strength), 1.0)
    return LatticeFFT(
        d003_nm=d,
        orientation_deg=orientation,
        g_per_nm=g,
        phase_rad=float(np.angle(comp)),
        peak_to_median=strength,
        d003_se_nm=d * d * width,
    )


def cation_plane_orientations(
    pixels: np.ndarray,
    *,
    pixel_size_nm: float,
    cation_plane_range_nm: tuple[float, float] = (0.215, 0.26),
    count: int = 3,
    min_separation_deg: float = 20.0,
) -> list[float]:
    """Directions (deg from x, in [0, 180)) of the strongest c/6-type cation-plane families.

    In rock-salt or spinel-like regions several {111}-type cation families look alike;
    these are the candidates for the c axis when the (003) reflection is ambiguous.
    """
    from scipy import fft as sfft

    img = np.asarray(pixels, dtype=np.float32)
    h, w = img.shape
    window = (np.hanning(h)[:, None] * np.hanning(w)[None, :]).astype(np.float32)
    power = np.abs(sfft.rfft2((img - img.mean(dtype=np.float64)) * window, workers=-1)) ** 2
    fy = np.fft.fftfreq(h, pixel_size_nm)[:, None]
    fx = np.fft.rfftfreq(w, pixel_size_nm)[None, :]
    radius = np.hypot(fx, fy)
    lo, hi = cation_plane_range_nm
    region = (radius > 1.0 / hi) & (radius < 1.0 / lo)
    order = np.argsort(np.where(region, power, 0.0), axis=None)[::-1]
    found: list[float] = []
    for flat in order[: 200]:
        iy, ix = np.unravel_index(int(flat), power.shape)
        if not region[iy, ix]:
            break
        angle = (math.degrees(math.atan2(fy[iy, 0], fx[0, ix])) - 90.0) % 180.0
        if all(abs((angle - a + 90.0) % 180.0 - 90.0) >= min_separation_deg for a in found):
            found.append(angle)
            if len(found) == count:
                break
    return found

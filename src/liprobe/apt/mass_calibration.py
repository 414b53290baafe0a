"""Mass calibration from detector-space fields: voltage and flight-path (bowl) correction.

The m/q an instrument computes from the time of flight with the recorded voltage and a
nominal flight path is off by a factor that drifts with the voltage (the energy the
ions really gain) and varies over the detector (the flight path to an off-axis hit).
The correction fits log(m / m_peak) of ions under chosen reference peaks with a
polynomial in the voltage plus a 2-D polynomial in the detector position (one linear
least-squares fit, trimmed and refined over a few passes) and divides it out; the mass
resolving power (m / FWHM, m / FW10%M) is measured on a peak before and after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from liprobe.errors import ParameterError

__all__ = ["MassCalibration", "ResolvingPower", "fit_mass_calibration",
           "apply_mass_calibration", "resolving_power"]


@dataclass(frozen=True, eq=False)
class MassCalibration:
    """A fitted multiplicative m/q correction with its standard errors.

    ``log(m_measured / m_true) = sum_k c_k u^a_k X^b_k Y^c_k`` with
    u = V / ``voltage_ref_kv`` - 1, X = x_D / ``detector_scale_mm``, Y likewise; the exponents
    are the rows of ``exponents``. ``success`` is False (``message`` says why) when too
    few ions were under the peaks.
    """

    peaks_da: tuple[float, ...]
    exponents: np.ndarray
    coefficients: np.ndarray
    sigmas: np.ndarray
    voltage_ref_kv: float
    detector_scale_mm: float
    n_ions_used: int
    residual_rms: float
    success: bool
    message: str

    @property
    def term_names(self) -> tuple[str, ...]:
        """Readable names of the terms (``"1"``, ``"u"``, ``"X^2"`` ...)."""
        names = []
        for a, b, c in self.exponents:
            parts = [f"{s}^{p}" if p > 1 else s for s, p in (("u", a), ("X", b), ("Y", c)) if p]
            names.append("*".join(parts) or "1")
        return tuple(names)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready coefficients and fit figures."""
        return {"peaks_da": list(self.peaks_da),
                "terms": {n: {"coefficient": float(c), "sigma": float(s)} for n, c, s in
                          zip(self.term_names, self.coefficients, self.sigmas)},
                "voltage_ref_kv": self.voltage_ref_kv,
                "detector_scale_mm": self.detector_scale_mm, "n_ions_used": self.n_ions_used,
                "residual_rms": self.residual_rms, "success": self.success,
                "message": self.message}


@dataclass(frozen=True)
class ResolvingPower:
    """Width of one peak: FWHM and full width at 10 % of maximum, and m / width."""

    peak_da: float
    position_da: float
    fwhm_da: float
    fw10m_da: float
    n_ions: int

    @property
    def mrp_fwhm(self) -> float:
        """m / FWHM."""
        return self.position_da / self.fwhm_da

    @property
    def mrp_fw10m(self) -> float:
        """m / FW10%M."""
        return self.position_da / self.fw10m_da

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"peak_da": self.peak_da, "position_da": self.position_da,
                "fwhm_da": self.fwhm_da, "fw10m_da": self.fw10m_da, "mrp_fwhm": self.mrp_fwhm,
                "mrp_fw10m": self.mrp_fw10m, "n_ions": self.n_ions}


def _exponents(voltage_degree: int, bowl_degree: int) -> np.ndarray:
    rows = [(0, 0, 0)] + [(a, 0, 0) for a in range(1, voltage_degree + 1)]
    rows += [(0, b, d - b) for d in range(1, bowl_degree + 1) for b in range(d, -1, -1)]
    return np.array(rows, dtype=np.int64)


@numba.njit(cache=True, nogil=True, parallel=True, fastmath=True)
def _log_factor(voltage, det_x, det_y, v_ref, scale, exponents, coefficients, out_mass,
                mass):  # pragma: no cover
    """exp(-sum_k c_k u^a X^b Y^c) per ion; with ``mass`` non-empty also out_mass = m * it."""
    n = voltage.shape[0]
    m = exponents.shape[0]
    top = 0
    for k in range(m):
        for j in range(3):
            top = max(top, exponents[k, j])
    factor = np.empty(n, np.float32)
    write = out_mass.shape[0] > 0
    for i in numba.prange(n):
        pu = np.empty(top + 1)
        px = np.empty(top + 1)
        py = np.empty(top + 1)
        pu[0] = px[0] = py[0] = 1.0
        u = voltage[i] / v_ref - 1.0
        x = det_x[i] / scale
        y = det_y[i] / scale
        for j in range(1, top + 1):
            pu[j] = pu[j - 1] * u
            px[j] = px[j - 1] * x
            py[j] = py[j - 1] * y
        total = 0.0
        for k in range(m):
            total += coefficients[k] * pu[exponents[k, 0]] * px[exponents[k, 1]] * \
                py[exponents[k, 2]]
        f = math.exp(-total)
        factor[i] = f
        if write:
            out_mass[i] = mass[i] * f
    return factor


def _native(values, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise ParameterError(f"{name} must be 1-D with {n} values, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def fit_mass_calibration(mass_to_charge_da, voltage_kv, detector_x_mm, detector_y_mm, *,
                         peaks_da, voltage_degree: int = 2, bowl_degree: int = 2,
                         windows: tuple[float, ...] = (0.03, 0.01, 0.004, 0.002),
                         max_ions: int = 400_000, min_ions: int = 200) -> MassCalibration:
    """Fit the voltage and bowl correction on reference peaks.

    Parameters
    ----------
    mass_to_charge_da, voltage_kv, detector_x_mm, detector_y_mm : (N,) arrays
        Measured m/q, voltage (DC plus pulse), detector hit (any float dtype).
    peaks_da : sequence of float
        True m/q of isolated, strong reference peaks (e.g. 7.016 for 7Li+, 15.995 for
        16O+, 28.97 for 58Ni2+).
    voltage_degree, bowl_degree : int
        Polynomial degrees in the voltage and in the detector position.
    windows : tuple of float
        Relative half-widths of the peak windows in successive passes; each pass picks
        the ions whose corrected m/q is within the window of a peak and refits.
    max_ions : int
        At most this many ions (an even subsample) enter the fit.

    Returns
    -------
    MassCalibration

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v = rng.uniform(2, 3, 20000); x, y = rng.uniform(-20, 20, (2, 20000))
    >>> m = 7.016 * (1 + 0.01 * (v - 2.5)) * (1 + 1e-5 * (x**2 + y**2))
    >>> cal = fit_mass_calibration(m, v, x, y, peaks_da=[7.016])
    >>> bool(np.allclose(apply_mass_calibration(cal, m, v, x, y), 7.016, rtol=1e-4))
    True
    """
    mass = _native(mass_to_charge_da, "mass_to_charge_da")
    n = mass.shape[0]
    volt = _native(voltage_kv, "voltage_kv", n)
    dx = _native(detector_x_mm, "detector_x_mm", n)
    dy = _native(detector_y_mm, "detector_y_mm", n)
    peaks = np.sort(np.asarray(peaks_da, dtype=np.float64))
    if peaks.ndim != 1 or peaks.size == 0 or not np.all(peaks > 0):
        raise ParameterError("peaks_da must be one or more positive m/q values (Da)")
    step = max(1, n // max_ions)
    mass, volt, dx, dy = mass[::step], volt[::step], dx[::step], dy[::step]
    v_ref = float(np.median(volt)) if volt.size else 1.0
    scale = float(np.sqrt(np.max(dx.astype(np.float64) ** 2 + dy**2))) if dx.size else 1.0
    scale = scale if scale > 0 else 1.0
    exponents = _exponents(voltage_degree, bowl_degree)
    coefficients = np.zeros(exponents.shape[0])
    empty = np.zeros(0, np.float32)
    u = (volt / v_ref - 1.0).astype(np.float64)
    xs, ys = dx.astype(np.float64) / scale, dy.astype(np.float64) / scale
    used, rms = 0, math.nan
    for window in windows:
        corrected = mass * _log_factor(volt, dx, dy, v_ref, scale, exponents, coefficients,
                                       empty, empty)
        nearest = np.clip(np.searchsorted(peaks, corrected), 1, peaks.size - 1) \
            if peaks.size > 1 else np.zeros(corrected.size, np.int64)
        if peaks.size > 1:
            lower = peaks[nearest - 1]
            upper = peaks[nearest]
            ref = np.where(np.abs(corrected - lower) < np.abs(corrected - upper), lower, upper)
        else:
            ref = np.full(corrected.size, peaks[0])
        pick = np.flatnonzero(np.abs(corrected / ref - 1) < window)
        used = pick.size
        if used < max(min_ions, 3 * exponents.shape[0]):
            return MassCalibration(tuple(peaks), exponents, coefficients,
                                   np.full(coefficients.shape, np.nan), v_ref, scale, used,
                                   rms, False, f"only {used} ions within {window:.1%} of the "
                                   "reference peaks; choose stronger peaks or a wider window")
        design = np.ones((used, exponents.shape[0]))
        for k, (a, b, c) in enumerate(exponents):
            design[:, k] = u[pick] ** a * xs[pick] ** b * ys[pick] ** c
        target = np.log(mass[pick] / ref[pick])
        normal = design.T @ design
        coefficients = np.linalg.lstsq(normal, design.T @ target, rcond=None)[0]
        resid = target - design @ coefficients
        rms = float(np.sqrt(np.mean(resid**2)))
    # the peak tails bias the constant term: anchor the modes of the corrected peaks
    corrected = mass * _log_factor(volt, dx, dy, v_ref, scale, exponents, coefficients,
                                   empty, empty)
    shifts, weights = [], []
    for p in peaks:
        sel = corrected[np.abs(corrected / p - 1) < windows[-1]]
        if sel.size >= min_ions:
            shifts.append(math.log(_mode(sel, p, windows[-1]) / p))
            weights.append(sel.size)
    if shifts:
        coefficients = coefficients.copy()
        coefficients[0] += float(np.average(shifts, weights=weights))
    cov = np.linalg.pinv(normal) * rms**2
    return MassCalibration(tuple(float(p) for p in peaks), exponents, coefficients,
                           np.sqrt(np.diag(cov)), v_ref, scale, int(used), rms, True, "ok")


def _mode(values: np.ndarray, center: float, rel_window: float) -> float:
    bins = 200
    counts, edges = np.histogram(values, bins, (center * (1 - rel_window),
                                                center * (1 + rel_window)))
    counts = np.convolve(counts, np.ones(5) / 5, "same")
    k = int(np.argmax(counts))
    if 0 < k < bins - 1:
        a, b, c = counts[k - 1: k + 2]
        den = a - 2 * b + c
        shift = 0.5 * (a - c) / den if den < 0 else 0.0
    else:
        shift = 0.0
    return float(edges[k] + (0.5 + shift) * (edges[1] - edges[0]))


def apply_mass_calibration(calibration: MassCalibration, mass_to_charge_da, voltage_kv,
                           detector_x_mm, detector_y_mm) -> np.ndarray:
    """Corrected m/q (float32, same order): the measured m/q divided by the fitted factor."""
    if not calibration.success:
        raise ParameterError(f"the mass calibration failed: {calibration.message}")
    mass = _native(mass_to_charge_da, "mass_to_charge_da")
    n = mass.shape[0]
    out = np.empty(n, np.float32)
    _log_factor(_native(voltage_kv, "voltage_kv", n), _native(detector_x_mm, "detector_x_mm", n),
                _native(detector_y_mm, "detector_y_mm", n), calibration.voltage_ref_kv,
                calibration.detector_scale_mm, calibration.exponents,
                calibration.coefficients, out, mass)
    return out


def resolving_power(mass_to_charge_da, *, peak_da: float, window: float = 0.06,
                    min_ions: int = 500) -> ResolvingPower:
    """FWHM and FW10%M of the peak near ``peak_da`` (histogram at a tenth of the FWHM).

    The maximum is searched within ``window`` (relative) of ``peak_da``; the widths are
    where the 3-bin smoothed histogram crosses half and a tenth of the maximum, by
    linear interpolation, walking outwards from the maximum.
    """
    mass = np.asarray(mass_to_charge_da)
    lo, hi = peak_da * (1 - window), peak_da * (1 + window)
    sel = mass[(mass >= lo) & (mass < hi)].astype(np.float64)
    if sel.size < min_ions:
        raise ParameterError(f"only {sel.size} ions within {window:.0%} of {peak_da} Da; "
                             "choose a stronger peak")
    bin_da = peak_da * 2e-4
    for _ in range(3):
        counts, edges = np.histogram(sel, int(math.ceil((hi - lo) / bin_da)), (lo, hi))
        smooth = np.convolve(counts, np.ones(3) / 3, "same")
        k = int(np.argmax(smooth))
        centers = 0.5 * (edges[1:] + edges[:-1])
        half = _width(smooth, centers, k, 0.5)
        tenth = _width(smooth, centers, k, 0.1)
        new_bin = max(half / 10, peak_da * 1e-5)
        if not math.isfinite(new_bin) or abs(new_bin - bin_da) < 0.2 * bin_da:
            break
        bin_da = new_bin
    return ResolvingPower(float(peak_da), float(centers[k]), float(half), float(tenth),
                          int(sel.size))


def _width(counts: np.ndarray, centers: np.ndarray, k: int, level: float) -> float:
    target = level * counts[k]
    i = k
    while i > 0 and counts[i - 1] > target:
        i -= 1
    j = k
    while j < counts.size - 1 and counts[j + 1] > target:
        j += 1
    if i == 0 or j == counts.size - 1:
        return float("nan")

    def cross(a: int, b: int) -> float:  # a below target, b above
        t = (target - counts[a]) / (counts[b] - counts[a])
        return centers[a] + t * (centers[b] - centers[a])

    return float(cross(j + 1, j) - cross(i - 1, i))

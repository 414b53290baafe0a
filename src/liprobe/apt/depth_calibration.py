"""Depth-scale calibration of a reconstruction and its uncertainty on profiles.

The depth a reconstruction gives an ion scales, to first order, as
(k_f F)^2 / (eta xi^2) (Bas protocol: dz = Omega L^2 / (eta A_D xi^2 R^2), R = V / k_f F),
so a known length along the analysis direction calibrates one of k_f and xi: the
spacing of lattice planes (e.g. d(003) = 0.473 nm of a layered oxide along c), found in
a z spatial distribution map near the pole, or the thickness of a known layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt.reconstruct import ReconstructionParams, apex_depth_at, reconstruct
from liprobe.errors import ParameterError

__all__ = ["ZDistributionMap", "PlaneSpacing", "DepthCalibration", "DepthBand",
           "z_distribution_map", "measure_plane_spacing", "measure_layer_thickness",
           "calibrate_depth_scale", "depth_scale_band"]

_FREE = ("field_factor", "icf")


@dataclass(frozen=True, eq=False)
class ZDistributionMap:
    """Pairs of ions in a column by their z separation (a 1-D spatial distribution map)."""

    dz_nm: np.ndarray
    counts: np.ndarray
    column_radius_nm: float


@dataclass(frozen=True, eq=False)
class PlaneSpacing:
    """Plane spacing along z: mean over depth segments with its standard error."""

    spacing_nm: float
    sigma_nm: float
    segment_spacings_nm: np.ndarray
    n_ions: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"spacing_nm": self.spacing_nm, "sigma_nm": self.sigma_nm,
                "segment_spacings_nm": self.segment_spacings_nm.tolist(),
                "n_ions": self.n_ions}


@dataclass(frozen=True)
class DepthCalibration:
    """A calibrated k_f or xi with its standard error and 95 % interval."""

    parameter: str
    value: float
    sigma: float
    initial_value: float
    measured_before: float
    measured_after: float
    known_length_nm: float
    params: ReconstructionParams
    dof: float = math.inf

    @property
    def interval(self) -> tuple[float, float]:
        """95 % interval: value +- t(0.975, dof) sigma (dof: segments - 1 for planes)."""
        from scipy.special import stdtrit

        q = 1.959964 if math.isinf(self.dof) else float(stdtrit(self.dof, 0.975))
        return (self.value - q * self.sigma, self.value + q * self.sigma)

    @property
    def relative_depth_sigma(self) -> float:
        """Relative standard error of the depth scale this calibration leaves."""
        return 2 * self.sigma / self.value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"parameter": self.parameter, "value": self.value, "sigma": self.sigma,
                "interval_95": list(self.interval), "initial_value": self.initial_value,
                "measured_before_nm": self.measured_before,
                "measured_after_nm": self.measured_after, "known_length_nm": self.known_length_nm,
                "dof": self.dof}


def _column(xyz_nm: np.ndarray, column_radius_nm: float, center_xy) -> np.ndarray:
    xyz = np.asarray(xyz_nm)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ParameterError(f"xyz_nm must have shape (N, 3), got {xyz.shape}")
    cx, cy = (float(c) for c in center_xy)
    inside = (xyz[:, 0] - cx) ** 2 + (xyz[:, 1] - cy) ** 2 <= column_radius_nm**2
    return xyz[inside, 2].astype(np.float64)


def z_distribution_map(xyz_nm: np.ndarray, *, column_radius_nm: float = 2.0,
                       center_xy=(0.0, 0.0), bin_nm: float = 0.02,
                       max_dz_nm: float = 3.0) -> ZDistributionMap:
    """z spatial distribution map of the ions in a column along z.

    The histogram of z separations of all ion pairs in the column, computed as the
    autocorrelation of the binned z positions (exact for binned pairs, O(B log B)).
    Planes normal to z show as peaks at multiples of their spacing.
    """
    z = _column(xyz_nm, column_radius_nm, center_xy)
    if z.size < 2:
        raise ParameterError("fewer than two ions in the column; widen column_radius_nm")
    n_bins = int(math.ceil((z.max() - z.min()) / bin_nm)) + 1
    hist = np.bincount(((z - z.min()) / bin_nm).astype(np.int64), minlength=n_bins)
    size = 1 << int(math.ceil(math.log2(2 * n_bins)))
    spectrum = np.fft.rfft(hist.astype(np.float64), size)
    auto = np.fft.irfft(spectrum * np.conj(spectrum), size)[: int(max_dz_nm / bin_nm) + 1]
    auto[0] -= z.size  # self pairs
    return ZDistributionMap(np.arange(auto.size) * bin_nm, np.rint(auto).astype(np.int64),
                            float(column_radius_nm))


def _periodogram_peak(z: np.ndarray, freqs: np.ndarray, resolution_nm: float) -> float:
    lo = float(z.min())
    span = max(float(z.max()) - lo, 1e-12)
    counts = np.bincount(((z - lo) / resolution_nm).astype(np.int64))
    pos = (np.arange(counts.size) + 0.5) * resolution_nm
    used = counts > 0
    pos, weight = pos[used], counts[used] * np.sin(np.pi * pos[used] / span) ** 2  # Hann
    phase = np.exp(2j * np.pi * np.outer(freqs, pos - pos.mean()))
    power = np.abs(phase @ weight) ** 2
    k = int(np.argmax(power))
    if 0 < k < freqs.size - 1:
        a, b, c = np.log(power[k - 1: k + 2] + 1e-12)
        shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        return float(freqs[k] + shift * (freqs[1] - freqs[0]))
    return float(freqs[k])


def measure_plane_spacing(xyz_nm: np.ndarray, *, expected_nm: float,
                          column_radius_nm: float = 2.0, center_xy=(0.0, 0.0),
                          n_segments: int = 8, search: float = 0.35, min_planes: int = 8,
                          max_ions_per_segment: int = 6000) -> PlaneSpacing:
    """Spacing of planes normal to z in a column near the pole.

    The column is cut into ``n_segments`` equal-count depth segments (fewer where a
    segment would hold under ``min_planes`` planes, at least two); in each, the
    Hann-tapered Rayleigh periodogram |sum_j w_j exp(2 pi i f z_j)|^2 of the ions' z is
    maximised over spacings within ``search`` (relative) of ``expected_nm``. The spacing
    is the mean over segments, its standard error their spread / sqrt(segments).
    """
    if not (expected_nm > 0 and n_segments >= 2 and 0 < search < 1):
        raise ParameterError("expected_nm must be > 0, n_segments >= 2, 0 < search < 1")
    z = np.sort(_column(xyz_nm, column_radius_nm, center_xy))
    if z.size < 50 * n_segments:
        raise ParameterError(f"only {z.size} ions in the {column_radius_nm} nm column; widen "
                             "column_radius_nm or use fewer segments")
    n_segments = int(max(2, min(n_segments, (z[-1] - z[0]) / (min_planes * expected_nm))))
    freqs = np.linspace(1 / (expected_nm * (1 + search)), 1 / (expected_nm * (1 - search)), 161)
    spacings = []
    for seg in np.array_split(z, n_segments):
        if seg.size > max_ions_per_segment:
            seg = seg[:: int(math.ceil(seg.size / max_ions_per_segment))]
        f = _periodogram_peak(seg, freqs, expected_nm / 100)
        fine = np.linspace(f - 2 * (freqs[1] - freqs[0]), f + 2 * (freqs[1] - freqs[0]), 21)
        spacings.append(1.0 / _periodogram_peak(seg, fine, expected_nm / 100))
    spacings = np.array(spacings)
    return PlaneSpacing(float(spacings.mean()), float(spacings.std(ddof=1) / math.sqrt(
        spacings.size)), spacings, int(z.size))


def measure_layer_thickness(z_nm: np.ndarray, in_marker: np.ndarray, *, bin_nm: float = 1.0,
                            edge_nm: float = 1.5) -> tuple[float, float]:
    """Thickness (nm) of a marker layer along z and its standard error.

    The layer is found where the marker fraction (in ``bin_nm`` bins, wide enough to
    average over lattice planes) exceeds half-way between its median and its maximum;
    the marker fraction b outside the layer, p inside (more than ``edge_nm`` from the
    crossings) and f over a span that holds the layer and ``2 edge_nm`` on each side
    (length S) give the thickness S (f - b) / (p - b): the marker excess over its height,
    independent of how blurred the edges are. The standard error propagates the
    binomial errors of f, b and p. ``z_nm`` and ``in_marker`` are the ions of a column.
    """
    z = np.asarray(z_nm, dtype=np.float64)
    marker = np.asarray(in_marker, dtype=bool)
    if z.shape != marker.shape or z.ndim != 1 or z.size < 100:
        raise ParameterError("z_nm and in_marker must be equal-length 1-D arrays (>= 100 ions)")
    lo = z.min()
    b = ((z - lo) / bin_nm).astype(np.int64)
    total = np.bincount(b).astype(np.float64)
    frac = np.bincount(b, weights=marker, minlength=total.size) / np.maximum(total, 1)
    frac[total < 20] = np.median(frac[total >= 20])
    peak = int(np.argmax(frac))
    level = 0.5 * (frac[peak] + float(np.median(frac)))
    i0, i1 = peak, peak
    while i0 > 0 and frac[i0 - 1] > level:
        i0 -= 1
    while i1 < total.size - 1 and frac[i1 + 1] > level:
        i1 += 1
    top, bottom = lo + i0 * bin_nm, lo + (i1 + 1) * bin_nm
    s0, s1 = top - 2 * edge_nm, bottom + 2 * edge_nm
    width = s1 - s0
    if s0 < lo or s1 > z.max() or bottom - top <= 2 * edge_nm:
        raise ParameterError("the marker layer touches the end of the data or is thinner than "
                             "its edges; it must lie inside the analysed depth")
    span = (z >= s0) & (z < s1)
    inside = (z >= top + edge_nm) & (z < bottom - edge_nm)
    outside = ((z >= s0 - width) & (z < s0)) | ((z >= s1) & (z < s1 + width))
    counts = [int(m.sum()) for m in (span, inside, outside)]
    if min(counts) < 20:
        raise ParameterError("too few ions around the marker layer; widen the column")
    f, p, base = (float(marker[m].mean()) for m in (span, inside, outside))
    height = p - base
    if not height > 0:
        raise ParameterError("no marker layer found: the marker fraction has no plateau")
    thickness = width * (f - base) / height
    var = ((width / height) ** 2 * f * (1 - f) / counts[0]
           + (thickness / height) ** 2 * p * (1 - p) / counts[1]
           + ((thickness - width) / height) ** 2 * base * (1 - base) / counts[2])
    return float(thickness), float(math.sqrt(var))


def calibrate_depth_scale(detector_x_mm, detector_y_mm, voltage_kv, *,
                          params: ReconstructionParams, free: str = "field_factor",
                          plane_spacing_nm: float | None = None,
                          layer_thickness_nm: float | None = None,
                          in_marker: np.ndarray | None = None, column_radius_nm: float = 2.0,
                          iterations: int = 3) -> DepthCalibration:
    """Calibrate k_f (``free="field_factor"``) or xi (``"icf"``) from a known length.

    Reconstruct (Bas), measure the plane spacing (:func:`measure_plane_spacing`) or
    the marker-layer thickness (:func:`measure_layer_thickness`, ``in_marker`` the
    marker ions) in a column on the axis, rescale the free parameter by the square root
    of known/measured (k_f) or measured/known (xi), and repeat. The standard error
    follows from the measurement's: sigma_p / p = sigma_L / (2 L).

    References
    ----------
    B. Gault et al., Ultramicroscopy 109 (2009) 815 (reconstruction parameters from
    crystallographic features).
    """
    if free not in _FREE:
        raise ParameterError(f"free must be one of {_FREE}, got {free!r}")
    if (plane_spacing_nm is None) == (layer_thickness_nm is None):
        raise ParameterError("give exactly one of plane_spacing_nm and layer_thickness_nm")
    if layer_thickness_nm is not None and in_marker is None:
        raise ParameterError("a layer-thickness calibration needs in_marker (the marker ions)")
    known = float(plane_spacing_nm if plane_spacing_nm is not None else layer_thickness_nm)

    dof = [math.inf]

    def measure(p: ReconstructionParams) -> tuple[float, float]:
        rec = reconstruct(detector_x_mm, detector_y_mm, voltage_kv, params=p)
        if plane_spacing_nm is not None:
            res = measure_plane_spacing(rec.xyz_nm, expected_nm=known,
                                        column_radius_nm=column_radius_nm)
            dof[0] = res.segment_spacings_nm.size - 1
            return res.spacing_nm, res.sigma_nm
        xyz = rec.xyz_nm
        col = xyz[:, 0] ** 2 + xyz[:, 1] ** 2 <= column_radius_nm**2
        return measure_layer_thickness(xyz[col, 2], np.asarray(in_marker)[col])

    initial = getattr(params, free)
    current = params
    before, sigma_len = measure(current)
    measured = before
    for _ in range(max(1, iterations)):
        ratio = known / measured
        value = getattr(current, free) * (math.sqrt(ratio) if free == "field_factor"
                                          else 1 / math.sqrt(ratio))
        current = current.with_values(**{free: value})
        measured, sigma_len = measure(current)
    value = getattr(current, free)
    sigma = value * sigma_len / (2 * measured)
    return DepthCalibration(free, value, sigma, initial, before, measured, known, current,
                            float(dof[0]))


@dataclass(frozen=True, eq=False)
class DepthBand:
    """Where nominal depths move when the parameters vary within their uncertainties."""

    depth_nm: np.ndarray
    low_nm: np.ndarray
    high_nm: np.ndarray
    sigma_nm: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready arrays."""
        return {k: getattr(self, k).tolist() for k in ("depth_nm", "low_nm", "high_nm",
                                                       "sigma_nm")}


def depth_scale_band(voltage_kv: np.ndarray, depth_nm, *, params: ReconstructionParams,
                     sigmas: dict[str, float], protocol: str = "bas", n_draws: int = 200,
                     tip_profile=None, rng: np.random.Generator) -> DepthBand:
    """Propagate parameter uncertainties into reconstructed depths (Monte Carlo).

    Each draw perturbs the parameters in ``sigmas`` (Gaussian, e.g. ``{"icf": 0.05,
    "field_factor": 0.1, "detection_efficiency": 0.02}``) and recomputes the apex depth
    of the ions that sit at ``depth_nm`` with the nominal parameters; the band is the
    central 68 % (``low_nm``, ``high_nm``) and the standard deviation of those depths.
    A profile's features (e.g. the depleted depth) move by as much.
    """
    depth = np.atleast_1d(np.asarray(depth_nm, dtype=np.float64))
    for name in sigmas:
        if name not in ("icf", "field_factor", "detection_efficiency",
                        "evaporation_field_v_per_nm", "atomic_volume_nm3", "initial_radius_nm",
                        "shank_angle_deg"):
            raise ParameterError(f"cannot vary {name!r}; vary a ReconstructionParams field")
    v = np.asarray(voltage_kv)
    n = v.shape[0]
    grid = np.unique(np.linspace(0, n - 1, min(n, 2000)).astype(np.int64))
    nominal = apex_depth_at(v, grid, params=params, protocol=protocol, tip_profile=tip_profile)
    picks = np.clip(np.searchsorted(nominal, depth), 0, grid.size - 1)
    draws = np.empty((n_draws, depth.size))
    for k in range(n_draws):
        values = {}
        for name, sigma in sigmas.items():
            values[name] = getattr(params, name) + sigma * rng.standard_normal()
        if "detection_efficiency" in values:
            values["detection_efficiency"] = min(max(values["detection_efficiency"], 1e-3), 1.0)
        p = params.with_values(**values)
        moved = apex_depth_at(v, grid, params=p, protocol=protocol, tip_profile=tip_profile)
        draws[k] = np.interp(depth, nominal, moved) if nominal.size > 1 else moved[picks]
    low, high = np.percentile(draws, [15.865, 84.135], axis=0)
    return DepthBand(depth, low, high, draws.std(axis=0, ddof=1))

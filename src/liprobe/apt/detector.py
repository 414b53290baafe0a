"""Detector-space analyses: hit-density map, voltage curve, multi-hit correlations.

The correlation histogram (Saxey plot) puts every pair of ions detected in one pulse
at (lower m/q, higher m/q); molecular ions that dissociate in flight leave curved tracks
whose place theory predicts (:func:`dissociation_track`), and detector dead time empties
the diagonal of same-isotope pairs that land close together
(:func:`same_isotope_pair_deficit`).

References
----------
D. W. Saxey, Ultramicroscopy 111 (2011) 473 (correlated evaporation, dissociation
tracks). F. Meisenkothen et al., Ultramicroscopy 159 (2015) 101 (same-isotope dead time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from liprobe.errors import ParameterError

__all__ = ["HitMap", "VoltageCurve", "PulsePairs", "CorrelationHistogram", "DissociationTrack",
           "TrackMatch", "PairDeficit", "detector_hit_map", "voltage_curve", "pulse_pairs",
           "correlation_histogram", "dissociation_track", "match_track",
           "same_isotope_pair_deficit"]


@dataclass(frozen=True, eq=False)
class HitMap:
    """Hits per detector pixel and the field of view."""

    counts: np.ndarray
    edges_mm: np.ndarray
    n_hits: int
    center_mm: tuple[float, float]
    field_of_view_radius_mm: float
    occupied_fraction: float
    density_contrast: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (not the map)."""
        return {"n_hits": self.n_hits, "center_mm": list(self.center_mm),
                "field_of_view_radius_mm": self.field_of_view_radius_mm,
                "occupied_fraction": self.occupied_fraction,
                "density_contrast": self.density_contrast, "bins": int(self.counts.shape[0])}


def detector_hit_map(detector_x_mm, detector_y_mm, *, bins: int = 128,
                     radius_mm: float | None = None) -> HitMap:
    """Hit-density map of the detector.

    ``field_of_view_radius_mm`` is the radius about the hit centroid holding 99 % of
    the hits; ``occupied_fraction`` the share of pixels within it with any hit;
    ``density_contrast`` the 99th over the 50th percentile of the pixel counts within it
    (poles and zone lines raise it above the Poisson value of a uniform map).
    """
    x = np.asarray(detector_x_mm, dtype=np.float32)
    y = np.asarray(detector_y_mm, dtype=np.float32)
    if x.shape != y.shape or x.ndim != 1 or x.size == 0:
        raise ParameterError("detector_x_mm and detector_y_mm must be equal, non-empty 1-D")
    r = float(radius_mm) if radius_mm is not None else float(np.sqrt(np.max(x * x + y * y)))
    edges = np.linspace(-r, r, bins + 1)
    ix = np.clip(((x + r) / (2 * r) * bins).astype(np.int64), 0, bins - 1)
    iy = np.clip(((y + r) / (2 * r) * bins).astype(np.int64), 0, bins - 1)
    counts = np.bincount(iy * bins + ix, minlength=bins * bins).reshape(bins, bins)
    cx, cy = float(x.mean()), float(y.mean())
    fov = float(np.percentile(np.hypot(x - cx, y - cy), 99.0))
    centers = 0.5 * (edges[1:] + edges[:-1])
    inside = np.hypot(*np.meshgrid(centers - cx, centers - cy)) < fov
    values = counts[inside]
    occupied = float(np.mean(values > 0)) if values.size else math.nan
    median = float(np.percentile(values, 50)) if values.size else math.nan
    contrast = float(np.percentile(values, 99) / median) if median > 0 else math.nan
    return HitMap(counts, edges, int(x.size), (cx, cy), fov, occupied, contrast)


@dataclass(frozen=True, eq=False)
class VoltageCurve:
    """Median voltage in equal blocks of consecutive ions."""

    ion_index: np.ndarray
    voltage_kv: np.ndarray
    start_kv: float
    end_kv: float
    slope_kv_per_million: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"start_kv": self.start_kv, "end_kv": self.end_kv,
                "slope_kv_per_million_ions": self.slope_kv_per_million,
                "n_points": int(self.ion_index.size)}


def voltage_curve(voltage_kv, *, n_points: int = 200) -> VoltageCurve:
    """Voltage against ion index (block medians) and its mean slope per million ions."""
    v = np.asarray(voltage_kv, dtype=np.float32)
    if v.ndim != 1 or v.size < 2:
        raise ParameterError("voltage_kv must be 1-D with at least two ions")
    blocks = np.array_split(np.arange(v.size), min(n_points, v.size))
    idx = np.array([b[b.size // 2] for b in blocks], dtype=np.int64)
    med = np.array([np.median(v[b[0]: b[-1] + 1]) for b in blocks], dtype=np.float64)
    slope = float(np.polyfit(idx / 1e6, med, 1)[0]) if idx.size > 1 else math.nan
    return VoltageCurve(idx, med, float(med[0]), float(med[-1]), slope)


@numba.njit(cache=True, nogil=True)
def _pairs(ions_per_pulse):  # pragma: no cover
    n = ions_per_pulse.shape[0]
    total = 0
    for i in range(n):
        k = ions_per_pulse[i]
        if k >= 2 and i + k <= n:
            total += k * (k - 1) // 2
    first = np.empty(total, np.int64)
    second = np.empty(total, np.int64)
    p = 0
    for i in range(n):
        k = ions_per_pulse[i]
        if k >= 2 and i + k <= n:
            for a in range(i, i + k):
                for b in range(a + 1, i + k):
                    first[p] = a
                    second[p] = b
                    p += 1
    return first, second


@dataclass(frozen=True, eq=False)
class PulsePairs:
    """Every pair of ions of one multi-hit pulse, lower m/q first."""

    first: np.ndarray
    second: np.ndarray
    mass_low_da: np.ndarray
    mass_high_da: np.ndarray
    separation_mm: np.ndarray | None

    @property
    def n_pairs(self) -> int:
        """Number of pairs."""
        return int(self.first.size)


def pulse_pairs(mass_to_charge_da, ions_per_pulse, *, detector_x_mm=None,
                detector_y_mm=None) -> PulsePairs:
    """All ion pairs within multi-hit pulses (EPOS ``ions_per_pulse``: n on the first ion
    of an n-hit pulse, 0 on the others)."""
    mass = np.asarray(mass_to_charge_da, dtype=np.float32)
    mult = np.ascontiguousarray(ions_per_pulse, dtype=np.int64)
    if mult.shape != mass.shape:
        raise ParameterError("ions_per_pulse must have one value per ion")
    first, second = _pairs(mult)
    m1, m2 = mass[first], mass[second]
    low, high = np.minimum(m1, m2), np.maximum(m1, m2)
    sep = None
    if detector_x_mm is not None and detector_y_mm is not None:
        x = np.asarray(detector_x_mm, dtype=np.float32)
        y = np.asarray(detector_y_mm, dtype=np.float32)
        sep = np.hypot(x[first] - x[second], y[first] - y[second])
    return PulsePairs(first, second, low, high, sep)


@dataclass(frozen=True, eq=False)
class CorrelationHistogram:
    """Pair counts on a (lower m/q, higher m/q) grid."""

    counts: np.ndarray
    edges_da: np.ndarray
    n_pairs: int
    n_multi_hit_pulses: int
    multi_hit_fraction: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (not the grid)."""
        return {"n_pairs": self.n_pairs, "n_multi_hit_pulses": self.n_multi_hit_pulses,
                "multi_hit_fraction": self.multi_hit_fraction,
                "range_da": [float(self.edges_da[0]), float(self.edges_da[-1])],
                "bins": int(self.counts.shape[0])}


def correlation_histogram(pairs: PulsePairs, ions_per_pulse, *,
                          range_da: tuple[float, float] = (0.0, 100.0),
                          bin_da: float = 0.25) -> CorrelationHistogram:
    """Saxey plot: pairs binned at (lower m/q, higher m/q); rows index the lower m/q."""
    lo, hi = (float(v) for v in range_da)
    if not (hi > lo and bin_da > 0):
        raise ParameterError("range_da must be (low, high) with high > low, bin_da > 0")
    bins = int(math.ceil((hi - lo) / bin_da))
    edges = lo + np.arange(bins + 1) * bin_da
    a = ((pairs.mass_low_da - lo) / bin_da).astype(np.int64)
    b = ((pairs.mass_high_da - lo) / bin_da).astype(np.int64)
    ok = (a >= 0) & (a < bins) & (b >= 0) & (b < bins)
    counts = np.bincount(a[ok] * bins + b[ok], minlength=bins * bins).reshape(bins, bins)
    mult = np.asarray(ions_per_pulse)
    pulses = int(np.count_nonzero(mult >= 1))
    multi = int(np.count_nonzero(mult >= 2))
    return CorrelationHistogram(counts, edges, pairs.n_pairs, multi,
                                multi / pulses if pulses else math.nan)


@dataclass(frozen=True, eq=False)
class DissociationTrack:
    """Apparent m/q of both fragments of ``parent -> first + second`` against alpha."""

    label: str
    alpha: np.ndarray
    first_da: np.ndarray
    second_da: np.ndarray
    parent_mass_da: float
    parent_charge: int
    first_mass_da: float
    first_charge: int
    second_charge: int

    def second_at(self, first_da: np.ndarray) -> np.ndarray:
        """Predicted apparent m/q of the second fragment given the first's."""
        m, n, m1, q1 = self.parent_mass_da, self.parent_charge, self.first_mass_da, \
            self.first_charge
        alpha = (m1 / np.asarray(first_da, dtype=np.float64) - q1) / (n * m1 / m - q1)
        return _apparent(m, n, m - m1, self.second_charge, alpha)


def _apparent(parent_mass, parent_charge, fragment_mass, fragment_charge, alpha):
    energy = alpha * parent_charge * fragment_mass / parent_mass + fragment_charge * (1 - alpha)
    with np.errstate(divide="ignore"):
        return fragment_mass / energy


def dissociation_track(*, parent_mass_da: float, parent_charge: int, first_mass_da: float,
                       first_charge: int, label: str = "", n_points: int = 200,
                       alpha_min: float = 0.05) -> DissociationTrack:
    """Where the fragments of an in-flight dissociation appear in a correlation histogram.

    A parent of mass M and charge n that breaks up after gaining a share alpha of the
    accelerating potential gives fragment k (mass m_k, charge q_k) the energy
    e V (alpha n m_k / M + q_k (1 - alpha)); its apparent m/q is
    m_k / (alpha n m_k / M + q_k (1 - alpha)): the parent's M/n at alpha = 1, the
    fragment's own m_k / q_k at alpha = 0 (a neutral's runs to infinity).

    Examples
    --------
    >>> t = dissociation_track(parent_mass_da=23.0, parent_charge=1, first_mass_da=7.0,
    ...                        first_charge=1)
    >>> round(float(t.first_da[-1]), 3), round(float(t.second_da[-1]), 3)
    (23.0, 23.0)
    """
    if not (parent_mass_da > first_mass_da > 0 and parent_charge >= 1
            and 0 <= first_charge <= parent_charge):
        raise ParameterError("need parent_mass_da > first_mass_da > 0, parent_charge >= 1 and "
                             "0 <= first_charge <= parent_charge")
    alpha = np.linspace(alpha_min, 1.0, n_points)
    second_charge = parent_charge - first_charge
    first = _apparent(parent_mass_da, parent_charge, first_mass_da, first_charge, alpha)
    second = _apparent(parent_mass_da, parent_charge, parent_mass_da - first_mass_da,
                       second_charge, alpha)
    return DissociationTrack(label, alpha, first, second, float(parent_mass_da),
                             int(parent_charge), float(first_mass_da), int(first_charge),
                             int(second_charge))


@dataclass(frozen=True)
class TrackMatch:
    """Pairs near a predicted dissociation track against a displaced control band."""

    n_on_track: int
    n_control: int
    enrichment: float
    median_offset_da: float
    tolerance: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"n_on_track": self.n_on_track, "n_control": self.n_control,
                "enrichment": self.enrichment, "median_offset_da": self.median_offset_da,
                "relative_tolerance": self.tolerance}


def match_track(pairs: PulsePairs, track: DissociationTrack, *, tolerance: float = 0.02,
                control_shift: float = 0.15) -> TrackMatch:
    """Count pairs within ``tolerance`` (relative in the second m/q) of the track.

    Only pairs whose first fragment lies on the track's open range are used (the ends,
    where the track meets the parent peak, are excluded). The control band is the
    same band shifted by ``control_shift`` (relative) in the second m/q; the
    enrichment is on-track over control, and ``median_offset_da`` the median of
    (measured - predicted) second m/q of the on-track pairs.
    """
    lo = float(min(track.first_da[0], track.first_da[-1]))
    hi = float(max(track.first_da[0], track.first_da[-1]))
    pad = 0.05 * (hi - lo)
    m1, m2 = pairs.mass_low_da.astype(np.float64), pairs.mass_high_da.astype(np.float64)
    if track.first_mass_da / max(track.first_charge, 1) > track.parent_mass_da / \
            track.parent_charge:  # the first fragment is the heavier apparent one
        m1, m2 = m2, m1
    sel = (m1 > lo + pad) & (m1 < hi - pad)
    predicted = track.second_at(m1[sel])
    measured = m2[sel]
    rel = measured / predicted - 1
    on = np.abs(rel) < tolerance
    control = np.abs(measured / (predicted * (1 + control_shift)) - 1) < tolerance
    n_on, n_control = int(on.sum()), int(control.sum())
    offset = float(np.median(measured[on] - predicted[on])) if n_on else math.nan
    return TrackMatch(n_on, n_control, n_on / max(n_control, 1), offset, tolerance)


@dataclass(frozen=True, eq=False)
class PairDeficit:
    """Same-isotope pairs against other pairs by detector separation."""

    edges_mm: np.ndarray
    same_counts: np.ndarray
    other_counts: np.ndarray
    deficit_fraction: float
    deficit_sigma: float
    close_mm: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"deficit_fraction": self.deficit_fraction, "deficit_sigma": self.deficit_sigma,
                "close_mm": self.close_mm, "n_same_pairs": int(self.same_counts.sum()),
                "n_other_pairs": int(self.other_counts.sum())}


def same_isotope_pair_deficit(pairs: PulsePairs, *, same_da: float = 0.1,
                              close_mm: float = 3.0, max_mm: float = 20.0,
                              bin_mm: float = 0.5) -> PairDeficit:
    """Dead-time signature: missing same-isotope pairs at small detector separation.

    Pairs with m/q within ``same_da`` are "same isotope" (they arrive within the dead
    time); the other pairs give the separation distribution expected without dead time.
    The deficit is 1 - observed / expected same-isotope pairs closer than ``close_mm``,
    the expected count scaling the other pairs' share below ``close_mm`` to the
    same-isotope pairs farther out.
    """
    if pairs.separation_mm is None:
        raise ParameterError("the pairs carry no detector separation; pass detector_x_mm and "
                             "detector_y_mm to pulse_pairs")
    same = np.abs(pairs.mass_high_da - pairs.mass_low_da) < same_da
    sep = pairs.separation_mm
    edges = np.arange(0, max_mm + bin_mm, bin_mm)
    same_counts = np.histogram(sep[same], edges)[0]
    other_counts = np.histogram(sep[~same], edges)[0]
    close_other = float(np.sum(sep[~same] < close_mm))
    far_other = float(np.sum(~same & (sep >= close_mm)))
    far_same = float(np.sum(same & (sep >= close_mm)))
    obs = float(np.sum(same & (sep < close_mm)))
    if far_other == 0 or close_other == 0 or far_same == 0:
        return PairDeficit(edges, same_counts, other_counts, math.nan, math.nan, close_mm)
    expected = far_same * close_other / far_other
    deficit = 1 - obs / expected
    sigma = math.sqrt(obs + 1) / expected
    return PairDeficit(edges, same_counts, other_counts, deficit, sigma, close_mm)

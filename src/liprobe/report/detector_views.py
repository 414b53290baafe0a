"""Per-specimen detector-space pictures of the report: hit map, voltage curve, Saxey plot.

:func:`detector_view` gathers, from one specimen's ion table (EPOS, or APT with detector
sections) and its ranges, the detector-space results the figures render:
the hit-density map, the DC (and pulse) voltage against the ion sequence and the
correlation histogram of multi-hit pairs with the dissociation tracks that the ranged
molecular ions predict (:func:`liprobe.apt.dissociation.dissociation_channels`), each
track scored against a displaced control band (:func:`liprobe.apt.detector.match_track`).
:func:`detector_figures` turns a view into ``(data-kind, figure, caption)`` entries
(``detector-map``, ``voltage-curve``, ``correlation-histogram``) and
:func:`detector_note` into the one line a specimen without detector data gets instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DetectorView", "detector_view", "detector_figures", "detector_note"]

#: What each figure needs from the ion table.
NEEDS = {"detector-map": ("detector_x_mm", "detector_y_mm"),
         "voltage-curve": ("dc_voltage_kv",),
         "correlation-histogram": ("ions_per_pulse",)}
#: A track counts as seen with this many pairs on it and this enrichment over its control.
TRACK_SEEN_PAIRS, TRACK_SEEN_ENRICHMENT = 20, 3.0


@dataclass(frozen=True, eq=False)
class DetectorView:
    """Detector-space results of one specimen (None where the file lacks the fields).

    ``missing`` maps each figure kind not drawn to the reason (the missing fields, or no
    multi-hit pulse); ``tracks[k]`` is the predicted curve of ``channels[k]`` and
    ``matches[k]`` its pair count against the control band.
    """

    n_ions: int
    hit_map: Any = None
    dc_voltage: Any = None
    pulse_voltage: Any = None
    voltage_drop_fraction: float = math.nan
    correlation: Any = None
    channels: tuple = ()
    tracks: tuple = ()
    matches: tuple = ()
    missing: dict | None = None

    @property
    def has_data(self) -> bool:
        """True when at least one detector-space figure can be drawn."""
        return any(v is not None for v in (self.hit_map, self.dc_voltage, self.correlation))


def _range_da(ranges: Any) -> tuple[float, float]:
    top = float(np.max(ranges.high_da)) if ranges.n_ranges else 100.0
    return 0.0, float(min(max(math.ceil(top / 10.0) * 10.0 + 5.0, 20.0), 200.0))


def detector_view(ions: Any, ranges: Any, *, bin_da: float = 0.25,
                  max_tracks: int = 5) -> DetectorView:
    """Detector-space results of one ion table for its report figures.

    Parameters
    ----------
    ions : IonTable
        The specimen's ions; ``fields`` may hold ``detector_x_mm``, ``detector_y_mm``,
        ``dc_voltage_kv``, ``pulse_voltage_kv`` and ``ions_per_pulse`` (EPOS fields).
    ranges : RangeTable
        The specimen's ranges (the molecular ions whose tracks are predicted).
    bin_da : float
        Bin width of the correlation histogram.
    max_tracks : int
        Most molecular ions (the most counted) whose dissociation tracks are drawn.
    """
    from liprobe.apt.detector import (
        correlation_histogram,
        detector_hit_map,
        dissociation_track,
        match_track,
        pulse_pairs,
        voltage_curve,
    )
    from liprobe.apt.dissociation import dissociation_channels, pairs_off_peaks

    f = ions.fields
    missing = {kind: "no " + ", ".join(k for k in need if k not in f)
               for kind, need in NEEDS.items() if any(k not in f for k in need)}
    hit_map = dc = pulse = hist = None
    drop = math.nan
    channels: tuple = ()
    tracks: list = []
    matches: list = []
    if ions.n_ions >= 2 and "detector-map" not in missing:
        hit_map = detector_hit_map(f["detector_x_mm"], f["detector_y_mm"])
    if ions.n_ions >= 2 and "voltage-curve" not in missing:
        dc = voltage_curve(f["dc_voltage_kv"])
        running = np.maximum.accumulate(dc.voltage_kv)
        drop = float(np.max(1.0 - dc.voltage_kv / running))
        if "pulse_voltage_kv" in f and np.any(np.asarray(f["pulse_voltage_kv"]) != 0):
            pulse = voltage_curve(f["pulse_voltage_kv"])
    if "correlation-histogram" not in missing:
        mult = f["ions_per_pulse"]
        if not np.any(np.asarray(mult) >= 2):
            missing["correlation-histogram"] = "no multi-hit pulse"
        else:
            pairs = pulse_pairs(ions.mass_to_charge_da, mult)
            hist = correlation_histogram(pairs, mult, range_da=_range_da(ranges),
                                         bin_da=bin_da)
            channels = dissociation_channels(ranges, ions.mass_to_charge_da,
                                             max_parents=max_tracks)
            off_peaks = pairs_off_peaks(pairs, ranges)
            for c in channels:
                track = dissociation_track(parent_mass_da=c.parent_mass_da,
                                           parent_charge=c.parent_charge,
                                           first_mass_da=c.first_mass_da,
                                           first_charge=c.first_charge, label=c.label)
                tracks.append(track)
                matches.append(match_track(off_peaks, track))
    for kind, value in (("detector-map", hit_map), ("voltage-curve", dc)):
        if value is None and kind not in missing:
            missing[kind] = "fewer than two ions"
    return DetectorView(ions.n_ions, hit_map, dc, pulse, drop, hist, tuple(channels),
                        tuple(tracks), tuple(matches), missing)


def _hit_map_figure(view: DetectorView, name: str) -> tuple[Any, str]:
    from liprobe.report.detector_figures import plot_hit_map

    h = view.hit_map
    cx, cy = h.center_mm
    offset = math.hypot(cx, cy)
    centred = offset < 0.1 * h.field_of_view_radius_mm
    verdict = ("the hits are centred on the detector (specimen axis on the detector axis)"
               if centred else f"the hits are {offset:.1f} mm off the detector centre: the "
               "specimen axis is tilted from the detector axis; check the alignment before "
               "reconstructing")
    caption = (f"Detector hit density of {name} ({h.n_hits} hits, log colours); dashed: the "
               f"circle of 99 % of the hits, radius {h.field_of_view_radius_mm:.1f} mm about "
               f"({cx:.2f}, {cy:.2f}) mm; {100 * h.occupied_fraction:.0f} % of its pixels hit, "
               + (f"density contrast {h.density_contrast:.2g} (99th / 50th percentile; poles "
                  "and zone lines raise it)" if math.isfinite(h.density_contrast) else
                  "too few hits per pixel for a density contrast")
               + f". Conclusion: {verdict}.")
    return plot_hit_map(h), caption


def _voltage_figure(view: DetectorView, name: str) -> tuple[Any, str]:
    from liprobe.report.detector_figures import plot_voltage_curve

    dc = view.dc_voltage
    fig = plot_voltage_curve(dc)
    ax = fig.axes[0]
    ax.lines[0].set_label("DC voltage")
    pulse_text = " (laser pulsing: no pulse voltage)"
    if view.pulse_voltage is not None:
        p = view.pulse_voltage
        ax.plot(p.ion_index / 1e6, p.voltage_kv, color="tab:blue", lw=1,
                label="pulse voltage")
        pulse_text = f"; blue: pulse voltage, {p.start_kv:.2f} -> {p.end_kv:.2f} kV"
    ax.legend(fontsize=7, loc="lower right")
    rising = dc.end_kv > dc.start_kv and view.voltage_drop_fraction < 0.05
    verdict = ("the voltage rises steadily as evaporation blunts the tip: a regular run"
               if rising else f"the voltage falls by up to {100 * view.voltage_drop_fraction:.0f}"
               " % during the run (a flash, fracture or manual reset): check the "
               "reconstruction across it")
    caption = (f"DC voltage of {name} against the ion sequence (medians of "
               f"{dc.ion_index.size} blocks of consecutive ions): {dc.start_kv:.2f} -> "
               f"{dc.end_kv:.2f} kV, {dc.slope_kv_per_million:.3g} kV per million ions"
               f"{pulse_text}. Conclusion: {verdict}.")
    return fig, caption


def _correlation_figure(view: DetectorView, name: str) -> tuple[Any, str]:
    from liprobe.report.detector_figures import plot_correlation_histogram

    h = view.correlation
    lo, hi = float(h.edges_da[0]), float(h.edges_da[-1])
    fig = plot_correlation_histogram(h, view.tracks, zoom_da=(lo, hi, lo, hi))
    scored = [f"{c.label}: {m.n_on_track} pair(s) within {100 * m.tolerance:.0f} % of it, "
              f"{m.enrichment:.1f} x the control band" for c, m in zip(view.channels,
                                                                      view.matches)]
    seen = [c.label for c, m in zip(view.channels, view.matches)
            if m.n_on_track >= TRACK_SEEN_PAIRS and m.enrichment >= TRACK_SEEN_ENRICHMENT]
    if not view.tracks:
        verdict = "no ranged molecular ion predicts a track in this spectrum"
    elif seen:
        verdict = (f"in-flight dissociation is seen along {', '.join(seen)}: those molecular "
                   "ions lose counts to their fragments' peaks, which composition from the "
                   "ranged peaks alone does not restore")
    else:
        verdict = ("no dissociation track stands above the random pairs: the ranged "
                   "molecular ions reach the detector whole")
    caption = (f"Correlation histogram (Saxey plot) of {name}: the {h.n_pairs} ion pairs of "
               f"its {h.n_multi_hit_pulses} multi-hit pulses ({100 * h.multi_hit_fraction:.1f}"
               f" % of pulses) at (lighter, heavier) m/q, {h.edges_da[1] - h.edges_da[0]:g} Da "
               "bins; dashed: the dissociation tracks the ranged molecular ions predict "
               "(Saxey 2011)" + (" — pairs off the ranged peaks (random pairs of two whole "
                                 "ions sit on peak crossings): " + "; ".join(scored)
                                 if scored else "")
               + f". Conclusion: {verdict}.")
    return fig, caption


def detector_figures(view: DetectorView | None, *, name: str) -> list[tuple[str, Any, str]]:
    """The detector-space figures of one specimen: ``(data-kind, Figure, caption)``."""
    if view is None:
        return []
    out = []
    for kind, value, draw in (("detector-map", view.hit_map, _hit_map_figure),
                              ("voltage-curve", view.dc_voltage, _voltage_figure),
                              ("correlation-histogram", view.correlation,
                               _correlation_figure)):
        if value is not None:
            out.append((kind, *draw(view, name)))
    return out


def detector_note(view: DetectorView | None, *, name: str) -> str | None:
    """One line for a specimen whose file lacks detector data (None when all is drawn)."""
    if view is None or not view.missing:
        return None
    if not view.has_data:
        return (f"specimen {name}: no detector data in its ion file (positions and m/q "
                "only, e.g. POS): no detector map, voltage curve or correlation histogram; "
                "an EPOS or APT file with detector sections gives them")
    parts = [f"{kind} ({why})" for kind, why in view.missing.items()]
    return f"specimen {name}: detector data incomplete, not drawn: {'; '.join(parts)}"

"""Figures of the detector-space analyses, the mass calibration and the reconstruction.

Each function takes result objects and returns a :class:`matplotlib.figure.Figure`;
:func:`save_detector_figure` writes it and, for SVG, marks the root element with the
figure's ``data-kind`` (``detector-map``, ``voltage-curve``, ``correlation-histogram``,
``pile-up``, ``mass-calibration``, ``tip-profile``, ``depth-band``, ``z-sdm``) so the
report's per-specimen view can place it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from liprobe.report.canvas import new_figure as _figure
from liprobe.report.canvas import save_figure

__all__ = ["DATA_KINDS", "plot_hit_map", "plot_voltage_curve", "plot_correlation_histogram",
           "plot_pair_deficit", "plot_mass_calibration", "plot_tip_profile",
           "plot_depth_band", "plot_z_sdm", "save_detector_figure"]

#: The ``data-kind`` of each figure function's output.
DATA_KINDS = {
    "plot_hit_map": "detector-map", "plot_voltage_curve": "voltage-curve",
    "plot_correlation_histogram": "correlation-histogram", "plot_pair_deficit": "pile-up",
    "plot_mass_calibration": "mass-calibration", "plot_tip_profile": "tip-profile",
    "plot_depth_band": "depth-band", "plot_z_sdm": "z-sdm",
}


def save_detector_figure(fig: Figure, path: str | os.PathLike, *, kind: str,
                         dpi: int = 150) -> Path:
    """Write ``fig``; an SVG gets ``data-kind="<kind>"`` on its root ``<svg>`` element."""
    path = save_figure(fig, path, dpi=dpi)
    if path.suffix.lower() == ".svg":
        text = path.read_text(encoding="utf-8")
        text = text.replace("<svg ", f'<svg data-kind="{kind}" ', 1)
        path.write_text(text, encoding="utf-8")
    return path


def plot_hit_map(hit_map) -> Figure:
    """Detector hit density (log colour scale) with the 99 % field-of-view circle."""
    fig, ax = _figure((5.5, 5.0))
    e = hit_map.edges_mm
    counts = np.where(hit_map.counts > 0, hit_map.counts, np.nan)
    im = ax.imshow(counts, origin="lower", extent=(e[0], e[-1], e[0], e[-1]), cmap="viridis")
    fig.colorbar(im, ax=ax, label="hits per pixel")
    t = np.linspace(0, 2 * np.pi, 200)
    cx, cy = hit_map.center_mm
    r = hit_map.field_of_view_radius_mm
    ax.plot(cx + r * np.cos(t), cy + r * np.sin(t), color="w", lw=0.8, ls="--",
            label=f"99 % of hits: r = {r:.1f} mm")
    ax.set_xlabel("detector x (mm)")
    ax.set_ylabel("detector y (mm)")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    return fig


def plot_voltage_curve(curve) -> Figure:
    """Voltage against evaporated ions."""
    fig, ax = _figure((7.0, 3.5))
    ax.plot(curve.ion_index / 1e6, curve.voltage_kv, color="k", lw=1)
    ax.set_xlabel("ions evaporated (millions)")
    ax.set_ylabel("voltage (kV)")
    ax.set_title(f"{curve.start_kv:.2f} -> {curve.end_kv:.2f} kV, "
                 f"{curve.slope_kv_per_million:.3g} kV per million ions", fontsize=9)
    return fig


def plot_correlation_histogram(histogram, tracks: Sequence = (), *,
                               zoom_da: tuple[float, float, float, float] | None = None
                               ) -> Figure:
    """Saxey plot (log counts) with predicted dissociation tracks overlaid.

    ``zoom_da`` = (low_min, low_max, high_min, high_max) limits the axes.
    """
    fig, ax = _figure((6.0, 5.5))
    e = histogram.edges_da
    counts = histogram.counts.astype(float)
    counts[counts == 0] = np.nan
    vmax = np.nanmax(counts) if np.isfinite(counts).any() else 1.0
    im = ax.imshow(counts.T, origin="lower", extent=(e[0], e[-1], e[0], e[-1]), cmap="magma_r",
                   norm=LogNorm(vmin=1, vmax=max(vmax, 2)), interpolation="nearest",
                   aspect="auto")
    fig.colorbar(im, ax=ax, label="pairs per bin")
    for k, track in enumerate(tracks):
        first, second = track.first_da, track.second_da
        low, high = np.minimum(first, second), np.maximum(first, second)
        ax.plot(low, high, lw=1.0, ls="--", color=f"C{k}", label=track.label or "track")
    ax.set_xlabel("m/q of the lighter hit (Da)")
    ax.set_ylabel("m/q of the heavier hit (Da)")
    if zoom_da is not None:
        ax.set_xlim(zoom_da[0], zoom_da[1])
        ax.set_ylim(zoom_da[2], zoom_da[3])
    if tracks:
        ax.legend(loc="lower right", fontsize=7)
    return fig


def plot_pair_deficit(deficit) -> Figure:
    """Detector separation of same-isotope pairs against other pairs (both normalised)."""
    fig, ax = _figure((6.0, 3.5))
    centres = 0.5 * (deficit.edges_mm[1:] + deficit.edges_mm[:-1])
    for counts, label, color in ((deficit.other_counts, "other pairs", "0.4"),
                                 (deficit.same_counts, "same-isotope pairs", "tab:red")):
        total = counts.sum()
        ax.step(centres, counts / total if total else counts, where="mid", color=color,
                label=label)
    ax.axvline(deficit.close_mm, color="k", lw=0.6, ls=":")
    ax.set_xlabel("separation on the detector (mm)")
    ax.set_ylabel("share of pairs per bin")
    ax.set_title(f"same-isotope deficit below {deficit.close_mm:g} mm: "
                 f"{deficit.deficit_fraction:.2f} +- {deficit.deficit_sigma:.2f}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def plot_mass_calibration(before, after, *, reference=None, range_da=None,
                          labels: tuple[str, str] = ("before", "after")) -> Figure:
    """Mass spectra before and after calibration (and a reference, e.g. error-free)."""
    fig, ax = _figure((8.0, 4.0))
    for spec, label, color in ((before, labels[0], "0.6"), (after, labels[1], "k"),
                               (reference, "reference", "tab:green")):
        if spec is None:
            continue
        counts = spec.counts.astype(float)
        ax.step(spec.centers_da, np.where(counts > 0, counts, np.nan), where="mid", lw=0.8,
                color=color, label=label)
    ax.set_yscale("log")
    if range_da is not None:
        ax.set_xlim(*range_da)
    ax.set_xlabel("mass-to-charge (Da)")
    ax.set_ylabel("counts per bin")
    ax.legend(fontsize=8)
    return fig


def plot_tip_profile(pixels: np.ndarray, tip) -> Figure:
    """The needle image with its outline, apex circle and shank flanks."""
    fig, ax = _figure((5.5, 5.5))
    ax.imshow(pixels, cmap="gray")
    ax.plot(tip.outline_px[:, 1], tip.outline_px[:, 0], color="tab:orange", lw=0.7,
            label="outline")
    r_px = tip.apex_radius_nm / tip.pixel_size_nm
    t = np.radians(tip.axis_angle_deg)
    axis = np.array([np.cos(t), np.sin(t)])
    center = np.array(tip.apex_px) + r_px * axis
    phi = np.linspace(0, 2 * np.pi, 200)
    ax.plot(center[1] + r_px * np.sin(phi), center[0] + r_px * np.cos(phi), color="tab:cyan",
            lw=0.8, label=f"apex R = {tip.apex_radius_nm:.1f} +- "
            f"{tip.apex_radius_sigma_nm:.1f} nm")
    ax.set_title(f"shank half-angle {tip.shank_angle_deg:.2f} +- "
                 f"{tip.shank_angle_sigma_deg:.2f} deg", fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    ax.set_axis_off()
    return fig


def plot_depth_band(depth_nm: np.ndarray, values: np.ndarray, sigmas: np.ndarray, band, *,
                    marked_depth_nm: float | None = None, ylabel: str = "Li / TM") -> Figure:
    """A depth profile with its depth-scale uncertainty as a horizontal band.

    ``band`` is a :class:`~liprobe.apt.depth_calibration.DepthBand` evaluated at the
    profile's depths; the band spans where each point would sit for parameters within
    their uncertainties. ``marked_depth_nm`` (e.g. the depleted depth) gets its own span.
    """
    fig, ax = _figure((7.0, 4.0))
    order = np.argsort(depth_nm)
    d, v = np.asarray(depth_nm)[order], np.asarray(values)[order]
    ax.fill_betweenx(v, np.interp(d, band.depth_nm, band.low_nm),
                     np.interp(d, band.depth_nm, band.high_nm), color="tab:blue", alpha=0.2,
                     lw=0, label="depth scale, 68 %")
    ax.errorbar(d, v, yerr=np.asarray(sigmas)[order], marker="o", ms=3, lw=1, color="tab:blue",
                capsize=2, label="profile")
    if marked_depth_nm is not None:
        lo = float(np.interp(marked_depth_nm, band.depth_nm, band.low_nm))
        hi = float(np.interp(marked_depth_nm, band.depth_nm, band.high_nm))
        ax.axvspan(lo, hi, color="tab:red", alpha=0.15, lw=0,
                   label=f"marked depth {marked_depth_nm:.1f} nm: {lo:.1f}-{hi:.1f} nm")
        ax.axvline(marked_depth_nm, color="tab:red", lw=0.8)
    ax.set_xlabel("depth (nm)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return fig


def plot_z_sdm(sdm, *, known_spacing_nm: float | None = None) -> Figure:
    """z spatial distribution map with the known plane spacing marked."""
    fig, ax = _figure((6.0, 3.5))
    ax.plot(sdm.dz_nm, sdm.counts, color="k", lw=0.8)
    if known_spacing_nm:
        for k in range(1, int(sdm.dz_nm[-1] / known_spacing_nm) + 1):
            ax.axvline(k * known_spacing_nm, color="tab:red", lw=0.6, ls=":")
    ax.set_xlabel("z separation (nm)")
    ax.set_ylabel("pairs per bin")
    return fig

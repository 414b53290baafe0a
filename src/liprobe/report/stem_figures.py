"""Figures of the HAADF analysis (matplotlib, Agg; no pyplot state).

Each function takes a :class:`liprobe.stem.analyze.HaadfAnalysis` (and the image where
needed) and returns a :class:`matplotlib.figure.Figure`; ``save_figure`` writes it.
Nothing here computes analysis results.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from liprobe.report.canvas import PHASE_COLORS, save_figure
from liprobe.report.canvas import new_figure as _figure

__all__ = ["plot_plane_profile", "plot_depth_profile", "plot_sites", "save_figure",
           "PHASE_COLORS"]


def plot_plane_profile(analysis, *, max_nm: float | None = 5.0) -> Figure:
    """Intensity across the (003) planes, TM planes and Li planes marked.

    ``max_nm`` limits the shown range (None: everything).
    """
    prof = analysis.profile
    fig, ax = _figure()
    keep = np.isfinite(prof.intensity)
    if max_nm is not None:
        keep &= prof.position_nm <= max_nm
    ax.plot(prof.position_nm[keep], prof.intensity[keep], color="k", lw=1.0,
            label="mean intensity")
    top = prof.position_nm[keep].max() if keep.any() else 0.0
    for i, pos in enumerate(prof.tm_positions_nm[prof.tm_positions_nm <= top]):
        ax.axvline(pos, color=PHASE_COLORS["rock-salt"], lw=0.6, alpha=0.6,
                   label="TM plane" if i == 0 else None)
    for i, pos in enumerate(prof.li_positions_nm[prof.li_positions_nm <= top]):
        ax.axvline(pos, color=PHASE_COLORS["layered"], lw=0.6, ls="--", alpha=0.6,
                   label="Li plane" if i == 0 else None)
    ax.set_xlabel("distance across (003) planes (nm)")
    ax.set_ylabel("intensity (counts)")
    ax.set_title(f"(003) profile: d(003) = {analysis.d003_nm:.4f} nm")
    ax.legend(fontsize=7, loc="upper right")
    return fig


def plot_depth_profile(analysis) -> Figure:
    """Antisite fraction with its interval and the phase label against depth."""
    table = analysis.window_table()
    fig, ax = _figure()
    depth = table["depth_nm"]
    for phase, color in PHASE_COLORS.items():
        sel = table["phase"] == phase
        if not np.any(sel):
            continue
        err = np.vstack([np.clip(table["f"][sel] - table["f_lo"][sel], 0, None),
                         np.clip(table["f_hi"][sel] - table["f"][sel], 0, None)])
        ax.errorbar(depth[sel], table["f"][sel], yerr=np.nan_to_num(err), fmt="o", ms=4,
                    capsize=2, color=color, label=phase)
        for lo, hi in zip(table["depth_lo_nm"][sel], table["depth_hi_nm"][sel]):
            if hi > lo:
                ax.axvspan(lo, hi, color=color, alpha=0.08, lw=0)
    ax.set_xlabel("depth below surface (nm)")
    ax.set_ylabel(f"TM-on-Li fraction f ({analysis.model} model)")
    ax.set_title(f"HAADF disorder vs depth (R0 = {analysis.R0:.3f}, {analysis.reference})")
    ax.legend(fontsize=7)
    return fig


def plot_sites(image, analysis, *, max_sites: int = 20000) -> Figure:
    """The image with the TM sites (detected lattice) and generated Li sites."""
    fig, ax = _figure((6.0, 6.0))
    pixels = np.asarray(image.pixels, dtype=np.float32)
    ax.imshow(pixels, cmap="gray", interpolation="nearest")
    sites = analysis.sites
    step = max(1, sites.n_sites // max_sites)
    tm = sites.site[::step] == 0
    xs, ys = sites.x_px[::step], sites.y_px[::step]
    ax.plot(xs[tm], ys[tm], ".", ms=2, color=PHASE_COLORS["rock-salt"], label="TM sites")
    ax.plot(xs[~tm], ys[~tm], ".", ms=2, color=PHASE_COLORS["layered"], label="Li sites")
    ax.set_axis_off()
    ax.legend(fontsize=7, loc="upper right")
    return fig

"""Per-image HAADF pictures of the report: sites, (003) profile, f and phase per window.

Each image of the manifest is analysed as the study analyses it
(:func:`liprobe.stem.analyze.analyze_haadf` with the image's own R0 reference, the study's
seed), so the phase labels and f values in the figures are those of the study's
``haadf_windows`` table and of ``liprobe haadf IMAGE --reference REF``: one classifier
(:func:`liprobe.stem.phases.classify_phase`), one set of thresholds.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.report.canvas import PHASE_COLORS, new_figure

__all__ = ["haadf_images_of", "analyze_image", "haadf_figures"]


def haadf_images_of(manifest: Any) -> list[dict[str, Any]]:
    """Every HAADF image of a manifest: image, sample, depth offset, reference, pixel size."""
    items = [{"image": h.image, "sample": h.sample, "offset": h.depth_offset_nm,
              "reference": h.reference, "pixel_size_nm": h.pixel_size_nm}
             for h in manifest.haadf]
    for spec in manifest.specimens:
        for image in spec.haadf:
            offset = spec.depth.depth_nm if math.isfinite(spec.depth.depth_nm) else 0.0
            items.append({"image": image, "sample": spec.sample, "offset": offset,
                          "reference": spec.haadf_reference, "pixel_size_nm": None})
    return items


def analyze_image(item: dict[str, Any], *, seed: int = 0) -> tuple[Any, Any]:
    """(image, analysis) of one HAADF item, measured as in the study."""
    from liprobe.io import read_image
    from liprobe.stem.analyze import analyze_haadf

    image = read_image(item["image"], pixel_size_nm=item["pixel_size_nm"])
    ref = item["reference"]
    reference = ref if ref == "simulate" else read_image(ref, pixel_size_nm=item["pixel_size_nm"])
    analysis = analyze_haadf(image, reference=reference, depth_offset_nm=item["offset"],
                             seed=seed)
    return image, analysis


def _plane_profile(analysis: Any, *, max_nm: float = 4.0) -> tuple[Any, str]:
    prof = analysis.profile
    fig, ax = new_figure((7.0, 3.4))
    keep = np.isfinite(prof.intensity) & (prof.position_nm <= max_nm)
    x, y = prof.position_nm[keep], prof.intensity[keep]
    ax.plot(x, y, color="k", lw=1.0, label="mean intensity across the (003) planes")
    if x.size:
        top = float(x.max())
        floor = float(np.nanmin(y))
        tm = prof.tm_positions_nm[prof.tm_positions_nm <= top]
        li = prof.li_positions_nm[prof.li_positions_nm <= top]
        for i, pos in enumerate(tm):
            ax.axvline(pos, color=PHASE_COLORS["rock-salt"], lw=0.7, alpha=0.5,
                       label="TM plane" if i == 0 else None)
        li_y = np.interp(li, x, y)
        for i, (pos, height) in enumerate(zip(li, li_y)):
            ax.vlines(pos, floor, height, color=PHASE_COLORS["spinel-like"], lw=3, alpha=0.7,
                      label="TM-in-Li-layer signal (Li-plane intensity)" if i == 0 else None)
    ax.set_xlabel("distance across the (003) planes (nm)")
    ax.set_ylabel("intensity (counts)")
    ax.legend(fontsize=7, loc="upper right")
    r = analysis.R
    return fig, (f"Intensity across the (003) planes (d = {analysis.d003_nm:.3f} nm): TM planes "
                 "bright, Li planes dark; the orange bars are the intensity on the Li planes, "
                 f"i.e. TM that moved into the Li layer. Li/TM intensity ratio R = {r:.3f} "
                 f"against R0 = {analysis.R0:.3f} of the ordered crystal gives f = "
                 f"{analysis.f:.2f} for the whole image.")


def _windows(analysis: Any) -> tuple[Any, str]:
    table = analysis.window_table()
    fig, ax = new_figure((7.0, 3.4))
    depth = np.asarray(table["depth_nm"], dtype=np.float64)
    for phase, colour in PHASE_COLORS.items():
        sel = np.asarray(table["phase"]) == phase
        if not sel.any():
            continue
        f = np.asarray(table["f"], dtype=np.float64)[sel]
        err = np.vstack([np.clip(f - np.asarray(table["f_lo"])[sel], 0, None),
                         np.clip(np.asarray(table["f_hi"])[sel] - f, 0, None)])
        ax.errorbar(depth[sel], f, yerr=np.nan_to_num(err), fmt="o", ms=4, capsize=2,
                    color=colour, label=phase)
    ax.set_xlabel("depth below the particle surface (nm)")
    ax.set_ylabel("TM on Li sites, f")
    ax.set_ylim(-0.02, 0.55)
    ax.legend(fontsize=7)
    phases = list(dict.fromkeys(str(p) for p in table["phase"]))
    return fig, ("Antisite fraction f (± 95 % interval) and phase per 1-nm depth window of "
                 "this image (phase from the Li-plane alternation and f, the classifier of "
                 f"'liprobe haadf'). Conclusion: {' then '.join(phases)} with depth.")


def haadf_figures(item: dict[str, Any], *, seed: int = 0, study_root: Path | None = None
                  ) -> tuple[str, list[tuple[str, Any, str]]]:
    """(title, figures) of one HAADF image: sites overlay, (003) profile, windows."""
    from liprobe.report.stem_figures import plot_sites

    image, analysis = analyze_image(item, seed=seed)
    name = Path(item["image"]).name
    if study_root is not None:
        try:
            name = Path(item["image"]).resolve().relative_to(study_root.resolve()).as_posix()
        except ValueError:
            pass
    fig = plot_sites(image, analysis)
    out = [("haadf-image", fig, f"HAADF image {name} ({item['sample']}, surface edge at "
            f"{item['offset']:g} nm) with the detected TM columns (red) and the Li sites "
            "between them (blue). Conclusion: the lattice was found over the whole "
            f"particle region ({analysis.sites.n_sites} sites); f and phase below use them.")]
    out.append(("plane-profile", *_plane_profile(analysis)))
    out.append(("haadf-windows", *_windows(analysis)))
    return f"{name} ({item['sample']}, from {item['offset']:g} nm)", out

"""Figures the report draws from the study tables when the study folder has none.

The study pipeline writes the headline figures; the report's sections on elements vs depth
(paper Fig. 1c-d), within-specimen profiles, FDA, HAADF disorder and Li vs disorder need a
figure too, so they are drawn here from the tables that hold those results (rendering
only: every number plotted is read from a table). Matplotlib's object API is used (no
pyplot state, no backend switch), so this is safe inside any process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FALLBACK_FIGURES", "draw_fallback_figures"]

ELEMENTS = ("Li", "Ni", "Co", "Mn", "O")
_BULK_PLOT_DEPTH_NM = 5000.0


def _figure(n_cols: int = 1, *, width: float = 7.0, height: float = 3.6) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(1, n_cols, squeeze=False)[0]
    return fig, axes


def _plot_depth(depth: Any) -> np.ndarray:
    values = np.asarray(depth, dtype=np.float64)
    # surface (0 nm) on a log axis: plot at 1 nm; bulk (NaN) at the bulk depth
    values = np.where(np.isfinite(values), values, _BULK_PLOT_DEPTH_NM)
    return np.maximum(values, 1.0)


def _elements_vs_depth(tables: dict[str, Any]) -> Any | None:
    frame = tables.get("table2")
    if frame is None or frame.empty:
        return None
    present = [el for el in ELEMENTS if f"{el}_mean" in frame.columns]
    fig, axes = _figure(len(present), width=2.6 * len(present), height=3.2)
    for ax, el in zip(axes, present):
        for cycles, group in frame.groupby("cycles"):
            sd = group[f"{el}_sd"] if f"{el}_sd" in group.columns else None
            ax.errorbar(_plot_depth(group["depth_nm"]), group[f"{el}_mean"], yerr=sd,
                        marker="o", ms=4, capsize=2, lw=1, label=f"{cycles} cycles")
        ax.set_xscale("log")
        ax.set_xlabel("depth below surface (nm)")
        ax.set_title(f"{el} / (Ni+Co+Mn)")
    axes[0].set_ylabel("ratio to total metal (mean ± SD)")
    axes[0].legend(fontsize=7)
    return fig


def _within_specimen(tables: dict[str, Any]) -> Any | None:
    profiles, specimens = tables.get("profiles"), tables.get("specimens")
    if profiles is None or profiles.empty or "Li_ratio" not in profiles.columns:
        return None
    fig, axes = _figure(1, width=7.5, height=4.0)
    ax = axes[0]
    cycles_of = {}
    if specimens is not None and not specimens.empty:
        cycles_of = dict(zip(specimens["specimen"], specimens["cycles"]))
    cmap = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    colours: dict[Any, str] = {}
    for name, group in profiles.groupby("specimen", sort=False):
        cycles = cycles_of.get(name, "?")
        first = cycles not in colours
        colour = colours.setdefault(cycles, cmap[len(colours) % len(cmap)])
        if "n_atoms" in group.columns:  # drop the sparse end bins of the cone
            atoms = group["n_atoms"].to_numpy(np.float64)
            group = group[atoms >= 0.25 * np.nanmedian(atoms)]
        centre = 0.5 * (group["start_nm"].to_numpy() + group["end_nm"].to_numpy())
        ax.plot(centre, group["Li_ratio"], color=colour, lw=0.8, alpha=0.6,
                label=f"{cycles} cycles" if first else None)
    ax.set_xlabel("distance along the analysis direction (nm)")
    ax.set_ylabel("Li / (Ni+Co+Mn)")
    ax.set_title("Li profile inside each specimen")
    ax.legend(fontsize=7)
    return fig


def _fda(tables: dict[str, Any]) -> Any | None:
    fda, specimens = tables.get("fda"), tables.get("specimens")
    if fda is None or fda.empty or "mu" not in fda.columns:
        return None
    frame = fda
    if specimens is not None and not specimens.empty:
        frame = fda.merge(specimens[["specimen", "cycles", "depth_nm"]], on="specimen",
                          how="left")
    elements = [el for el in ELEMENTS if el in set(frame["element"])]
    fig, axes = _figure(len(elements), width=2.4 * len(elements), height=3.0)
    for ax, el in zip(axes, elements):
        part = frame[frame["element"] == el]
        if "depth_nm" in part.columns:
            ax.scatter(_plot_depth(part["depth_nm"]), part["mu"], s=10, c=part["cycles"],
                       cmap="viridis")
            ax.set_xscale("log")
            ax.set_xlabel("depth (nm)")
        else:
            ax.plot(part["mu"].to_numpy(), "o", ms=3)
        ax.set_ylim(0, 1)
        ax.set_title(f"{el}: Pearson μ")
    axes[0].set_ylabel("μ (0 random, 1 segregated)")
    return fig


def _haadf(tables: dict[str, Any]) -> Any | None:
    frame = tables.get("haadf_windows")
    if frame is None or frame.empty or "f" not in frame.columns:
        return None
    fig, axes = _figure(1, width=6.5, height=3.6)
    ax = axes[0]
    for phase, group in frame.groupby(frame["phase"].fillna("?").astype(str)):
        f = group["f"].to_numpy(np.float64)
        low = group.get("f_ci_low", group["f"]).to_numpy(np.float64)
        high = group.get("f_ci_high", group["f"]).to_numpy(np.float64)
        err = np.vstack([np.clip(f - low, 0, None), np.clip(high - f, 0, None)])
        ax.errorbar(_plot_depth(group["depth_nm"]), f, yerr=np.nan_to_num(err), fmt="o",
                    ms=4, capsize=2, label=phase)
    ax.set_xscale("log")
    ax.set_xlabel("depth below surface (nm)")
    ax.set_ylabel("antisite fraction f")
    ax.set_title("HAADF: disorder and phase vs depth")
    ax.legend(fontsize=7)
    return fig


def _li_vs_f(tables: dict[str, Any]) -> Any | None:
    frame = tables.get("li_vs_disorder_points")
    if frame is None or frame.empty or not {"f", "li"} <= set(frame.columns):
        return None
    fig, axes = _figure(1, width=5.0, height=3.6)
    ax = axes[0]
    ax.errorbar(frame["f"], frame["li"], yerr=frame.get("li_sigma"), fmt="o", ms=4, capsize=2)
    ax.set_xlabel("antisite fraction f (HAADF)")
    ax.set_ylabel("Li / (Ni+Co+Mn) (APT)")
    ax.set_title("Li vs structural disorder")
    return fig


#: (figure name, section id, drawer) in report order. A figure is drawn when its section
#: has no figure from the study; ``elements_vs_depth`` also when the study's depth figures
#: show Li only (no figure name mentions "element").
FALLBACK_FIGURES: tuple[tuple[str, str, Callable[[dict[str, Any]], Any]], ...] = (
    ("elements_vs_depth", "depth-profiles", _elements_vs_depth),
    ("within_specimen_profiles", "within-specimen", _within_specimen),
    ("fda_pearson_mu", "fda", _fda),
    ("haadf_f_vs_depth", "haadf", _haadf),
    ("li_vs_f", "li-vs-f", _li_vs_f),
)
_ALWAYS_UNLESS = {"elements_vs_depth": "element"}


def draw_fallback_figures(tables: dict[str, Path], figures_dir: Path,
                          section_figures: dict[str, list[str]]) -> dict[str, str]:
    """Draw the figures of sections that have none; return ``{figure name: section id}``.

    ``tables`` maps table names to CSV paths, ``section_figures`` section ids to the study's
    figure names placed there; PNG and SVG files go to ``figures_dir``.
    A table that cannot be read or drawn is skipped (its section then shows its note).
    """
    import pandas as pd

    loaded: dict[str, Any] = {}
    for name in ("table2", "profiles", "specimens", "fda", "haadf_windows",
                 "li_vs_disorder_points"):
        if name in tables:
            try:
                loaded[name] = pd.read_csv(tables[name])
            except (ValueError, OSError, pd.errors.EmptyDataError):
                continue
    drawn: dict[str, str] = {}
    for name, section, draw in FALLBACK_FIGURES:
        existing = section_figures.get(section, [])
        key = _ALWAYS_UNLESS.get(name)
        if (key is None and existing) or (key is not None
                                          and any(key in other for other in existing)):
            continue
        fig = draw(loaded)
        if fig is None:
            continue
        figures_dir.mkdir(parents=True, exist_ok=True)
        fig.savefig(figures_dir / f"{name}.png")
        fig.savefig(figures_dir / f"{name}.svg")
        drawn[name] = section
    return drawn

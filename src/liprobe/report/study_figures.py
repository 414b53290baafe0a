"""Figures of a study: capacity fade, Li vs depth per cycle count, gradient fits, growth
law and Li vs disorder (matplotlib, Agg backend). They only render result objects/tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from liprobe.report.canvas import cycle_color, depth_axis, new_figures, plot_depth

__all__ = ["plot_capacity_fade", "plot_li_vs_depth", "plot_gradient_fits", "plot_growth_law",
           "plot_li_vs_disorder", "write_study_figures"]


def _figure(width: float = 6.0, height: float = 4.0, ncols: int = 1) -> tuple[Any, Any]:
    fig, axes = new_figures(ncols, 1, size=(width, height))
    return fig, (axes[0] if ncols == 1 else axes)


def plot_capacity_fade(cycling: Any) -> Any:
    """Specific capacity (or capacity) and retention vs cycle, one line per cell file."""
    fig, (ax, ax2) = _figure(9.0, 3.6, 2)
    for (file, sample), group in cycling.groupby(["file", "sample"], sort=False):
        label = sample or Path(file).name
        spec = group["specific_capacity_mah_g"].to_numpy(np.float64)
        if np.all(np.isfinite(spec)):
            ax.plot(group["cycle"], spec, ".", ms=3, label=label)
            ax.set_ylabel("discharge capacity (mAh/g)")
        else:
            ax.plot(group["cycle"], group["discharge_capacity_mah"], ".", ms=3, label=label)
            ax.set_ylabel("discharge capacity (mAh)")
        ax2.plot(group["cycle"], 100 * group["retention"], ".", ms=3, label=label)
    ax.set_xlabel("cycle")
    ax2.set_xlabel("cycle")
    ax2.set_ylabel("capacity retention (%)")
    ax.legend(fontsize=8)
    fig.suptitle("Capacity fade")
    return fig


def plot_li_vs_depth(table2: Any, *, element: str = "Li") -> Any:
    """Mean metal-normalised ratio vs depth per cycle count, error bars = SD over specimens."""
    fig, ax = _figure()
    for cycles, group in table2.groupby("cycles"):
        color = cycle_color(cycles)
        depth = group["depth_nm"].to_numpy(np.float64)
        mean = group[f"{element}_mean"].to_numpy(np.float64)
        sd = np.nan_to_num(group[f"{element}_sd"].to_numpy(np.float64))
        bulk = ~np.isfinite(depth)
        ax.errorbar(plot_depth(depth), mean, yerr=sd, fmt="o-" if (~bulk).sum() > 1 else "o",
                    color=color, capsize=3, label=f"{cycles} cycles")
    depth_axis(ax)
    ax.set_ylabel(f"{element} / (Ni+Co+Mn)")
    ax.legend(fontsize=8)
    ax.set_title(f"{element} vs depth (mean ± SD over specimens)")
    return fig


def plot_gradient_fits(gradients: Any) -> Any:
    """Data and every successful fitted shape, one panel per cycle count."""
    items = list(gradients.fits.items())
    fig, axes = _figure(4.5 * max(len(items), 1), 3.8, max(len(items), 1))
    axes = np.atleast_1d(axes)
    for ax, (cycles, fits) in zip(axes, items, strict=False):
        if not fits:
            continue
        data = fits[0]
        sigma = data.sigma if np.all(np.isfinite(data.sigma)) else None
        ax.errorbar(data.depth_nm, data.ratio, yerr=sigma, fmt="ko", capsize=3, label="data")
        grid = np.concatenate([[0.0], np.geomspace(0.5, 6000.0, 300)])
        for fit in fits:
            if fit.success:
                aicc = f"AICc {fit.aicc:.1f}" if np.isfinite(fit.aicc) else "AICc n/a"
                ax.plot(grid, fit.predict(grid), label=f"{fit.model} ({aicc})")
        depth_axis(ax, bulk=False)
        ax.set_title(f"{cycles} cycles")
        ax.set_ylabel("Li ratio")
        ax.legend(fontsize=7)
    return fig


def plot_growth_law(gradients: Any) -> Any:
    """Profile likelihood of α per shape, with α = 0.5 and α = 1 marked."""
    fig, ax = _figure()
    for model, law in gradients.growth.items():
        rss = law.profile_rss
        ax.plot(law.profile_alpha, rss - np.nanmin(rss), label=f"{model}: {law.alpha:.2f}")
    for alpha in (0.5, 1.0):
        ax.axvline(alpha, color="grey", ls="--", lw=1)
    ax.set_xlabel("growth exponent α (depth ∝ N^α)")
    ax.set_ylabel("Δ RSS (or Δχ²) of the joint fit")
    ax.set_title("Growth law: profile of the joint fit over α")
    ax.legend(fontsize=7)
    return fig


def plot_li_vs_disorder(points: Any, fit: Any) -> Any:
    """Li against the antisite fraction f, with the Li-site model Li = Li0 (1 - k f)."""
    fig, ax = _figure()
    sigma = points["li_sigma"].to_numpy(np.float64)
    ax.errorbar(points["f"], points["li"], yerr=np.where(np.isfinite(sigma), sigma, 0.0),
                fmt="o", capsize=3, label="joined points")
    if fit is not None and fit.success:
        f = np.linspace(0.0, float(points["f"].max()) * 1.1 + 1e-6, 100)
        ax.plot(f, fit.li0.value * (1 - fit.k.value * f),
                label=f"Li0 (1 - k f), k = {fit.k.value:.2f} ± {fit.k.se:.2f}")
    ax.set_xlabel("TM on Li sites, f")
    ax.set_ylabel("Li ratio")
    ax.legend(fontsize=8)
    ax.set_title("Li vs structural disorder")
    return fig


def write_study_figures(folder: Path, *, tables: dict[str, Any], gradients: Any = None,
                        disorder: Any = None) -> list[Path]:
    """Write every figure the data allow as PNG and SVG; return the paths written."""
    from liprobe.report.canvas import save_figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    if len(tables.get("cycling", ())):
        figures["capacity_fade"] = plot_capacity_fade(tables["cycling"])
    table2 = tables.get("table2")
    if table2 is not None and len(table2) and "Li_mean" in table2:
        figures["li_vs_depth"] = plot_li_vs_depth(table2)
    if gradients is not None and gradients.fits:
        figures["gradient_fits"] = plot_gradient_fits(gradients)
    if gradients is not None and gradients.growth:
        figures["growth_law"] = plot_growth_law(gradients)
    points = tables.get("li_vs_disorder_points")
    if points is not None and len(points):
        figures["li_vs_disorder"] = plot_li_vs_disorder(points, disorder)
    written = []
    for name, fig in figures.items():
        for suffix in (".png", ".svg"):
            path = folder / f"{name}{suffix}"
            save_figure(fig, path, dpi=120)
            written.append(path)
    return written

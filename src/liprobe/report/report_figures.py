"""The report's study-level figures, drawn from the study's tables (rendering only).

Each function returns ``(figure, caption)`` or None when its table is empty; the caption
says what is shown and what the data let one conclude. All figures share the depth axis
and the cycle colours of :mod:`liprobe.report.canvas`. Published values (Chae et al.
2021, Tables 1-2, as packaged in ``liprobe/study/data``) are overlaid when given.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from liprobe.report.canvas import (
    PHASE_COLORS,
    cycle_color,
    depth_axis,
    element_color,
    fmt_number,
    new_figure,
    new_figures,
    plot_depth,
)

__all__ = ["li_vs_depth", "elements_vs_depth", "capacity", "growth", "li_vs_disorder",
           "haadf_vs_depth", "published_points", "ELEMENTS"]

ELEMENTS = ("Li", "Ni", "Co", "Mn", "O")
_PUBLISHED_LABEL = "published (Chae et al. 2021)"


def published_points() -> Any:
    """The packaged Table 2 as plot points: cycles, depth_nm (NaN: bulk), li ... o."""
    from liprobe.study.manifest import parse_depth
    from liprobe.study.paper import published_tables

    _, table2, _ = published_tables()
    frame = table2.copy()
    frame["depth_nm"] = [parse_depth(str(t).split("(")[0].strip()).depth_nm
                         for t in frame["depth_as_reported"]]
    return frame


def _best_fits(fits: Any) -> dict[int, Any]:
    if fits is None or fits.empty or "aicc_rank" not in fits:
        return {}
    ok = fits[fits["success"].astype(bool)]
    best = {}
    for cycles, group in ok.groupby("cycles"):
        finite = group[np.isfinite(group["aicc"].to_numpy(np.float64))]
        pick = finite if len(finite) else group
        best[int(cycles)] = pick.sort_values("aicc_rank").iloc[0]
    return best


def _fit_curve(row: Any, depth: np.ndarray) -> np.ndarray | None:
    from liprobe.study.shapes import get_shape

    try:
        shape = get_shape(str(row["model"]))
        params = np.array([float(row[p]) for p in shape.params])
    except (KeyError, ValueError, TypeError):
        return None
    if not np.all(np.isfinite(params)):
        return None
    return shape.func(depth, params)


def li_vs_depth(table2: Any, *, fits: Any = None, published: Any = None,
                element: str = "Li") -> tuple[Any, str] | None:
    """Li ratio vs depth per cycle count (mean ± SD over specimens), the best-AICc gradient
    fit per cycle count, and the published points (Fig. 1c analogue)."""
    column = f"{element}_mean"
    if table2 is None or table2.empty or column not in table2:
        return None
    fig, ax = new_figure((7.5, 4.4))
    grid = np.concatenate([[0.0], np.geomspace(0.3, 6000.0, 400)])
    best = _best_fits(fits)
    for cycles, group in table2.groupby("cycles"):
        colour = cycle_color(cycles)
        depth = group["depth_nm"].to_numpy(np.float64)
        sd = np.nan_to_num(group[f"{element}_sd"].to_numpy(np.float64))
        order = np.argsort(plot_depth(depth))
        ax.errorbar(plot_depth(depth)[order], group[column].to_numpy(np.float64)[order],
                    yerr=sd[order], fmt="o", ms=5, capsize=3, color=colour,
                    label=f"{cycles} cycles (n per depth: {int(group['n'].min())}-"
                          f"{int(group['n'].max())})")
        row = best.get(int(cycles))
        if row is not None and element == "Li":
            curve = _fit_curve(row, grid)
            if curve is not None:
                ax.plot(grid, curve, color=colour, lw=1.2, alpha=0.8,
                        label=f"{cycles} cycles: {row['model']} fit")
    if published is not None and element.lower() in published:
        for cycles, group in published.groupby("cycles"):
            if int(cycles) not in set(int(c) for c in table2["cycles"]):
                continue
            ax.plot(plot_depth(group["depth_nm"]), group[element.lower()], "D", ms=5,
                    mfc="none", color=cycle_color(cycles), alpha=0.9,
                    label=_PUBLISHED_LABEL if cycles == published["cycles"].max() else None)
    depth_axis(ax)
    ax.set_ylabel(f"{element} / (Ni+Co+Mn)")
    ax.legend(fontsize=7, loc="lower right")
    shallow = table2[np.isfinite(table2["depth_nm"].to_numpy(np.float64))]
    caption = (f"{element} per metal against depth below the secondary-particle surface, one "
               "colour per cycle count (points: mean ± SD over the specimens at that depth; "
               "lines: the lowest-AICc gradient fit; bulk specimens at 'bulk')")
    if published is not None:
        caption += "; open diamonds: the published Table 2 values"
    if len(shallow) and element == "Li":
        top = shallow.loc[shallow["depth_nm"].idxmin()]
        bulk = table2[~np.isfinite(table2["depth_nm"].to_numpy(np.float64))]
        ref = float(bulk[column].mean()) if len(bulk) else float(table2[column].max())
        caption += (f". Conclusion: after {int(top['cycles'])} cycles Li at "
                    f"{top['depth_label']} is {fmt_number(top[column], '.2f')} against "
                    f"{fmt_number(ref, '.2f')} in the bulk: Li is lost from the surface "
                    "inwards, and deeper after more cycles" if top[column] < 0.8 * ref
                    else ". Conclusion: no marked surface depletion in these data")
    return fig, caption + "."


def elements_vs_depth(table2: Any, *, published: Any = None) -> tuple[Any, str] | None:
    """One panel per element: ratio vs depth per cycle count (Fig. 1d analogue)."""
    if table2 is None or table2.empty:
        return None
    present = [el for el in ELEMENTS if f"{el}_mean" in table2]
    fig, axes = new_figures(len(present), 1, size=(2.9 * len(present), 3.3))
    for ax, el in zip(axes, present):
        for cycles, group in table2.groupby("cycles"):
            depth = group["depth_nm"].to_numpy(np.float64)
            order = np.argsort(plot_depth(depth))
            ax.errorbar(plot_depth(depth)[order], group[f"{el}_mean"].to_numpy()[order],
                        yerr=np.nan_to_num(group[f"{el}_sd"].to_numpy(np.float64))[order],
                        fmt="o-", ms=3, lw=0.8, capsize=2, color=cycle_color(cycles),
                        label=f"{cycles} cycles")
        if published is not None and el.lower() in published:
            for cycles, group in published.groupby("cycles"):
                ax.plot(plot_depth(group["depth_nm"]), group[el.lower()], "D", ms=3.5,
                        mfc="none", color=cycle_color(cycles))
        depth_axis(ax, label="depth (nm)")
        ax.tick_params(labelsize=7)
        ax.set_title(f"{el} / (Ni+Co+Mn)", fontsize=9)
    axes[0].legend(fontsize=6)
    caption = ("Every element per metal against depth, one colour per cycle count (mean ± SD "
               "over specimens" + ("; open diamonds: published Table 2" if published is not None
                                    else "") + "). Conclusion: the transition metals stay "
               "at their bulk shares at every depth while Li changes, so the gradient is a Li "
               "gradient, not a change of the metal ratio; O varies with neutral O2 loss.")
    return fig, caption


def capacity(cycling: Any, *, cycles_of: dict[str, int] | None = None
             ) -> tuple[Any, str] | None:
    """Discharge capacity and retention vs cycle, coloured by the cell's cycle count."""
    if cycling is None or cycling.empty:
        return None
    fig, (ax, ax2) = new_figures(2, 1, size=(9.0, 3.4))
    last = {}
    for (file, sample), group in cycling.groupby(["file", "sample"], sort=False, dropna=False):
        cycles = (cycles_of or {}).get(sample)
        colour = cycle_color(cycles if cycles is not None else group["cycle"].max())
        spec = group["specific_capacity_mah_g"].to_numpy(np.float64)
        y, unit = ((spec, "mAh/g") if np.all(np.isfinite(spec))
                   else (group["discharge_capacity_mah"].to_numpy(np.float64), "mAh"))
        label = str(sample) if isinstance(sample, str) and sample else str(file).split("/")[-1]
        ax.plot(group["cycle"], y, ".", ms=3, color=colour, label=label)
        ax.set_ylabel(f"discharge capacity ({unit})")
        ax2.plot(group["cycle"], 100 * group["retention"], ".", ms=3, color=colour, label=label)
        last[label] = (int(group["cycle"].max()), float(group["retention"].iloc[-1]))
    ax.set_xlabel("cycle")
    ax2.set_xlabel("cycle")
    ax2.set_ylabel("capacity retention (%)")
    ax.legend(fontsize=8)
    text = "; ".join(f"{k}: {100 * r:.0f} % after {n} cycles" for k, (n, r) in last.items())
    return fig, ("Discharge capacity and retention (capacity / first-cycle capacity) against "
                 f"cycle number. Conclusion: {text}.")


def growth(fits: Any, summary: dict[str, Any], *, definition: str = "half_recovery"
           ) -> tuple[Any, str] | None:
    """Gradient depth vs cycle count with SE (one shape: the growth law's best), and
    depth ∝ N^α for the fitted α, 0.5 and 1."""
    shape = summary.get("best_growth_model")
    if fits is not None and not fits.empty and shape in set(fits.get("model", ())):
        fits = fits[fits["model"] == shape]
    best = _best_fits(fits)
    column = f"{definition}_depth_nm"
    points = [(c, float(r[column]), float(r.get(f"{column}_se", math.nan)), r["model"])
              for c, r in best.items() if column in r and math.isfinite(float(r[column]))]
    if not points:
        return None
    fig, ax = new_figure((6.0, 4.0))
    for c, depth, se, model in points:
        ax.errorbar([c], [depth], yerr=[se if math.isfinite(se) else 0.0], fmt="o", ms=7,
                    capsize=4, color=cycle_color(c), label=f"{c} cycles ({model})")
    n_max, d_max = max((c, d) for c, d, _, _ in points)
    grid = np.linspace(0.0, n_max * 1.15, 100)
    alpha_info = (summary.get("alpha") or {}).get(summary.get("best_growth_model") or "", {})
    alpha = alpha_info.get("alpha")
    laws = [(1.0, "∝ N (α = 1)", "--"), (0.5, "∝ √N (α = 0.5)", ":")]
    if alpha is not None and math.isfinite(float(alpha)):
        laws.insert(0, (float(alpha), f"fitted α = {float(alpha):.2f}", "-"))
    for a, label, style in laws:
        ax.plot(grid, d_max * (grid / n_max) ** a if a > 0 else np.full_like(grid, d_max),
                ls=style, color="#555555", lw=1, label=label)
    ax.set_xlabel("cycle number N")
    ax.set_ylabel(f"gradient depth, {definition.replace('_', ' ')} (nm)")
    ax.set_xlim(0, n_max * 1.15)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    verdict = alpha_info.get("verdict") or "no growth-law fit"
    shape_text = shape or "best-AICc"
    return fig, ("Depth of the Li gradient (" + definition.replace("_", " ") + f", {shape_text} "
                 "shape, ± SE) against cycle number, with depth ∝ N^α curves "
                 f"through the deepest point. Conclusion: {verdict}.")


def li_vs_disorder(points: Any, model: dict[str, Any] | None) -> tuple[Any, str] | None:
    """APT Li against the HAADF antisite fraction f at matching depths, with Li0 (1 - k f)."""
    if points is None or points.empty:
        return None
    fig, ax = new_figure((6.0, 4.0))
    sigma = points["li_sigma"].to_numpy(np.float64)
    ax.errorbar(points["f"], points["li"], yerr=np.where(np.isfinite(sigma), sigma, 0.0),
                fmt="o", ms=4, capsize=2, color=cycle_color(300), label="joined depths")
    text = "no fit"
    if model and model.get("success"):
        f = np.linspace(0.0, max(float(points["f"].max()) * 1.1, 0.05), 100)
        ax.plot(f, model["li0"] * (1 - model["k"] * f), "k-", lw=1,
                label=f"Li0 (1 - k f), k = {model['k']:.2f}")
        text = (f"Li = Li0 (1 - k f) with k = {fmt_number(model['k'], '.2f')} (95 % CI "
                f"{fmt_number(model.get('k_ci_low'), '.2f')} to "
                f"{fmt_number(model.get('k_ci_high'), '.2f')}); Li falls where TM occupies "
                "Li sites")
    ax.set_xlabel("TM on Li sites, f (HAADF)")
    ax.set_ylabel("Li / (Ni+Co+Mn) (APT)")
    ax.legend(fontsize=8)
    return fig, ("Li ratio (APT) against the antisite fraction f (HAADF) at the same depths "
                 f"of the 300-cycle particle. Conclusion: {text}.")


def haadf_vs_depth(windows: Any) -> tuple[Any, str] | None:
    """f per HAADF depth window with its interval, coloured by phase, on the depth axis."""
    if windows is None or windows.empty:
        return None
    fig, ax = new_figure((7.0, 3.8))
    for phase, group in windows.groupby("phase"):
        lo = np.clip(group["f"] - group["f_ci_low"], 0, None)
        hi = np.clip(group["f_ci_high"] - group["f"], 0, None)
        ax.errorbar(group["depth_nm"], group["f"], yerr=np.nan_to_num(np.vstack([lo, hi])),
                    fmt="o", ms=3, capsize=1.5, color=PHASE_COLORS.get(phase, "k"), label=phase)
    depth_axis(ax, bulk=False)
    ax.set_ylabel("TM on Li sites, f")
    ax.set_ylim(-0.02, 0.55)
    ax.legend(fontsize=8)
    shallow = windows.sort_values("depth_nm")
    first = shallow.iloc[0]
    deep = shallow.iloc[-1]
    return fig, ("Antisite fraction f (± 95 % interval) and phase per 1-nm depth window of "
                 "every HAADF image, on the common depth axis. Conclusion: "
                 f"{first['phase']} at {first['depth_nm']:.1f} nm (f = {first['f']:.2f}), "
                 f"{deep['phase']} at {deep['depth_nm']:.0f} nm (f = {deep['f']:.2f}).")


def element_legend_color(element: str) -> str:
    """The colour of an element in every figure (re-exported for the HTML legend)."""
    return element_color(element)

"""The key results of a study: each claim with its number, interval and verdict.

Verdicts: ``supported`` (the interval excludes the alternative), ``contradicted`` (it
excludes the claim), ``not determined`` (it holds both). Each claim carries the model-
adequacy caveat of the fit it rests on (e.g. chi2/dof > 1) beside it. Every number is read
from the study's tables and ``summary.json``; nothing is fitted here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.report.canvas import fmt_number

__all__ = ["Claim", "key_results"]

SUPPORTED, NOT_DETERMINED, CONTRADICTED = "supported", "not determined", "contradicted"


@dataclass(frozen=True)
class Claim:
    """One claim of the study and what the data say about it."""

    claim: str
    number: str
    interval: str
    verdict: str
    caveat: str = ""


def _f(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _interval(lo: float, hi: float, spec: str = ".2f") -> str:
    return f"{fmt_number(lo, spec)} to {fmt_number(hi, spec)}" if math.isfinite(lo) or \
        math.isfinite(hi) else "n/a"


def _verdict(lo: float, hi: float, threshold: float, *, claim_above: bool) -> str:
    """Claim 'value > threshold' (claim_above) or 'value < threshold'."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return NOT_DETERMINED
    if claim_above:
        return SUPPORTED if lo > threshold else CONTRADICTED if hi < threshold else NOT_DETERMINED
    return SUPPORTED if hi < threshold else CONTRADICTED if lo > threshold else NOT_DETERMINED


def _chi2(text: Any) -> float:
    match = re.search(r"chi2/dof = ([0-9.]+)", str(text or ""))
    return float(match[1]) if match else math.nan


def _chi2_caveat(text: Any) -> str:
    match = re.search(r"chi2/dof = ([0-9.]+)", str(text or ""))
    if not match:
        return ""
    value = float(match[1])
    if value <= 2.0:
        return f"fit adequate (χ²/dof = {value:.2f})"
    return (f"χ²/dof = {value:.1f}: the profile shape does not describe the data within their "
            "errors; intervals are scaled by it and the verdict rests on the shape chosen")


def _surface_depletion(table2: Any) -> Claim | None:
    if table2 is None or table2.empty or "Li_mean" not in table2:
        return None
    depth = table2["depth_nm"].to_numpy(np.float64)
    bulk = table2[~np.isfinite(depth) & (table2["cycles"] == table2["cycles"].min())]
    cycled = table2[np.isfinite(depth) & (table2["cycles"] > 0)]
    if bulk.empty or cycled.empty:
        return None
    ref, ref_se = float(bulk["Li_mean"].mean()), float(bulk["Li_se"].mean())
    top_cycles = cycled["cycles"].max()
    top = cycled[cycled["cycles"] == top_cycles].sort_values("depth_nm").iloc[0]
    value, se = float(top["Li_mean"]), float(top["Li_se"])
    ratio = value / ref
    ratio_se = ratio * math.hypot(se / value if value else 0.0, ref_se / ref)
    lo, hi = ratio - 1.96 * ratio_se, ratio + 1.96 * ratio_se
    return Claim(f"Li is depleted at the surface of cycled particles ({int(top_cycles)} cycles, "
                 f"{top['depth_label']}, against the pristine bulk)",
                 f"Li(surface) / Li(bulk) = {ratio:.2f}", _interval(lo, hi),
                 _verdict(lo, hi, 1.0, claim_above=False),
                 f"mean ± 1.96 SE over n = {int(top['n'])} specimens; SE from the spread "
                 "between specimens")


def _gradient_deepens(fits: Any, definition: str, shape: str | None) -> Claim | None:
    """Depth at the fewest vs the most cycles, both from one shape (the growth law's best):
    depths of different shapes are not comparable."""
    column = f"{definition}_depth_nm"
    if fits is None or fits.empty or column not in fits:
        return None
    ok = fits[fits["success"].astype(bool)]
    ok = ok[ok["model"] == shape] if shape in set(ok["model"]) else ok[ok["aicc_rank"] == 1]
    ok = ok[np.isfinite(ok[column].to_numpy(np.float64))]
    if len(ok) < 2:
        return None
    rows = ok.sort_values("cycles")
    first, last = rows.iloc[0], rows.iloc[-1]
    diff = float(last[column]) - float(first[column])
    se = math.hypot(_f(first.get(f"{column}_se")), _f(last.get(f"{column}_se")))
    lo, hi = diff - 1.96 * se, diff + 1.96 * se
    caveat = "; ".join(f"{int(r['cycles'])} cycles: {c}" for r in (first, last)
                       if (c := _chi2_caveat(r["message"])))
    verdict = _verdict(lo, hi, 0.0, claim_above=True)
    if any(_chi2(r["message"]) > 3.0 for r in (first, last)):
        # a verdict resting on a shape that does not describe the data is not established
        verdict = NOT_DETERMINED
    return Claim(f"The Li gradient deepens with cycling ({definition.replace('_', ' ')} depth "
                 f"of the {first['model']} shape, {int(first['cycles'])} → "
                 f"{int(last['cycles'])} cycles)",
                 f"{fmt_number(first[column], '.0f')} → {fmt_number(last[column], '.0f')} nm "
                 f"({fmt_number(diff, '+.0f')} nm)", _interval(lo, hi, ".0f") + " nm",
                 verdict, caveat or "delta-method SE of the fitted shape")


def _growth_law(summary: dict[str, Any]) -> Claim | None:
    alpha = summary.get("alpha") or {}
    model = summary.get("best_growth_model")
    info = alpha.get(model) if model else None
    if not info:
        return None
    a, lo, hi = _f(info.get("alpha")), _f(info.get("alpha_ci_low")), _f(info.get("alpha_ci_high"))
    hi_shown = hi if math.isfinite(hi) else math.inf
    has_half = lo <= 0.5 <= hi_shown
    has_one = lo <= 1.0 <= hi_shown
    if has_half and has_one:
        verdict, which = NOT_DETERMINED, "cannot tell ∝ N from ∝ √N"
    elif has_half:
        verdict, which = SUPPORTED, "diffusion-like growth ∝ √N"
    elif has_one:
        verdict, which = SUPPORTED, "linear growth ∝ N"
    else:
        verdict, which = CONTRADICTED, "neither ∝ N nor ∝ √N"
    interval = (f"{fmt_number(lo, '.2f')} to " + (fmt_number(hi, '.2f') if math.isfinite(hi)
                                                  else "unbounded"))
    return Claim(f"Growth law of the gradient depth, depth ∝ N^α ({model} shape): {which}",
                 f"α = {fmt_number(a, '.2f')}", interval, verdict,
                 _chi2_caveat(info.get("note")) or str(info.get("note") or ""))


def _particle_integral(particle: Any) -> list[Claim]:
    if particle is None or particle.empty:
        return []
    out = []
    for cycles, group in particle.groupby("cycles"):
        row = group.iloc[0]
        diff, se = _f(row["difference"]), _f(row["predicted_li_se"])
        lo, hi = diff - 1.96 * se, diff + 1.96 * se
        if not math.isfinite(_f(row["icp_li"])):
            continue
        verdict = SUPPORTED if lo <= 0 <= hi else CONTRADICTED
        out.append(Claim(f"The APT depth profile integrated over the particle matches ICP-AES "
                         f"({int(cycles)} cycles, {row['model']})",
                         f"Li {fmt_number(row['predicted_li'], '.3f')} vs ICP "
                         f"{fmt_number(row['icp_li'], '.3f')} (Δ {fmt_number(diff, '+.3f')})",
                         _interval(lo, hi, "+.3f"), verdict,
                         f"sphere of radius {fmt_number(_f(row['radius_nm']) / 1000, '.1f')} µm; "
                         "SE of the prediction only (ICP uncertainty not given)"))
        loss, loss_se, cap = (_f(row["inventory_loss"]), _f(row["inventory_loss_se"]),
                              _f(row.get("capacity_loss")))
        if math.isfinite(cap) and math.isfinite(loss):
            d, dlo, dhi = loss - cap, loss - cap - 1.96 * loss_se, loss - cap + 1.96 * loss_se
            out.append(Claim(f"The Li lost from the particle accounts for the capacity lost "
                             f"({int(cycles)} cycles)",
                             f"Li inventory lost {100 * loss:.1f} % vs capacity lost "
                             f"{100 * cap:.1f} %", f"Δ {100 * dlo:+.1f} to {100 * dhi:+.1f} %",
                             SUPPORTED if dlo <= 0 <= dhi else (
                                 CONTRADICTED if dhi < 0 else NOT_DETERMINED),
                             "loss beyond the capacity loss is Li trapped in inactive sites"
                             if d > 0 else ""))
    return out


def _li_site(summary: dict[str, Any]) -> Claim | None:
    k = summary.get("li_site_model")
    if not k or not k.get("success"):
        return None
    lo, hi = _f(k.get("k_ci_low")), _f(k.get("k_ci_high"))
    return Claim("Li follows the structural disorder: Li = Li0 (1 − k f), TM on Li sites "
                 "displaces Li (k > 0)", f"k = {fmt_number(k.get('k'), '.2f')}",
                 _interval(lo, hi), _verdict(lo, hi, 0.0, claim_above=True),
                 f"{k.get('n_points')} joined depths; Pearson r = "
                 f"{fmt_number(k.get('pearson_r'), '.3f')}")


def _surface_phase(windows: Any) -> Claim | None:
    if windows is None or windows.empty:
        return None
    order = windows.sort_values("depth_nm")
    top = order[order["depth_nm"] <= order["depth_nm"].min() + 2.0]
    deep = order[order["depth_nm"] >= order["depth_nm"].max() - 2.0]
    top_phase = top["phase"].mode().iloc[0]
    deep_phase = deep["phase"].mode().iloc[0]
    verdict = SUPPORTED if top_phase != "layered" and deep_phase == "layered" else (
        CONTRADICTED if top_phase == "layered" else NOT_DETERMINED)
    return Claim("The surface is reconstructed (rock-salt / spinel-like), the interior layered",
                 f"{top_phase} at {top['depth_nm'].min():.1f} nm, {deep_phase} at "
                 f"{deep['depth_nm'].max():.0f} nm",
                 f"f = {top['f'].mean():.2f} vs {deep['f'].mean():.2f}", verdict,
                 "phase per 1-nm window from the Li-plane alternation and f")


def _best_model_rows(particle: Any, model: str | None) -> Any:
    if particle is None or particle.empty or model is None or "model" not in particle:
        return particle
    chosen = particle[particle["model"] == model]
    return chosen if len(chosen) else particle


def key_results(tables: dict[str, Any], summary: dict[str, Any]) -> list[Claim]:
    """The study's claims, in the order of the paper's argument, with their verdicts."""
    settings = (summary.get("provenance") or {}).get("settings") or {}
    definition = settings.get("depth_definition", "half_recovery")
    claims = [_surface_depletion(tables.get("table2")),
              _gradient_deepens(tables.get("gradient_fits"), definition,
                                summary.get("best_growth_model")),
              _growth_law(summary),
              *_particle_integral(_best_model_rows(tables.get("particle_integral"),
                                                   summary.get("best_growth_model"))),
              _surface_phase(tables.get("haadf_windows")),
              _li_site(summary)]
    return [c for c in claims if c is not None]

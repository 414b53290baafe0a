"""The study-level science on Li(depth) profiles: gradient fits per cycle count, the
growth law across cycle counts, and the particle integral against ICP-AES and capacity.

Used by the pipeline on aggregated specimen data and by :mod:`liprobe.study.paper` on the
published Table 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from liprobe.study._estimate import Estimate
from liprobe.study.gradient import GradientFit, fit_gradients
from liprobe.study.growth import GrowthLaw, fit_growth_law, growth_from_depths
from liprobe.study.growth_levels import LevelDepths, depths_at_levels, growth_headline
from liprobe.study.particle import ParticleIntegral, combine_over_shapes, particle_integral

__all__ = ["GradientStudy", "analyze_gradients"]


@dataclass(frozen=True, eq=False)
class GradientStudy:
    """Everything fitted to the Li(depth) profiles of a study.

    Attributes
    ----------
    fits : dict of int to tuple of GradientFit
        Per cycle count, every shape sorted by AICc (best first).
    growth : dict of str to GrowthLaw
        Joint growth-law fit per shape (only shapes every cycle count could support).
    best_growth_model : str or None
        Shape whose free-α joint fit has the lowest AICc.
    two_step_alpha : dict of str to Estimate
        Cross-check per depth definition: α from per-cycle gradient depths of the best
        single-profile shape shared by all cycle counts.
    particle : tuple of ParticleIntegral
        One per (cycle count, successful shape), and one per cycle count with
        ``model == "over shapes"`` whose interval holds the spread between shapes.
    weighted : bool
        Whether per-point standard errors weighted the fits.
    notes : tuple of str
        Honest statements about what the data can and cannot support.
    levels : LevelDepths or None
        Depths at fixed Li levels per cycle count (always computed with two or more
        cycle counts; the result to read when the self-similar model is rejected).
    headline : str
        The sentence stating what the growth analysis supports
        (:func:`~liprobe.study.growth_levels.growth_headline`).
    """

    fits: Mapping[int, tuple[GradientFit, ...]]
    growth: Mapping[str, GrowthLaw]
    best_growth_model: str | None
    two_step_alpha: Mapping[str, Estimate]
    particle: tuple[ParticleIntegral, ...]
    weighted: bool
    notes: tuple[str, ...]
    levels: LevelDepths | None = None
    headline: str = ""

    def best_fit(self, cycles: int) -> GradientFit | None:
        """The lowest-AICc successful fit at ``cycles``."""
        fits = [f for f in self.fits.get(cycles, ()) if f.success]
        return fits[0] if fits else None

    def fit_rows(self) -> list[dict[str, object]]:
        """One row per (cycle count, shape) for tables."""
        rows = []
        for cycles, fits in self.fits.items():
            for rank, fit in enumerate(fits):
                rows.append({"cycles": cycles, "aicc_rank": rank + 1, **fit.summary_row()})
        return rows

    def growth_rows(self) -> list[dict[str, object]]:
        """One row per (shape, growth model) for tables."""
        rows = []
        for model, law in self.growth.items():
            for comp in law.comparisons:
                rows.append({"shape": model, "growth_model": comp.name, "alpha": comp.alpha,
                             "n_free_params": comp.n_free_params, "rss": comp.rss,
                             "aicc": comp.aicc, "delta_aicc": comp.delta_aicc,
                             "akaike_weight": comp.akaike_weight,
                             "test_statistic": comp.test_statistic, "p_value": comp.p_value,
                             **law.alpha.as_dict("alpha_free"),
                             "alpha_wald_se": law.alpha_wald.se, "n_points": law.n_points,
                             "weighted": law.weighted, "chi2_dof": law.chi2_dof,
                             "gof_p_value": law.gof_p_value,
                             "self_similarity_p_value": law.self_similarity_p_value,
                             "self_similar_rejected": law.rejected,
                             "depth_sigma_used": law.depth_sigma_used,
                             "verdict": law.verdict})
        return rows


def analyze_gradients(cycles: np.ndarray, depth_nm: np.ndarray, li: np.ndarray, *,
                      sigma: np.ndarray | None = None,
                      models: Sequence[str] = ("exponential", "erf", "two_scale", "logistic"),
                      radius_nm: float = 5000.0,
                      icp_li: Mapping[int, float] | None = None,
                      pristine_li: float = math.nan,
                      retention: Mapping[int, float] | None = None,
                      depth_definitions: Sequence[str] = ("half_recovery", "recovery_95",
                                                          "deficit"),
                      depth_sigma: np.ndarray | None = None,
                      li_levels: Sequence[float] = (0.6, 0.7, 0.8, 0.9)) -> GradientStudy:
    """Fit, compare and integrate the Li(depth) profiles of several cycle counts.

    Parameters
    ----------
    cycles, depth_nm, li : (n,) arrays
        Long format; points with non-finite depth (bulk specimens) are left out of the fits.
    sigma : (n,) array, keyword-only
        SE of each mean (weights); None when not known (e.g. the published table).
    models : keyword-only
        Profile shapes to fit.
    radius_nm : float, keyword-only
        Particle radius of the particle integral.
    icp_li : mapping, keyword-only
        ``{cycles: ICP-AES Li ratio}``.
    pristine_li : float, keyword-only
        Li ratio before cycling (reference of the inventory loss).
    retention : mapping, keyword-only
        ``{cycles: capacity retention fraction}``.
    depth_sigma : (n,) array, keyword-only
        Standard uncertainty of each depth (nm), an error in x of the gradient and
        growth fits (effective variance).
    li_levels : keyword-only
        Li levels at which depths per cycle count are read (:func:`depths_at_levels`).
    """
    N = np.asarray(cycles, np.float64)
    d = np.asarray(depth_nm, np.float64)
    c = np.asarray(li, np.float64)
    s = None if sigma is None else np.asarray(sigma, np.float64)
    sd = None if depth_sigma is None else np.nan_to_num(np.asarray(depth_sigma, np.float64))
    keep = np.isfinite(d) & np.isfinite(c) & (N > 0)
    if s is not None:
        keep &= np.isfinite(s) & (s > 0)
    notes = []
    if s is None:
        notes.append("no per-depth uncertainties: fits are unweighted and their errors come "
                     "from the scatter about the fit; with 4-8 depths per cycle count the "
                     "intervals are wide, which is a result, not a failure")
    fits: dict[int, tuple[GradientFit, ...]] = {}
    for n_cycles in np.unique(N[keep]):
        sel = keep & (N == n_cycles)
        if np.unique(d[sel]).size < 2:
            notes.append(f"{int(n_cycles)} cycles: fewer than two depths, no profile fitted")
            continue
        fits[int(n_cycles)] = fit_gradients(d[sel], c[sel], sigma=None if s is None else s[sel],
                                            models=models,
                                            depth_sigma=None if sd is None else sd[sel])
        failed = [f for f in fits[int(n_cycles)] if not f.success]
        for f in failed:
            notes.append(f"{int(n_cycles)} cycles, {f.model}: {f.message}")
    growth: dict[str, GrowthLaw] = {}
    if len(fits) >= 2:
        for model in models:
            if all(any(f.model == model and f.success for f in group) for group in fits.values()):
                growth[model] = fit_growth_law(N[keep], d[keep], c[keep],
                                               sigma=None if s is None else s[keep],
                                               model=model,
                                               depth_sigma=None if sd is None else sd[keep])
    else:
        notes.append("fewer than two cycle counts with depth profiles: no growth law")
    best = None
    if growth:
        best = min(growth, key=lambda m: growth[m].comparison("free").aicc
                   if math.isfinite(growth[m].comparison("free").aicc) else math.inf)
    two_step: dict[str, Estimate] = {}
    if len(fits) >= 2:
        shared = [m for m in models if all(any(f.model == m and f.success for f in group)
                                           for group in fits.values())]
        if shared:
            shape = min(shared, key=lambda m: sum(
                next(f.aicc for f in group if f.model == m) for group in fits.values()))
            for definition in depth_definitions:
                depths = [next(f for f in fits[k] if f.model == shape).gradient_depth(definition)
                          for k in fits]
                two_step[definition] = growth_from_depths(list(fits), [e.value for e in depths],
                                                          [e.se for e in depths])
    particle = []
    for n_cycles, group in fits.items():
        mine, aiccs = [], []
        for fit in group:
            if not fit.success:
                continue
            mine.append(particle_integral(
                fit, cycles=n_cycles, radius_nm=radius_nm,
                measured_ratio=(icp_li or {}).get(n_cycles, math.nan),
                pristine_ratio=pristine_li,
                retention=(retention or {}).get(n_cycles, math.nan)))
            aiccs.append(fit.aicc)
        particle += mine
        if len(mine) > 1:
            # the spread between shapes is part of the uncertainty (most of the volume
            # lies between the measured depths)
            particle.append(combine_over_shapes(mine, aiccs))
    levels = None
    if len(fits) >= 2:
        levels = depths_at_levels(N[keep], d[keep], c[keep],
                                  sigma=None if s is None else s[keep], levels=li_levels)
    headline = growth_headline(growth.get(best) if best else None, levels, shape=best or "")
    if best and growth[best].rejected:
        notes.append(f"{best}: the self-similar growth model is rejected; read the depths at "
                     "fixed Li levels (growth_levels table), not one α")
    return GradientStudy(fits, growth, best, two_step, tuple(particle), s is not None,
                         tuple(notes), levels, headline)

"""Goodness of fit of the joint growth-law fit: absolute χ² and self-similarity."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from liprobe.study.gradient import _bounds

__all__ = ["goodness_of_fit"]


def goodness_of_fit(model, joint, theta, rss_free, n, k, weighted):
    """(χ², dof, p) of the joint fit, and (stat, dof, p) of self-similarity.

    Self-similarity: the joint model is nested in one free profile of the same shape per
    cycle count; the extra freedom is tested by Δχ² (known errors) or F (scatter
    estimated). The absolute χ² test needs per-point errors (NaN otherwise).
    """
    chi2 = rss_free if weighted else math.nan
    gdof = n - k
    gp = float(stats.chi2.sf(chi2, gdof)) if weighted and gdof > 0 else math.nan
    d, c = joint.depth, joint.ratio
    rss_sep, p_sep = 0.0, 0
    lower, upper = _bounds(model, d)
    per_group = joint.shape_params(theta)
    for g in range(joint.groups.size):
        sel = joint.group_of == g
        dd, cc, ww = d[sel], c[sel], joint.weights[sel]

        def resid(p, dd=dd, cc=cc, ww=ww):
            return (joint.shape.func(dd, p) - cc) * ww

        x0 = np.clip(per_group[g], lower + 1e-9, upper - 1e-9)
        fit = optimize.least_squares(resid, x0, bounds=(lower, upper), method="trf",
                                     x_scale="jac", max_nfev=2000)
        rss_sep += float(2 * fit.cost)
        p_sep += len(joint.shape.params)
    extra = p_sep - k
    dof_sep = n - p_sep
    if extra <= 0:
        return chi2, gdof, gp, math.nan, 0, math.nan
    diff = max(rss_free - rss_sep, 0.0)
    if weighted:
        return chi2, gdof, gp, diff, extra, float(stats.chi2.sf(diff, extra))
    if dof_sep <= 0 or rss_sep <= 0:
        return chi2, gdof, gp, math.nan, extra, math.nan
    stat = (diff / extra) / (rss_sep / dof_sep)
    return chi2, gdof, gp, float(stat), extra, float(stats.f.sf(stat, extra, dof_sep))

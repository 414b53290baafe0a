"""Depths at fixed Li levels per cycle count, and the headline of the growth analysis.

When the self-similar growth model is rejected (:func:`liprobe.study.growth.fit_growth_law`
says so), one exponent α does not describe how the depleted zone grows; what the data
still give directly is, for each cycle count, the depth at which Li reaches a fixed level
(0.6, 0.7, ... of the metal-normalised ratio). :func:`depths_at_levels` reads it from the
monotone (isotonic, increasing with depth) fit of each profile, interpolated linearly
between measured depths, with a parametric bootstrap (Li redrawn from its errors, or from
the scatter about the monotone fit) for the intervals, and an α per level from those
depths (log-log slope across cycle counts) with its bootstrap interval.
:func:`growth_headline` writes the sentence the report leads with, from these results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError
from liprobe.study._estimate import Estimate

__all__ = ["LevelDepths", "depths_at_levels", "growth_headline"]


@dataclass(frozen=True, eq=False)
class LevelDepths:
    """Depth (nm) at each Li level (rows) and cycle count (columns), with intervals.

    ``depth_nm`` is NaN where the profile does not reach the level within the measured
    depths, and equals the shallowest depth where it is reached there already.
    ``alpha[i]`` is the log-log slope of depth against cycles at ``levels[i]``.
    """

    levels: tuple[float, ...]
    cycles: np.ndarray
    depth_nm: np.ndarray
    depth_ci_low: np.ndarray
    depth_ci_high: np.ndarray
    alpha: tuple[Estimate, ...]
    n_bootstrap: int

    def rows(self) -> list[dict[str, float]]:
        """One row per (level, cycle count), α of the level repeated."""
        out = []
        for i, lev in enumerate(self.levels):
            for j, n in enumerate(self.cycles):
                out.append({"li_level": lev, "cycles": float(n),
                            "depth_nm": float(self.depth_nm[i, j]),
                            "depth_nm_ci_low": float(self.depth_ci_low[i, j]),
                            "depth_nm_ci_high": float(self.depth_ci_high[i, j]),
                            **self.alpha[i].as_dict("alpha")})
        return out


def _crossings(depth: np.ndarray, li: np.ndarray, weights: np.ndarray,
               levels: np.ndarray) -> np.ndarray:
    from scipy.optimize import isotonic_regression

    iso = isotonic_regression(li, weights=weights, increasing=True).x
    out = np.full(levels.size, np.nan)
    for i, lev in enumerate(levels):
        above = np.flatnonzero(iso >= lev)
        if above.size == 0:
            continue
        j = int(above[0])
        if j == 0:
            out[i] = depth[0]
            continue
        d0, d1, y0, y1 = depth[j - 1], depth[j], iso[j - 1], iso[j]
        out[i] = d1 if y1 == y0 else d0 + (lev - y0) * (d1 - d0) / (y1 - y0)
    return out


def _alpha(cycles: np.ndarray, depths: np.ndarray) -> float:
    ok = np.isfinite(depths) & (depths > 0)
    if ok.sum() < 2 or np.unique(cycles[ok]).size < 2:
        return math.nan
    return float(np.polyfit(np.log(cycles[ok]), np.log(depths[ok]), 1)[0])


def depths_at_levels(cycles: np.ndarray, depth_nm: np.ndarray, li: np.ndarray, *,
                     sigma: np.ndarray | None = None,
                     levels: Sequence[float] = (0.6, 0.7, 0.8, 0.9),
                     n_bootstrap: int = 400, seed: int = 0,
                     level: float = 0.95) -> LevelDepths:
    """Depth where each cycle count's Li profile reaches each of ``levels``.

    Parameters
    ----------
    cycles, depth_nm, li : (n,) arrays
        Long-format profiles (cycle counts > 0; non-finite depths are left out).
    sigma : (n,) array, keyword-only
        SE of each Li value; None: the RMS scatter about each monotone fit.
    levels : keyword-only
        Li levels (metal-normalised ratio).
    n_bootstrap, seed : keyword-only
        Parametric bootstrap replicates and their seed.
    level : float, keyword-only
        Confidence level of the percentile intervals.
    """
    N = np.asarray(cycles, np.float64)
    d = np.asarray(depth_nm, np.float64)
    c = np.asarray(li, np.float64)
    s = None if sigma is None else np.asarray(sigma, np.float64)
    keep = np.isfinite(N) & np.isfinite(d) & np.isfinite(c) & (N > 0)
    if s is not None:
        keep &= np.isfinite(s) & (s > 0)
    groups = np.unique(N[keep])
    if groups.size < 1:
        raise ParameterError("no profile with a cycle count > 0 and finite depths")
    lev = np.asarray(levels, np.float64)
    per = []
    for g in groups:
        sel = keep & (N == g)
        order = np.argsort(d[sel])
        dd, cc = d[sel][order], c[sel][order]
        if s is not None:
            ss = s[sel][order]
        else:
            from scipy.optimize import isotonic_regression

            iso = isotonic_regression(cc, increasing=True).x
            rms = float(np.sqrt(np.sum((cc - iso) ** 2) / max(cc.size - 1, 1)))
            ss = np.full(cc.size, max(rms, 1e-6))
        per.append((dd, cc, ss))
    point = np.column_stack([_crossings(dd, cc, 1 / ss**2, lev) for dd, cc, ss in per])
    rng = np.random.default_rng(seed)
    boot = np.empty((n_bootstrap, lev.size, groups.size))
    for b in range(n_bootstrap):
        for j, (dd, cc, ss) in enumerate(per):
            boot[b, :, j] = _crossings(dd, cc + rng.normal(0.0, ss), 1 / ss**2, lev)
    lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
    with np.errstate(all="ignore"):
        finite = np.isfinite(boot)
        lo = np.where(finite.mean(0) > 0.5, np.nanquantile(np.where(finite, boot, np.nan),
                                                            lo_q, axis=0), np.nan)
        hi = np.where(finite.mean(0) >= 1.0 - lo_q, np.nanquantile(
            np.where(finite, boot, np.nan), hi_q, axis=0), np.inf)
    alphas = []
    for i in range(lev.size):
        a = _alpha(groups, point[i])
        reps = np.array([_alpha(groups, boot[b, i]) for b in range(n_bootstrap)])
        reps = reps[np.isfinite(reps)]
        if math.isfinite(a) and reps.size >= 0.5 * n_bootstrap:
            ql, qh = np.quantile(reps, [lo_q, hi_q])
            alphas.append(Estimate(a, float(np.std(reps, ddof=1)), float(ql), float(qh), level))
        else:
            alphas.append(Estimate(a))
    return LevelDepths(tuple(float(x) for x in lev), groups, point, lo, hi, tuple(alphas),
                       n_bootstrap)


def growth_headline(law, levels: LevelDepths | None = None, *, shape: str = "") -> str:
    """One sentence stating what the growth analysis supports.

    Never states a bound as an estimate; says whether the self-similar model is
    rejected and, if so, gives the per-level exponents instead of one α.
    """
    if law is None:
        return "Growth law: not fitted (fewer than two cycle counts with depth profiles)."
    a = law.alpha
    label = f"Growth law ({shape or law.model} profile): "
    tests = []
    if math.isfinite(law.gof_p_value):
        tests.append(f"χ²/dof = {law.chi2_dof:.2f}, p {_p(law.gof_p_value)}")
    if math.isfinite(law.self_similarity_p_value):
        tests.append(f"self-similarity test p {_p(law.self_similarity_p_value)}")
    test_text = f" ({'; '.join(tests)})" if tests else ""
    if law.rejected:
        text = (label + "the self-similar model (one profile shape whose depth grows ∝ N^α) "
                f"is rejected{test_text}, so no single α describes the data")
        if levels is not None:
            parts = []
            for lev, est in zip(levels.levels, levels.alpha, strict=True):
                if math.isfinite(est.ci_low):
                    parts.append(f"{est.value:.2f} ({est.level:.0%} interval {est.ci_low:.2f} "
                                 f"to {est.ci_high:.2f}) at Li = {lev:g}")
                elif math.isfinite(est.value):
                    parts.append(f"{est.value:.2f} (no interval) at Li = {lev:g}")
            if parts:
                text += "; depths at fixed Li levels give α = " + ", ".join(parts)
        return text + "."
    lo_ok, hi_ok = math.isfinite(a.ci_low), math.isfinite(a.ci_high)
    if lo_ok and hi_ok:
        core = (f"depleted depth ∝ N^α with α = {a.value:.2f} ({a.level:.0%} "
                f"profile-likelihood interval {a.ci_low:.2f} to {a.ci_high:.2f})")
    elif hi_ok:
        core = (f"the data bound α only from above: α ≤ {a.ci_high:.2f} ({a.level:.0%} "
                "one-sided); no estimate of α is supported")
    elif lo_ok:
        core = (f"the data bound α only from below: α ≥ {a.ci_low:.2f} ({a.level:.0%} "
                "one-sided); no estimate of α is supported")
    else:
        core = "the data do not bound α on either side"
    status = (f"; the self-similar model is not rejected{test_text}" if tests else
              "; the self-similar model could not be tested")
    return label + core + status + "."


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"

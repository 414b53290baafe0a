"""The growth law of the Li-depleted zone, depth ∝ N^α, fitted jointly across cycle counts.

Model (self-similar growth): the profile after ``N`` cycles is one shape of
:mod:`liprobe.study.shapes` whose length parameters all scale as
``L(N) = L_ref (N / N_ref)^α`` (``N_ref`` the geometric mean of the cycle counts, which
decorrelates ``L_ref`` from ``α``); the bulk ratio and any share parameter are common to
all cycle counts, the surface ratio is per cycle count (or common, ``shared_surface``).
Every gradient-depth definition based on the profile's shape then grows ∝ N^α.

The exponent's interval comes from the profile likelihood (Venzon & Moolgavkar, Appl.
Stat. 37, 87, 1988): with per-point standard errors, ``Δχ² <= χ²₁(level)``; without,
the F form ``RSS(α) <= RSS_min (1 + F(1, n-p; level)/(n-p))``. The models α = 1 (linear
in cycles), α = 0.5 (diffusion-like, √N) and α free are compared by AICc and by the
likelihood-ratio (or F) test of each fixed value against the free fit. The verdict states
what the data support; with few depths per cycle count, wide intervals are the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from liprobe.errors import ParameterError
from liprobe.study._estimate import Estimate
from liprobe.study._growth_checks import goodness_of_fit
from liprobe.study.gradient import _bounds, _starts, information_criteria
from liprobe.study.shapes import get_shape

__all__ = ["GrowthComparison", "GrowthLaw", "fit_growth_law", "growth_from_depths"]

#: α is unconstrained in sign; this range only keeps the optimiser finite. An interval
#: end that reaches it is reported as unbounded (a one-sided bound).
_ALPHA_RANGE = (-4.0, 4.0)


@dataclass(frozen=True)
class GrowthComparison:
    """One growth model in the comparison (``alpha`` NaN for the free fit's name)."""

    name: str
    alpha: float
    n_free_params: int
    rss: float
    aicc: float
    delta_aicc: float
    akaike_weight: float
    test_statistic: float
    p_value: float


@dataclass(frozen=True, eq=False)
class GrowthLaw:
    """Joint fit of Li(depth) profiles at several cycle counts with L ∝ N^α."""

    model: str
    cycles: np.ndarray
    reference_cycles: float
    alpha: Estimate
    alpha_wald: Estimate
    comparisons: tuple[GrowthComparison, ...]
    param_names: tuple[str, ...]
    params: np.ndarray
    profile_alpha: np.ndarray
    profile_rss: np.ndarray
    n_points: int
    weighted: bool
    success: bool
    verdict: str
    note: str
    gof_statistic: float = math.nan
    gof_dof: int = 0
    gof_p_value: float = math.nan
    self_similarity_statistic: float = math.nan
    self_similarity_dof: int = 0
    self_similarity_p_value: float = math.nan
    chi2_dof: float = math.nan
    rejected: bool = False
    depth_sigma_used: bool = False

    @property
    def bounded(self) -> tuple[bool, bool]:
        """Whether the data bound α from below and from above (finite interval ends)."""
        return bool(math.isfinite(self.alpha.ci_low)), bool(math.isfinite(self.alpha.ci_high))

    def predict(self, depth_nm: np.ndarray, cycles: float) -> np.ndarray:
        """Fitted ratio at ``depth_nm`` after ``cycles`` (surface value interpolated in N)."""
        return _predict_one(self, np.asarray(depth_nm, np.float64), float(cycles))

    def comparison(self, name: str) -> GrowthComparison:
        """The comparison row called ``name`` (``"alpha=1"``, ``"alpha=0.5"``, ``"free"``)."""
        for row in self.comparisons:
            if row.name == name:
                return row
        raise ParameterError(f"no growth model {name!r}; have "
                             f"{', '.join(r.name for r in self.comparisons)}")


class _Joint:
    """The joint least-squares problem (alpha optionally fixed)."""

    def __init__(self, model: str, cycles: np.ndarray, depth: np.ndarray, ratio: np.ndarray,
                 weights: np.ndarray, shared_surface: bool) -> None:
        self.shape = get_shape(model)
        self.groups, self.group_of = np.unique(cycles, return_inverse=True)
        if np.any(self.groups <= 0):
            raise ParameterError("the growth law needs cycle counts > 0; leave out pristine "
                                 "samples (they set the bulk value, not the growth)")
        self.n_ref = float(np.exp(np.mean(np.log(self.groups))))
        self.depth, self.ratio, self.weights = depth, ratio, weights
        self.shared_surface = shared_surface
        self.n_surface = 1 if shared_surface else self.groups.size
        self.rest = [p for p in self.shape.params if p != "c_surface"]
        self.names = ((["c_surface"] if shared_surface else
                       [f"c_surface[N={g:g}]" for g in self.groups])
                      + [f"{p}[N_ref]" if p in self.shape.lengths else p for p in self.rest]
                      + ["alpha"])
        lower, upper = _bounds(model, depth)
        idx = [self.shape.params.index(p) for p in self.rest]
        self.lower = np.r_[np.full(self.n_surface, lower[0]), lower[idx], _ALPHA_RANGE[0]]
        self.upper = np.r_[np.full(self.n_surface, upper[0]), upper[idx], _ALPHA_RANGE[1]]

    def shape_params(self, theta: np.ndarray) -> np.ndarray:
        """(groups, p) per-point-group shape parameters."""
        alpha = theta[-1]
        out = np.empty((self.groups.size, len(self.shape.params)))
        out[:, 0] = theta[0] if self.shared_surface else theta[: self.n_surface]
        for j, name in enumerate(self.rest):
            col = self.shape.params.index(name)
            value = theta[self.n_surface + j]
            out[:, col] = value * (self.groups / self.n_ref) ** alpha \
                if name in self.shape.lengths else value
        return out

    def residual(self, theta: np.ndarray) -> np.ndarray:
        per_group = self.shape_params(theta)
        model = np.empty_like(self.ratio)
        for g in range(self.groups.size):
            sel = self.group_of == g
            model[sel] = self.shape.func(self.depth[sel], per_group[g])
        return (model - self.ratio) * self.weights

    def starts(self) -> list[np.ndarray]:
        out = []
        for start in _starts(self.shape.name, self.depth, self.ratio):
            surface = np.full(self.n_surface, start[0])
            out.append(np.r_[surface, start[1:], 0.75])
        return out

    def fit(self, alpha: float | None, x0: np.ndarray | None = None):
        lower, upper = self.lower.copy(), self.upper.copy()
        free = np.ones(lower.size, bool)
        if alpha is not None:
            free[-1] = False
        starts = [x0] if x0 is not None else self.starts()
        best = None
        for start in starts:
            theta0 = start.copy()
            if alpha is not None:
                theta0[-1] = alpha

            def resid(x: np.ndarray, theta0: np.ndarray = theta0) -> np.ndarray:
                theta = theta0.copy()
                theta[free] = x
                return self.residual(theta)

            x = np.clip(theta0[free], lower[free] + 1e-9, upper[free] - 1e-9)
            res = optimize.least_squares(resid, x, bounds=(lower[free], upper[free]),
                                         method="trf", x_scale="jac", max_nfev=3000)
            if best is None or res.cost < best[0].cost:
                theta = theta0.copy()
                theta[free] = res.x
                best = (res, theta, free)
        return best


def _predict_one(law: GrowthLaw, depth: np.ndarray, cycles: float) -> np.ndarray:
    shape = get_shape(law.model)
    theta = law.params
    groups = law.cycles
    n_surface = groups.size if law.param_names[0].startswith("c_surface[") else 1
    surface = theta[:n_surface]
    cs = float(np.interp(np.log(cycles), np.log(groups), surface)) if n_surface > 1 else surface[0]
    rest = [p for p in shape.params if p != "c_surface"]
    p = np.empty(len(shape.params))
    p[0] = cs
    for j, name in enumerate(rest):
        value = theta[n_surface + j]
        col = shape.params.index(name)
        p[col] = value * (cycles / law.reference_cycles) ** theta[-1] \
            if name in shape.lengths else value
    return shape.func(depth, p)


def fit_growth_law(cycles: np.ndarray, depth_nm: np.ndarray, ratio: np.ndarray, *,
                   sigma: np.ndarray | None = None, model: str = "exponential",
                   shared_surface: bool = False, level: float = 0.95,
                   alpha_grid: np.ndarray | None = None,
                   depth_sigma: np.ndarray | None = None) -> GrowthLaw:
    """Fit depth ∝ N^α jointly to Li(depth) at several cycle counts.

    Parameters
    ----------
    cycles, depth_nm, ratio : (n,) arrays
        Long-format data: cycle count, depth (nm), Li ratio of each point (profiles of
        at least two cycle counts > 0).
    sigma : (n,) array, keyword-only
        Standard error of each ratio; None for unweighted (scatter estimated).
    model : str, keyword-only
        Profile shape (``exponential``, ``erf``, ``two_scale``, ``logistic``).
    shared_surface : bool, keyword-only
        One surface ratio for all cycle counts instead of one each.
    level : float, keyword-only
        Confidence level of the α interval.
    alpha_grid : array, keyword-only
        α values at which to tabulate the likelihood profile (default: the points the
        interval search visits: steps outward from the optimum of 0.1, each 1.5 times the
        last and at most 0.5, up to the first α past the threshold or ±4). α is not
        constrained to be positive; an interval end that reaches ±4 is reported as
        unbounded (``-inf``/``inf``), i.e. a one-sided bound.
    depth_sigma : (n,) array, keyword-only
        Standard uncertainty of each depth (nm): an error in x, carried by effective
        variance (σ² + (dLi/dd σ_d)², the slope from the fitted profile; J. Orear, Am.
        J. Phys. 50 (1982) 912).

    The fit also tests its own assumptions: the self-similar shape against one fit of
    the same shape per cycle count (χ² or F test of the nested models), and, with
    per-point errors, the absolute χ² goodness of fit. ``rejected`` is True when
    either rejects at the 5 % level; one α then does not describe the data (use
    :func:`liprobe.study.growth_levels.depths_at_levels`).

    Returns
    -------
    GrowthLaw
    """
    N = np.asarray(cycles, dtype=np.float64)
    d = np.asarray(depth_nm, dtype=np.float64)
    c = np.asarray(ratio, dtype=np.float64)
    if not (N.shape == d.shape == c.shape) or N.ndim != 1:
        raise ParameterError("cycles, depth_nm and ratio must be 1-D arrays of equal length")
    weighted = sigma is not None
    s = np.ones_like(c) if sigma is None else np.asarray(sigma, dtype=np.float64)
    keep = np.isfinite(N) & np.isfinite(d) & np.isfinite(c) & np.isfinite(s) & (s > 0)
    sd = (np.zeros_like(c) if depth_sigma is None
          else np.nan_to_num(np.asarray(depth_sigma, np.float64), nan=0.0))
    N, d, c, s, sd = N[keep], d[keep], c[keep], s[keep], sd[keep]
    if np.unique(N).size < 2:
        raise ParameterError("the growth law needs profiles at two or more cycle counts; got "
                             f"{np.unique(N).tolist()}")
    joint = _Joint(model, N, d, c, 1.0 / s if weighted else np.ones_like(c), shared_surface)
    n, k = c.size, len(joint.names)
    res, theta, _ = joint.fit(None)
    x_errors = bool(np.any(sd > 0))
    if x_errors:
        # effective variance: the depth error times the fitted profile's slope
        base = s if weighted else np.full_like(c, math.sqrt(2 * res.cost / max(n - k, 1)))
        slope = _model_slope(joint, theta)
        eff = np.hypot(base, slope * sd)
        joint = _Joint(model, N, d, c, (1.0 / eff) if weighted else base / eff,
                       shared_surface)
        res, theta, _ = joint.fit(None, theta)
        alt = joint.fit(None)
        if alt[0].cost < res.cost:
            res, theta = alt[0], alt[1]
    rss_free = float(2 * res.cost)
    dof = n - k
    # Wald interval from the Jacobian
    jtj = res.jac.T @ res.jac
    se_alpha = math.nan
    # over-dispersion: a weighted fit whose chi2 is too large for its dof at the 5 %
    # level (model misfit, or errors underestimated) has its errors and tests scaled by
    # phi = chi2/dof (quasi-likelihood; Burnham & Anderson 2002, QAICc). Scaling on every
    # chance excess above 1 would make the interval cover ~98 % instead of 95 %.
    overdispersed = (weighted and dof > 0
                     and stats.chi2.sf(rss_free, dof) < 0.05)
    phi = rss_free / dof if overdispersed else 1.0
    if dof > 0 or weighted:
        try:
            scale = phi if weighted else rss_free / dof
            cov = np.linalg.inv(jtj) * scale
            se_alpha = math.sqrt(cov[-1, -1]) if cov[-1, -1] > 0 else math.nan
        except np.linalg.LinAlgError:
            pass
    q = stats.norm.ppf(0.5 + level / 2) if weighted else (
        stats.t.ppf(0.5 + level / 2, dof) if dof > 0 else math.nan)
    alpha_hat = float(theta[-1])
    alpha_wald = Estimate(alpha_hat, se_alpha, float(alpha_hat - q * se_alpha),
                          float(alpha_hat + q * se_alpha), level)
    if weighted:
        threshold = rss_free + stats.chi2.ppf(level, 1) * phi
    elif dof > 0:
        threshold = rss_free * (1 + stats.f.ppf(level, 1, dof) / dof)
    else:
        threshold = math.nan
    grid, rss_grid, ends = _profile(joint, theta, threshold)
    if alpha_grid is not None:
        table = np.asarray(alpha_grid, np.float64)
        rss_grid = np.array([2 * joint.fit(float(a), np.r_[theta[:-1], a])[0].cost
                             for a in table])
        grid = table
    alpha = Estimate(alpha_hat, se_alpha, ends[0], ends[1], level)
    comparisons = _compare(joint, theta, rss_free, n, k, weighted, phi)
    gof = goodness_of_fit(model, joint, theta, rss_free, n, k, weighted)
    rejected = bool((math.isfinite(gof[2]) and gof[2] < 0.05)
                    or (math.isfinite(gof[5]) and gof[5] < 0.05))
    verdict = _verdict(alpha, comparisons, rejected)
    per_cycle = {float(g): int(np.sum(N == g)) for g in joint.groups}
    note = (f"{n} points over cycle counts {per_cycle} for {k} parameters"
            + ("" if weighted else "; no per-point uncertainties were given, so the scatter "
               "about the fit sets the errors (few points: wide intervals are expected)")
            + (f"; chi2/dof = {phi:.2f} > 1: errors and tests scaled by it (the shape does "
               "not describe the data to within their standard errors)" if phi > 1 else ""))
    return GrowthLaw(model, joint.groups, joint.n_ref, alpha, alpha_wald, comparisons,
                     tuple(joint.names), theta, grid, rss_grid, n, weighted, bool(res.success),
                     verdict, note, *gof, float(rss_free / dof) if dof > 0 else math.nan,
                     rejected, x_errors)


def _model_slope(joint: _Joint, theta: np.ndarray) -> np.ndarray:
    """dLi/dd of the fitted joint profile at every point."""
    per_group = joint.shape_params(theta)
    out = np.empty_like(joint.ratio)
    for g in range(joint.groups.size):
        sel = joint.group_of == g
        dd = joint.depth[sel]
        step = 1e-3 * np.maximum(np.abs(dd), 1.0)
        out[sel] = (joint.shape.func(dd + step, per_group[g])
                    - joint.shape.func(np.maximum(dd - step, 0.0), per_group[g])) / (
            dd + step - np.maximum(dd - step, 0.0))
    return out


def _profile(joint: _Joint, theta: np.ndarray, threshold: float):
    """Profile RSS(α) stepping outward from the optimum; interval ends by root finding.

    Returns the visited α, their RSS and the (low, high) ends; an end is ∓inf when the
    profile stays below the threshold up to the edge of ``_ALPHA_RANGE`` (one-sided).
    """
    alpha_hat = float(theta[-1])
    visited = {alpha_hat: 2 * joint.fit(alpha_hat, theta)[0].cost}
    ends = []
    for sign in (-1.0, 1.0):
        edge = _ALPHA_RANGE[0] if sign < 0 else _ALPHA_RANGE[1]
        prev_a, x0 = alpha_hat, theta.copy()
        step, end = 0.1, sign * math.inf
        if not math.isfinite(threshold):
            ends.append(math.nan)
            continue
        while True:
            a = prev_a + sign * step
            if (a - edge) * sign > 0:
                a = edge
            fit_a, theta_a, _ = joint.fit(a, np.r_[x0[:-1], a])
            rss_a = 2 * fit_a.cost
            visited[a] = rss_a
            if rss_a > threshold:
                end = _bisect(joint, theta_a, prev_a, a, threshold)
                break
            if a == edge:
                break
            prev_a, x0 = a, theta_a
            step = min(step * 1.5, 0.5)
        ends.append(end)
    alphas = np.array(sorted(visited))
    return alphas, np.array([visited[a] for a in alphas]), (ends[0], ends[1])


def _bisect(joint: _Joint, theta: np.ndarray, inside: float, outside: float,
            threshold: float) -> float:
    def excess(alpha: float) -> float:
        return 2 * joint.fit(alpha, np.r_[theta[:-1], alpha])[0].cost - threshold

    try:
        return float(optimize.brentq(excess, min(inside, outside), max(inside, outside),
                                     xtol=3e-3))
    except (ValueError, RuntimeError):
        return float(outside)


def _compare(joint: _Joint, theta: np.ndarray, rss_free: float, n: int, k: int,
             weighted: bool, phi: float = 1.0) -> tuple[GrowthComparison, ...]:
    rows = []
    fits = [("alpha=1", 1.0), ("alpha=0.5", 0.5), ("free", None)]
    results = []
    for name, alpha in fits:
        if alpha is None:
            rss, kk, a = rss_free, k, float(theta[-1])
        else:
            res = joint.fit(alpha, np.r_[theta[:-1], alpha])[0]
            rss, kk, a = float(2 * res.cost), k - 1, alpha
        extra = 1 if phi > 1 else 0
        results.append((name, a, kk, rss,
                        information_criteria(rss / phi, n, kk + extra, weighted=weighted)[1]))
    finite = [r[4] for r in results if math.isfinite(r[4])]
    best_aicc = min(finite) if finite else math.nan
    raw = [math.exp(-0.5 * (r[4] - best_aicc)) if math.isfinite(r[4]) else 0.0 for r in results]
    total = sum(raw) or math.nan
    for (name, a, kk, rss, aicc), w in zip(results, raw, strict=True):
        if name == "free":
            stat, p = math.nan, math.nan
        elif weighted:
            stat = max(rss - rss_free, 0.0) / phi
            p = float(stats.chi2.sf(stat, 1))
        elif n - k > 0 and rss_free > 0:
            stat = max(rss - rss_free, 0.0) / (rss_free / (n - k))
            p = float(stats.f.sf(stat, 1, n - k))
        else:
            stat, p = math.nan, math.nan
        rows.append(GrowthComparison(name, a, kk, rss, aicc, aicc - best_aicc, w / total,
                                     stat, p))
    return tuple(rows)


def _verdict(alpha: Estimate, rows: tuple[GrowthComparison, ...], rejected: bool = False
             ) -> str:
    lo_ok, hi_ok = math.isfinite(alpha.ci_low), math.isfinite(alpha.ci_high)
    if math.isnan(alpha.ci_low) and math.isnan(alpha.ci_high):
        return "the data cannot bound α (no residual degrees of freedom)"
    if lo_ok and hi_ok:
        ci = (f"α = {alpha.value:.2f} ({alpha.level:.0%} profile-likelihood interval "
              f"{alpha.ci_low:.2f} to {alpha.ci_high:.2f})")
    elif hi_ok:
        ci = (f"α ≤ {alpha.ci_high:.2f} ({alpha.level:.0%} one-sided bound; the data do not "
              "bound α from below)")
    elif lo_ok:
        ci = (f"α ≥ {alpha.ci_low:.2f} ({alpha.level:.0%} one-sided bound; the data do not "
              "bound α from above)")
    else:
        ci = "α is not bounded by the data on either side"
    linear, root = alpha.contains(1.0), alpha.contains(0.5)
    if linear and root:
        what = "the data cannot distinguish growth ∝ N from ∝ √N"
    elif linear:
        what = "the data are consistent with growth ∝ N and reject ∝ √N"
    elif root:
        what = "the data are consistent with growth ∝ √N and reject ∝ N"
    else:
        what = "the data reject both ∝ N and ∝ √N"
    if rejected:
        what = ("the self-similar profile is rejected by the data, so no single α "
                "describes them")
    best = min((r for r in rows if math.isfinite(r.aicc)), key=lambda r: r.aicc, default=None)
    tail = f"; lowest AICc: {best.name}" if best is not None and not rejected else ""
    return f"{ci}: {what}{tail}"


def growth_from_depths(cycles: Sequence[float], depth_nm: Sequence[float],
                       depth_se_nm: Sequence[float], *, level: float = 0.95) -> Estimate:
    """Two-step cross-check: α from per-cycle gradient depths, ``ln d = ln A + α ln N``.

    Weighted least squares on logs with ``se(ln d) = se(d)/d``; with exactly two cycle
    counts the fit is exact and the SE comes from the depths' SEs alone.
    """
    N = np.asarray(cycles, np.float64)
    d = np.asarray(depth_nm, np.float64)
    se = np.asarray(depth_se_nm, np.float64)
    keep = np.isfinite(d) & (d > 0) & np.isfinite(se) & (se > 0) & (N > 0)
    N, d, se = N[keep], d[keep], se[keep]
    if np.unique(N).size < 2:
        return Estimate(math.nan)
    x, y, w = np.log(N), np.log(d), (d / se) ** 2
    X = np.c_[np.ones_like(x), x]
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ (X.T @ (w * y))
    alpha, se_alpha = float(beta[1]), float(math.sqrt(cov[1, 1]))
    q = stats.norm.ppf(0.5 + level / 2)
    return Estimate(alpha, se_alpha, float(alpha - q * se_alpha), float(alpha + q * se_alpha),
                    level)

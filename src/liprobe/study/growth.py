"""The growth law of the Li-depleted zone, depth ∝ N^α, fitted jointly across cycle counts.

Model (self-similar growth): the profile after ``N`` cycles is one shape of
:mod:`liprobe.study._shapes` whose length parameters all scale as
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
from liprobe.study._shapes import get_shape
from liprobe.study.gradient import _bounds, _starts, information_criteria

__all__ = ["GrowthComparison", "GrowthLaw", "fit_growth_law", "growth_from_depths"]

_ALPHA_RANGE = (0.0, 4.0)


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
                   alpha_grid: np.ndarray | None = None) -> GrowthLaw:
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
        α values of the likelihood profile (default 0 to 4 in steps of 0.05; the
        interval ends are then refined by root finding).

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
    N, d, c, s = N[keep], d[keep], c[keep], s[keep]
    if np.unique(N).size < 2:
        raise ParameterError("the growth law needs profiles at two or more cycle counts; got "
                             f"{np.unique(N).tolist()}")
    joint = _Joint(model, N, d, c, 1.0 / s if weighted else np.ones_like(c), shared_surface)
    n, k = c.size, len(joint.names)
    res, theta, _ = joint.fit(None)
    rss_free = float(2 * res.cost)
    dof = n - k
    # Wald interval from the Jacobian
    jtj = res.jac.T @ res.jac
    se_alpha = math.nan
    # over-dispersion: a weighted fit whose chi2/dof exceeds 1 (model misfit, or errors
    # underestimated) has its errors and tests scaled by phi (quasi-likelihood; Burnham &
    # Anderson 2002, QAICc)
    phi = max(1.0, rss_free / dof) if weighted and dof > 0 else 1.0
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
    # profile likelihood over alpha, warm-started from the free optimum in both directions
    grid = np.arange(0.0, 4.0 + 1e-9, 0.05) if alpha_grid is None else np.asarray(alpha_grid)
    rss_grid = np.full(grid.size, np.nan)
    centre = int(np.argmin(np.abs(grid - alpha_hat)))
    for direction in (range(centre, grid.size), range(centre - 1, -1, -1)):
        x0 = theta.copy()
        for i in direction:
            fit_i, theta_i, _ = joint.fit(float(grid[i]), x0)
            rss_grid[i] = 2 * fit_i.cost
            x0 = theta_i
    rss_min = min(rss_free, float(np.nanmin(rss_grid)))
    if weighted:
        threshold = rss_min + stats.chi2.ppf(level, 1) * phi
    elif dof > 0:
        threshold = rss_min * (1 + stats.f.ppf(level, 1, dof) / dof)
    else:
        threshold = math.nan
    alpha_ci = _profile_interval(grid, rss_grid, threshold, alpha_hat)
    alpha_ci = tuple(_refine(joint, theta, grid, rss_grid, threshold, end) for end in alpha_ci)
    alpha = Estimate(alpha_hat, se_alpha, alpha_ci[0], alpha_ci[1], level)
    comparisons = _compare(joint, theta, rss_free, n, k, weighted, phi)
    verdict = _verdict(alpha, comparisons)
    per_cycle = {float(g): int(np.sum(N == g)) for g in joint.groups}
    note = (f"{n} points over cycle counts {per_cycle} for {k} parameters"
            + ("" if weighted else "; no per-point uncertainties were given, so the scatter "
               "about the fit sets the errors (few points: wide intervals are expected)")
            + (f"; chi2/dof = {phi:.2f} > 1: errors and tests scaled by it (the shape does "
               "not describe the data to within their standard errors)" if phi > 1 else ""))
    return GrowthLaw(model, joint.groups, joint.n_ref, alpha, alpha_wald, comparisons,
                     tuple(joint.names), theta, grid, rss_grid, n, weighted, bool(res.success),
                     verdict, note)


def _profile_interval(grid: np.ndarray, rss: np.ndarray, threshold: float, alpha_hat: float
                      ) -> tuple[float, float]:
    if not math.isfinite(threshold):
        return math.nan, math.nan
    inside = rss <= threshold
    centre = int(np.argmin(np.abs(grid - alpha_hat)))

    def crossing(indices: range) -> float:
        prev = centre
        for i in indices:
            if not inside[i]:
                a0, a1, r0, r1 = grid[prev], grid[i], rss[prev], rss[i]
                return float(a0 + (threshold - r0) * (a1 - a0) / (r1 - r0)) if r1 != r0 else a1
            prev = i
        return -math.inf if indices.step < 0 else math.inf

    low = crossing(range(centre - 1, -1, -1))
    high = crossing(range(centre + 1, grid.size))
    if low == -math.inf and grid[0] <= _ALPHA_RANGE[0]:
        low = float(grid[0])  # alpha >= 0 by construction: bounded below by the grid
    return low, high


def _refine(joint: _Joint, theta: np.ndarray, grid: np.ndarray, rss: np.ndarray,
            threshold: float, end: float) -> float:
    """Sharpen a grid-interpolated interval end by root finding on the profile."""
    if not math.isfinite(end) or end <= grid[0] or end >= grid[-1]:
        return end
    i = int(np.searchsorted(grid, end))
    lo, hi = float(grid[i - 1]), float(grid[i])

    def excess(alpha: float) -> float:
        x0 = theta.copy()
        x0[-1] = alpha
        return 2 * joint.fit(alpha, x0)[0].cost - threshold

    try:
        f_lo, f_hi = excess(lo), excess(hi)
        if f_lo * f_hi > 0:
            return end
        return float(optimize.brentq(excess, lo, hi, xtol=1e-4))
    except (ValueError, RuntimeError):
        return end


def _compare(joint: _Joint, theta: np.ndarray, rss_free: float, n: int, k: int,
             weighted: bool, phi: float = 1.0) -> tuple[GrowthComparison, ...]:
    rows = []
    fits = [("alpha=1", 1.0), ("alpha=0.5", 0.5), ("free", None)]
    results = []
    for name, alpha in fits:
        if alpha is None:
            rss, kk, a = rss_free, k, float(theta[-1])
        else:
            best = joint.fit(alpha)
            alt = joint.fit(alpha, np.r_[theta[:-1], alpha])
            res = best[0] if best[0].cost <= alt[0].cost else alt[0]
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


def _verdict(alpha: Estimate, rows: tuple[GrowthComparison, ...]) -> str:
    ci = f"α = {alpha.value:.2f} ({alpha.level:.0%} CI {alpha.ci_low:.2f} to {alpha.ci_high:.2f})"
    if math.isnan(alpha.ci_low):
        return f"{ci}: the data cannot bound α (no residual degrees of freedom)"
    linear, root = alpha.contains(1.0), alpha.contains(0.5)
    if linear and root:
        what = "the data cannot distinguish growth ∝ N from ∝ √N"
    elif linear:
        what = "the data are consistent with growth ∝ N and reject ∝ √N"
    elif root:
        what = "the data are consistent with growth ∝ √N and reject ∝ N"
    else:
        what = "the data reject both ∝ N and ∝ √N"
    best = min((r for r in rows if math.isfinite(r.aicc)), key=lambda r: r.aicc, default=None)
    tail = f"; lowest AICc: {best.name}" if best is not None else ""
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

"""Fit Li(depth) profiles with several shapes; gradient depths with standard errors.

Least squares (``scipy.optimize.least_squares``, trust-region reflective with bounds) from
several starting lengths; standard errors from the Jacobian at the optimum,
``cov = (J^T W J)^-1`` (times the residual variance ``RSS/(n-p)`` when no per-point
uncertainty is given); model choice by AICc, the small-sample Akaike criterion
(Hurvich & Tsai, Biometrika 76, 297, 1989), because a profile has only a handful of
depths. Derived gradient depths (:data:`~liprobe.study.shapes.DEPTH_DEFINITIONS`) carry
delta-method standard errors.

Examples
--------
>>> import numpy as np
>>> d = np.array([0.0, 30, 100, 350, 700, 1000, 1500, 2500])
>>> li = np.array([0.03, 0.37, 0.47, 0.69, 0.77, 0.84, 0.91, 1.03])
>>> fit = fit_gradient(d, li, model="exponential")
>>> fit.success, fit.n_points
(True, 8)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from liprobe.errors import ParameterError
from liprobe.study._estimate import Estimate, delta_method_se
from liprobe.study.shapes import DEPTH_DEFINITIONS, SHAPES, get_shape, gradient_depth_nm

__all__ = ["GradientFit", "fit_gradient", "fit_gradients", "information_criteria",
           "SHAPES", "DEPTH_DEFINITIONS"]


@dataclass(frozen=True, eq=False)
class GradientFit:
    """A fitted Li(depth) profile.

    Attributes
    ----------
    model : str
    param_names : tuple of str
    params : (p,) array
    covariance : (p, p) array
        NaN when the data cannot give one (fewer depths than free parameters + 1, or a
        singular Jacobian).
    fixed : tuple of str
        Parameters held fixed (zero variance).
    depth_nm, ratio, sigma : (n,) arrays
        The data fitted (``sigma`` NaN when unweighted).
    rss : float
        Sum of squared (weighted) residuals.
    aic, aicc, bic : float
    success : bool
    message : str
    """

    model: str
    param_names: tuple[str, ...]
    params: np.ndarray
    covariance: np.ndarray
    fixed: tuple[str, ...]
    depth_nm: np.ndarray
    ratio: np.ndarray
    sigma: np.ndarray
    rss: float
    aic: float
    aicc: float
    bic: float
    success: bool
    message: str

    @property
    def n_points(self) -> int:
        """Number of depths fitted."""
        return int(self.depth_nm.size)

    @property
    def n_free(self) -> int:
        """Number of free parameters."""
        return len(self.param_names) - len(self.fixed)

    def param(self, name: str, level: float = 0.95) -> Estimate:
        """Parameter ``name`` with its SE and a Wald interval (t with n - p dof)."""
        if name not in self.param_names:
            raise ParameterError(f"{self.model} has no parameter {name!r}; it has "
                                 f"{', '.join(self.param_names)}")
        i = self.param_names.index(name)
        se = math.sqrt(self.covariance[i, i]) if self.covariance[i, i] >= 0 else math.nan
        return _wald(float(self.params[i]), se, self._dof(), level)

    def _dof(self) -> float:
        weighted = bool(np.all(np.isfinite(self.sigma)))
        return math.inf if weighted else float(self.n_points - self.n_free)

    def predict(self, depth_nm: np.ndarray | float) -> np.ndarray:
        """The fitted ratio at ``depth_nm``."""
        return SHAPES[self.model].func(np.asarray(depth_nm, dtype=np.float64), self.params)

    def gradient_depth(self, definition: str = "half_recovery", level: float = 0.95
                       ) -> Estimate:
        """Gradient depth (nm) by ``definition`` with a delta-method SE."""
        shape = SHAPES[self.model]
        value = gradient_depth_nm(shape, self.params, definition)
        se = delta_method_se(lambda p: gradient_depth_nm(shape, p, definition), self.params,
                             self.covariance) if math.isfinite(value) else math.nan
        return _wald(value, se, self._dof(), level)

    def summary_row(self) -> dict[str, object]:
        """A flat dict for tables (parameters, SEs, criteria, gradient depths)."""
        row: dict[str, object] = {"model": self.model, "n_points": self.n_points,
                                  "n_free_params": self.n_free, "rss": self.rss,
                                  "aic": self.aic, "aicc": self.aicc, "bic": self.bic,
                                  "success": self.success, "message": self.message}
        for name in self.param_names:
            est = self.param(name)
            row[name] = est.value
            row[f"{name}_se"] = est.se
        for definition in DEPTH_DEFINITIONS:
            est = self.gradient_depth(definition)
            row[f"{definition}_depth_nm"] = est.value
            row[f"{definition}_depth_nm_se"] = est.se
        return row


def _wald(value: float, se: float, dof: float, level: float) -> Estimate:
    if not (math.isfinite(value) and math.isfinite(se)):
        return Estimate(float(value), float(se), math.nan, math.nan, level)
    q = stats.norm.ppf(0.5 + level / 2) if math.isinf(dof) else (
        stats.t.ppf(0.5 + level / 2, dof) if dof > 0 else math.nan)
    return Estimate(float(value), float(se), float(value - q * se), float(value + q * se), level)


def information_criteria(rss: float, n: int, k: int, *, weighted: bool) -> tuple[float, float,
                                                                                 float]:
    """AIC, AICc and BIC of a least-squares fit with ``k`` free parameters.

    With known per-point sigma (``weighted``) ``-2 ln L = chi^2`` (+ constant); otherwise
    the Gaussian variance is estimated too, ``-2 ln L = n ln(RSS/n)`` and ``k`` counts it.
    """
    if weighted:
        m2ll = rss
    else:
        m2ll = n * math.log(max(rss, 1e-300) / n)
        k = k + 1
    aic = m2ll + 2 * k
    aicc = aic + 2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf
    return aic, aicc, m2ll + k * math.log(n)


def _starts(shape_name: str, d: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(d)
    cs, cb = float(c[order[0]]), float(c[order[-1]])
    positive = d[d > 0]
    lo = float(positive.min()) if positive.size else 1.0
    hi = float(d.max()) if d.max() > 0 else 1.0
    lengths = np.geomspace(max(lo / 2, 0.5), hi, 6)
    starts = []
    for length in lengths:
        if shape_name in ("exponential", "erf"):
            starts.append(np.array([cs, cb, length]))
        elif shape_name == "logistic":
            starts.append(np.array([cs, cb, length / 2, length / 4]))
        else:
            for slow in lengths[lengths > length][:3]:
                starts.append(np.array([cs, cb, 0.5, length, slow]))
    return starts


def _bounds(shape_name: str, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    big = 1e3 * max(float(d.max()), 1.0)
    lo = {"c_surface": 0.0, "c_bulk": 0.0, "fast_share": 0.0, "front_nm": 0.0}
    hi = {"c_surface": 5.0, "c_bulk": 5.0, "fast_share": 1.0}
    names = SHAPES[shape_name].params
    lower = np.array([lo.get(n, 1e-3) for n in names])
    upper = np.array([hi.get(n, big) for n in names])
    return lower, upper


def fit_gradient(depth_nm: np.ndarray, ratio: np.ndarray, *, sigma: np.ndarray | None = None,
                 model: str = "exponential", fixed: Mapping[str, float] | None = None,
                 depth_sigma: np.ndarray | None = None) -> GradientFit:
    """Fit one profile shape to Li ratio vs depth.

    Parameters
    ----------
    depth_nm, ratio : (n,) arrays
        Depth below the particle surface (nm) and metal-normalised Li ratio.
    sigma : (n,) array, keyword-only
        Standard error of each ratio (e.g. SD/sqrt(n) over replicate specimens). When
        given, residuals are weighted and the covariance is absolute (scaled up by
        chi2/dof when that exceeds 1); when None the residual scatter sets it.
    model : str, keyword-only
        One of :data:`SHAPES`.
    fixed : mapping, keyword-only
        Parameters to hold fixed, e.g. ``{"c_bulk": 1.03}`` (pristine bulk value).
    depth_sigma : (n,) array, keyword-only
        Standard uncertainty of each depth (nm), e.g. measured on the FIB image: an
        error in x, carried by effective variance σ_eff² = σ² + (dc/dd σ_d)² with the
        slope of the first fit (J. Orear, Am. J. Phys. 50 (1982) 912); the fit is then
        repeated with these weights.

    Returns
    -------
    GradientFit
        ``success`` False with a message (never an exception) when the data cannot
        support the shape (fewer depths than free parameters).
    """
    shape = get_shape(model)
    d = np.asarray(depth_nm, dtype=np.float64)
    c = np.asarray(ratio, dtype=np.float64)
    if d.ndim != 1 or d.shape != c.shape:
        raise ParameterError("depth_nm and ratio must be 1-D arrays of equal length")
    keep = np.isfinite(d) & np.isfinite(c)
    s = np.full_like(c, np.nan) if sigma is None else np.asarray(sigma, dtype=np.float64)
    if s.shape != c.shape:
        raise ParameterError("sigma must have one value per depth")
    weighted = sigma is not None
    if weighted:
        keep &= np.isfinite(s) & (s > 0)
    sd = (np.zeros_like(c) if depth_sigma is None
          else np.nan_to_num(np.asarray(depth_sigma, dtype=np.float64)))
    if sd.shape != c.shape:
        raise ParameterError("depth_sigma must have one value per depth")
    d, c, s, sd = d[keep], c[keep], s[keep], sd[keep]
    if np.any(d < 0):
        raise ParameterError("depth_nm must be >= 0 (depth below the particle surface)")
    fixed = dict(fixed or {})
    for name in fixed:
        if name not in shape.params:
            raise ParameterError(f"cannot fix {name!r}: {model} has {', '.join(shape.params)}")
    free = np.array([n not in fixed for n in shape.params])
    n, k = d.size, int(free.sum())
    nan_cov = np.full((len(shape.params),) * 2, np.nan)
    if n < k:
        return GradientFit(model, shape.params, np.full(len(shape.params), np.nan), nan_cov,
                           tuple(fixed), d, c, s, math.nan, math.nan, math.nan, math.nan, False,
                           f"{n} depths cannot determine {k} free parameters")
    weights = 1.0 / s if weighted else np.ones_like(c)
    lower, upper = _bounds(model, d)

    def full(theta: np.ndarray) -> np.ndarray:
        p = np.array([fixed.get(name, 0.0) for name in shape.params])
        p[free] = theta
        return p

    def residual(theta: np.ndarray) -> np.ndarray:
        return (shape.func(d, full(theta)) - c) * weights

    best = None
    for start in _starts(model, d, c):
        x0 = np.clip(start[free], lower[free] + 1e-9, upper[free] - 1e-9)
        try:
            res = optimize.least_squares(residual, x0, bounds=(lower[free], upper[free]),
                                         method="trf", x_scale="jac", max_nfev=2000)
        except ValueError:
            continue
        if best is None or res.cost < best.cost:
            best = res
    if best is None:
        return GradientFit(model, shape.params, np.full(len(shape.params), np.nan), nan_cov,
                           tuple(fixed), d, c, s, math.nan, math.nan, math.nan, math.nan, False,
                           "no starting point converged")
    x_note = ""
    if np.any(sd > 0):
        p = full(best.x)
        step = 1e-3 * np.maximum(d, 1.0)
        lo_d = np.maximum(d - step, 0.0)
        slope = (shape.func(d + step, p) - shape.func(lo_d, p)) / (d + step - lo_d)
        base = s if weighted else np.full_like(c, math.sqrt(2 * best.cost / max(n - k, 1)))
        eff = np.hypot(base, slope * sd)
        weights = (1.0 / eff) if weighted else base / eff
        best = optimize.least_squares(residual, best.x, bounds=(lower[free], upper[free]),
                                      method="trf", x_scale="jac", max_nfev=2000)
        x_note = "; depth errors carried as effective variance"
        if weighted:
            s = eff
    params = full(best.x)
    rss = float(2 * best.cost)
    cov = np.zeros((len(shape.params),) * 2)
    message = best.message
    jtj = best.jac.T @ best.jac
    if np.linalg.matrix_rank(jtj) < k:
        cov[:] = np.nan
        message += "; singular Jacobian: parameters not separately determined"
    elif not weighted and n - k <= 0:
        cov[:] = np.nan
        message += f"; {n} depths for {k} parameters: no residual degrees of freedom, no SE"
    else:
        # weighted: absolute errors, scaled up by chi2/dof when the shape misfits (> 1)
        phi = max(1.0, rss / (n - k)) if (weighted and n > k) else 1.0
        if phi > 1.0:
            message += f"; chi2/dof = {phi:.2f}: standard errors scaled by sqrt of it"
        inner = np.linalg.inv(jtj) * (phi if weighted else rss / (n - k))
        cov[np.ix_(free, free)] = inner
    aic, aicc, bic = information_criteria(rss, n, k, weighted=weighted)
    return GradientFit(model, shape.params, params, cov, tuple(fixed), d, c, s, rss, aic, aicc,
                       bic, bool(best.success), message + x_note)


def fit_gradients(depth_nm: np.ndarray, ratio: np.ndarray, *, sigma: np.ndarray | None = None,
                  models: Sequence[str] = tuple(SHAPES),
                  fixed: Mapping[str, float] | None = None,
                  depth_sigma: np.ndarray | None = None) -> tuple[GradientFit, ...]:
    """Fit several shapes; return them sorted by AICc (best first, failures last)."""
    fits = [fit_gradient(depth_nm, ratio, sigma=sigma, model=m, depth_sigma=depth_sigma,
                         fixed={k: v for k, v in (fixed or {}).items()
                                if k in get_shape(m).params}) for m in models]
    return tuple(sorted(fits, key=lambda f: (not f.success, f.aicc if math.isfinite(f.aicc)
                                             else math.inf)))

"""Li against structural disorder: HAADF antisite fraction f(depth) joined with APT Li(depth).

Two analyses on the joined points:

- ordinary (or weighted) linear regression ``Li = a + b f`` with t intervals;
- the Li-site model ``Li = Li₀ (1 - k f)``: every TM ion on a Li (3b) site blocks ``k``
  Li sites (k = 1: one for one). Fitted by least squares with the SE of ``k`` from the
  Jacobian and a t interval (Chae et al. 2021 argue Li accommodation is set by TM on Li
  sites; this is the quantitative form of that claim to test).

Joining: points at the same specimen site are paired directly; otherwise the APT profile
of each sample is interpolated (linearly in depth, never extrapolated) to the HAADF depths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from liprobe.errors import ParameterError
from liprobe.study._estimate import Estimate

__all__ = ["JoinedPoints", "LiDisorderFit", "join_by_depth", "fit_li_vs_disorder"]


@dataclass(frozen=True)
class JoinedPoints:
    """Li and f at common locations (one sample or several)."""

    depth_nm: np.ndarray
    f: np.ndarray
    li: np.ndarray
    li_sigma: np.ndarray
    f_sigma: np.ndarray
    sample: np.ndarray


def join_by_depth(haadf_depth_nm: np.ndarray, haadf_f: np.ndarray, apt_depth_nm: np.ndarray,
                  apt_li: np.ndarray, *, apt_li_sigma: np.ndarray | None = None,
                  haadf_f_sigma: np.ndarray | None = None, sample: str = "") -> JoinedPoints:
    """Interpolate APT Li(depth) of one sample to the HAADF window depths.

    HAADF windows outside the APT depth range are dropped (no extrapolation).
    """
    hd = np.asarray(haadf_depth_nm, np.float64)
    hf = np.asarray(haadf_f, np.float64)
    ad = np.asarray(apt_depth_nm, np.float64)
    al = np.asarray(apt_li, np.float64)
    if hd.shape != hf.shape or ad.shape != al.shape:
        raise ParameterError("depth and value arrays must have equal lengths")
    ok = np.isfinite(ad) & np.isfinite(al)
    order = np.argsort(ad[ok])
    ad, al = ad[ok][order], al[ok][order]
    als = (np.full_like(al, np.nan) if apt_li_sigma is None
           else np.asarray(apt_li_sigma, np.float64)[ok][order])
    hfs = np.full_like(hf, np.nan) if haadf_f_sigma is None else np.asarray(haadf_f_sigma,
                                                                             np.float64)
    if ad.size == 0:
        raise ParameterError(f"sample {sample!r}: no APT depths to join HAADF windows to")
    inside = (hd >= ad[0]) & (hd <= ad[-1]) & np.isfinite(hf)
    li = np.interp(hd[inside], ad, al)
    li_s = np.interp(hd[inside], ad, als) if np.all(np.isfinite(als)) else np.full(li.size,
                                                                                   np.nan)
    return JoinedPoints(hd[inside], hf[inside], li, li_s, hfs[inside],
                        np.full(li.size, sample, dtype=object))


@dataclass(frozen=True)
class LiDisorderFit:
    """Regression of Li on f and the Li-site model fit."""

    n_points: int
    intercept: Estimate
    slope: Estimate
    r: float
    li0: Estimate
    k: Estimate
    success: bool
    message: str

    def as_row(self) -> dict[str, float | int | bool | str]:
        """Flat dict for tables."""
        return {"n_points": self.n_points, **self.intercept.as_dict("intercept"),
                **self.slope.as_dict("slope"), "pearson_r": self.r, **self.li0.as_dict("li0"),
                **self.k.as_dict("k"), "success": self.success, "message": self.message}


def fit_li_vs_disorder(f: np.ndarray, li: np.ndarray, *, li_sigma: np.ndarray | None = None,
                       level: float = 0.95) -> LiDisorderFit:
    """Regress Li on the disorder fraction ``f`` and fit ``Li = Li0 (1 - k f)``.

    Parameters
    ----------
    f, li : (n,) arrays
        Antisite (TM on Li site) fraction and Li ratio at common locations.
    li_sigma : (n,) array, keyword-only
        SE of each Li value (weights); None for unweighted.
    level : float, keyword-only

    Returns
    -------
    LiDisorderFit
        ``success`` False (with NaN estimates) when fewer than 3 points remain.
    """
    f = np.asarray(f, np.float64)
    li = np.asarray(li, np.float64)
    s = np.ones_like(li) if li_sigma is None else np.asarray(li_sigma, np.float64)
    keep = np.isfinite(f) & np.isfinite(li) & np.isfinite(s) & (s > 0)
    f, li, s = f[keep], li[keep], s[keep]
    n = int(f.size)
    nan = Estimate(math.nan)
    if n < 3 or np.ptp(f) == 0:
        return LiDisorderFit(n, nan, nan, math.nan, nan, nan, False,
                             f"{n} joined points with f spread {np.ptp(f) if n else 0:.3g}: "
                             "need at least 3 points at different f")
    dof = n - 2
    q = float(stats.t.ppf(0.5 + level / 2, dof))
    w = 1.0 / s**2
    X = np.c_[np.ones(n), f]
    xtwx = X.T @ (X * w[:, None])
    beta = np.linalg.solve(xtwx, X.T @ (w * li))
    resid = li - X @ beta
    scale = float(resid @ (w * resid)) / dof
    cov = np.linalg.inv(xtwx) * scale
    se = np.sqrt(np.diag(cov))
    intercept = Estimate(float(beta[0]), float(se[0]), float(beta[0] - q * se[0]),
                         float(beta[0] + q * se[0]), level)
    slope = Estimate(float(beta[1]), float(se[1]), float(beta[1] - q * se[1]),
                     float(beta[1] + q * se[1]), level)
    r = float(np.corrcoef(f, li)[0, 1])

    def residual(p: np.ndarray) -> np.ndarray:
        return (p[0] * (1 - p[1] * f) - li) / s

    k0 = -beta[1] / beta[0] if beta[0] != 0 else 1.0
    res = optimize.least_squares(residual, np.array([beta[0], k0]), method="lm")
    jtj = res.jac.T @ res.jac
    try:
        pcov = np.linalg.inv(jtj) * (2 * res.cost / dof)
        pse = np.sqrt(np.diag(pcov))
    except np.linalg.LinAlgError:
        pse = np.full(2, np.nan)
    li0 = Estimate(float(res.x[0]), float(pse[0]), float(res.x[0] - q * pse[0]),
                   float(res.x[0] + q * pse[0]), level)
    k = Estimate(float(res.x[1]), float(pse[1]), float(res.x[1] - q * pse[1]),
                 float(res.x[1] + q * pse[1]), level)
    return LiDisorderFit(n, intercept, slope, r, li0, k, bool(res.success), res.message)

"""Li against structural disorder: HAADF antisite fraction f(depth) joined with APT Li(depth).

Pairing. A point pairs an APT Li value with the HAADF f *at the same location*: the
specimen's own HAADF windows, or the windows of a sample's images whose depth lies within
``tolerance_nm`` of an APT depth (:func:`pair_at_apt_depths`; one point per APT depth, its
f the mean of those windows). Interpolating the APT profile to the HAADF depths
(:func:`join_by_depth`) is done only on request, and then the interpolation's own
uncertainty enters the Li error.

Fits (:func:`fit_li_vs_disorder`), with errors in both variables (effective-variance
least squares, the first-order form of orthogonal distance regression; J. Orear, Am. J.
Phys. 50 (1982) 912),
an intrinsic scatter added in quadrature to the Li errors when χ²/dof > 1 (the points
scatter more than their errors), and a bootstrap over the points (depths):

- the linear Li-site model ``Li = Li0 (1 - k f)``: every TM on a Li (3b) site blocks ``k``
  Li sites (Chae et al. 2021 argue that Li accommodation follows the TM on Li sites);
- the site-loss model ``Li = Li0 (1 - f) / (1 + (1 - φ) f)``: TM on a fraction f of the Li
  sites, displacing the Li there, and vacancies on a fraction φ f of the TM sites (φ = 1:
  the migrated TM leaves its site empty, Li/TM = 1 - f; φ = 0: the TM sites are refilled,
  Li/TM = (1 - f)/(1 + f)). Li is lost from the lattice; the exchange of antisite pairs
  would conserve it.

Both are compared by AICc (Hurvich & Tsai 1989) on the same weighted residuals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from liprobe.errors import ParameterError
from liprobe.study._estimate import Estimate

__all__ = ["JoinedPoints", "LiDisorderFit", "join_by_depth", "pair_at_apt_depths",
           "fit_li_vs_disorder", "DEPTH_TOLERANCE_NM", "MODELS"]

#: Default largest |HAADF depth - APT depth| for a pair at the same location (nm).
DEPTH_TOLERANCE_NM = 2.5

#: The two models compared.
MODELS = ("linear", "site_loss")


@dataclass(frozen=True)
class JoinedPoints:
    """Li and f at common locations (one sample or several)."""

    depth_nm: np.ndarray
    f: np.ndarray
    li: np.ndarray
    li_sigma: np.ndarray
    f_sigma: np.ndarray
    sample: np.ndarray
    join: str = "interpolated"


def pair_at_apt_depths(haadf_depth_nm: np.ndarray, haadf_f: np.ndarray,
                       haadf_f_sigma: np.ndarray, apt_depth_nm: np.ndarray, apt_li: np.ndarray,
                       *, apt_li_sigma: np.ndarray | None = None,
                       tolerance_nm: float = DEPTH_TOLERANCE_NM, sample: str = ""
                       ) -> JoinedPoints:
    """One point per APT depth that HAADF windows measured within ``tolerance_nm``.

    f is the mean of those windows; its SE the larger of the windows' mean SE over
    sqrt(n) and their scatter over sqrt(n) (the windows of one image share R0 and k, so
    their common part does not average down: see the analysis' interval note).
    """
    if not tolerance_nm >= 0:
        raise ParameterError(f"tolerance_nm must be >= 0, got {tolerance_nm}")
    hd, hf, hs = (np.asarray(a, np.float64) for a in (haadf_depth_nm, haadf_f, haadf_f_sigma))
    ad, al = np.asarray(apt_depth_nm, np.float64), np.asarray(apt_li, np.float64)
    als = (np.full(al.shape, np.nan) if apt_li_sigma is None
           else np.asarray(apt_li_sigma, np.float64))
    if hd.shape != hf.shape or hd.shape != hs.shape or ad.shape != al.shape:
        raise ParameterError("depth and value arrays must have equal lengths")
    rows = []
    ok_h = np.isfinite(hd) & np.isfinite(hf)
    for j in np.flatnonzero(np.isfinite(ad) & np.isfinite(al)):
        sel = ok_h & (np.abs(hd - ad[j]) <= tolerance_nm)
        n = int(sel.sum())
        if n == 0:
            continue
        f = float(np.mean(hf[sel]))
        se_mean = float(np.sqrt(np.nanmean(hs[sel] ** 2) / n)) if np.isfinite(hs[sel]).any() \
            else math.nan
        spread = float(np.std(hf[sel], ddof=1) / math.sqrt(n)) if n > 1 else 0.0
        rows.append((float(ad[j]), f, float(al[j]), float(als[j]),
                     float(np.nanmax([se_mean, spread]))))
    arr = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return JoinedPoints(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4],
                        np.full(len(rows), sample, dtype=object),
                        f"same depth (±{tolerance_nm:g} nm)")


def join_by_depth(haadf_depth_nm: np.ndarray, haadf_f: np.ndarray, apt_depth_nm: np.ndarray,
                  apt_li: np.ndarray, *, apt_li_sigma: np.ndarray | None = None,
                  haadf_f_sigma: np.ndarray | None = None, sample: str = "") -> JoinedPoints:
    """Interpolate APT Li(depth) of one sample to the HAADF depths (only when asked to).

    HAADF windows outside the APT depth range are dropped (no extrapolation). The Li
    error of an interpolated point combines the two bracketing SEs (weights w, 1 - w)
    with the interpolation's own uncertainty, |Li_b - Li_a| sqrt(w (1 - w)) (half the step
    at mid-interval: nothing was measured there).
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
    x = hd[inside]
    li = np.interp(x, ad, al)
    j = np.clip(np.searchsorted(ad, x, side="right") - 1, 0, max(ad.size - 2, 0))
    if ad.size > 1:
        w = np.clip((x - ad[j]) / (ad[j + 1] - ad[j]), 0.0, 1.0)
        step = np.abs(al[j + 1] - al[j])
        li_s = np.sqrt(((1 - w) * als[j]) ** 2 + (w * als[j + 1]) ** 2
                       + step ** 2 * w * (1 - w))
    else:
        li_s = als[j]
    return JoinedPoints(x, hf[inside], li, li_s, hfs[inside],
                        np.full(li.size, sample, dtype=object), "interpolated")


@dataclass(frozen=True)
class LiDisorderFit:
    """The linear Li-site model and the site-loss model fitted to (f, Li) points.

    ``k`` has the fit's interval (t, n - 2 dof, intrinsic scatter included) widened to
    contain the bootstrap percentile interval ``k_bootstrap``; ``intrinsic_scatter`` is
    the Li scatter added in quadrature (0 when χ²/dof <= 1); ``chi2_dof`` is that of the
    linear fit before it; ``preferred`` the lower-AICc model.
    """

    n_points: int
    intercept: Estimate
    slope: Estimate
    r: float
    li0: Estimate
    k: Estimate
    success: bool
    message: str
    k_bootstrap: Estimate = Estimate(math.nan)
    intrinsic_scatter: float = math.nan
    chi2_dof: float = math.nan
    errors_in_f: bool = False
    site_loss_li0: Estimate = Estimate(math.nan)
    site_loss_phi: Estimate = Estimate(math.nan)
    aicc_linear: float = math.nan
    aicc_site_loss: float = math.nan
    preferred: str = ""

    def as_row(self) -> dict[str, float | int | bool | str]:
        """Flat dict for tables."""
        return {"n_points": self.n_points, **self.intercept.as_dict("intercept"),
                **self.slope.as_dict("slope"), "pearson_r": self.r, **self.li0.as_dict("li0"),
                **self.k.as_dict("k"), **self.k_bootstrap.as_dict("k_bootstrap"),
                "intrinsic_scatter": self.intrinsic_scatter, "chi2_dof": self.chi2_dof,
                "errors_in_f": self.errors_in_f,
                **self.site_loss_li0.as_dict("site_loss_li0"),
                **self.site_loss_phi.as_dict("site_loss_phi"),
                "aicc_linear": self.aicc_linear, "aicc_site_loss": self.aicc_site_loss,
                "preferred_model": self.preferred, "success": self.success,
                "message": self.message}


def _linear(beta, f):
    return beta[0] * (1.0 - beta[1] * f)


def _site_loss(beta, f):
    return beta[0] * (1.0 - f) / (1.0 + (1.0 - beta[1]) * f)


def _odr(func, beta0, f, li, sf, sl):
    """Fit with errors in both variables: effective-variance least squares.

    χ² = Σ (Li - g(f))² / (σ_Li² + g'(f)² σ_f²), the slope taken at the current
    parameters (J. Orear, Am. J. Phys. 50 (1982) 912; first-order equivalent of
    orthogonal distance regression, which scipy.odr, deprecated, also solves).
    """
    def resid(beta):
        eps = 1e-6
        slope = (func(beta, f + eps) - func(beta, f - eps)) / (2 * eps)
        return (li - func(beta, f)) / np.sqrt(sl ** 2 + (slope * sf) ** 2)

    out = optimize.least_squares(resid, np.asarray(beta0, float), method="lm", max_nfev=2000)
    jtj = out.jac.T @ out.jac
    try:
        cov = np.linalg.inv(jtj)
    except np.linalg.LinAlgError:
        cov = np.full((len(beta0), len(beta0)), np.nan)
    return np.asarray(out.x, float), cov, float(2 * out.cost)


def _fit(func, beta0, f, li, sf, sl):
    """ODR fit; intrinsic Li scatter added until chi2/dof = 1 when it exceeds 1."""
    dof = f.size - 2
    beta, cov, chi2 = _odr(func, beta0, f, li, sf, sl)
    chi2_raw = chi2 / dof
    scatter = 0.0
    if chi2_raw > 1.0:
        def excess(s: float) -> float:
            return _odr(func, beta, f, li, sf, np.hypot(sl, s))[2] / dof - 1.0

        hi = float(np.std(li)) + float(np.max(sl))
        try:
            scatter = float(optimize.brentq(excess, 0.0, hi, xtol=1e-6 * hi))
        except ValueError:
            scatter = hi
        beta, cov, chi2 = _odr(func, beta, f, li, sf, np.hypot(sl, scatter))
    return beta, cov, chi2, chi2_raw, scatter


def _aicc(chi2: float, n: int, p: int) -> float:
    return chi2 + 2 * p + (2 * p * (p + 1) / (n - p - 1) if n - p - 1 > 0 else math.inf)


def fit_li_vs_disorder(f: np.ndarray, li: np.ndarray, *, li_sigma: np.ndarray | None = None,
                       f_sigma: np.ndarray | None = None, level: float = 0.95,
                       n_bootstrap: int = 400, seed: int = 0) -> LiDisorderFit:
    """Fit ``Li = Li0 (1 - k f)`` and the site-loss model with errors in f and Li.

    Parameters
    ----------
    f, li : (n,) arrays
        Antisite (TM on Li site) fraction and Li ratio at common locations.
    li_sigma, f_sigma : (n,) arrays, keyword-only
        Standard errors; None: Li errors from the scatter (unit weights), f exact.
    level : float, keyword-only
    n_bootstrap : int, keyword-only
        Resamples of the points (depths) for the bootstrap interval of k.
    seed : int, keyword-only
        Seed of the bootstrap.

    Returns
    -------
    LiDisorderFit
        ``success`` False (with NaN estimates) when fewer than 3 points remain.
    """
    f = np.asarray(f, np.float64)
    li = np.asarray(li, np.float64)
    sl = np.ones_like(li) if li_sigma is None else np.asarray(li_sigma, np.float64)
    sf = np.zeros_like(f) if f_sigma is None else np.asarray(f_sigma, np.float64)
    sf = np.where(np.isfinite(sf), sf, 0.0)
    keep = np.isfinite(f) & np.isfinite(li) & np.isfinite(sl) & (sl > 0)
    f, li, sl, sf = f[keep], li[keep], sl[keep], sf[keep]
    if li_sigma is None:
        sl = np.full_like(li, max(float(np.std(li)) * 1e-3, 1e-9))
    sf = np.fmax(sf, 1e-9 * max(float(np.ptp(f)) if f.size else 1.0, 1e-9))
    n = int(f.size)
    nan = Estimate(math.nan)
    if n < 3 or np.ptp(f) == 0:
        return LiDisorderFit(n, nan, nan, math.nan, nan, nan, False,
                             f"{n} joined points with f spread {np.ptp(f) if n else 0:.3g}: "
                             "need at least 3 points at different f")
    dof = n - 2
    q = float(stats.t.ppf(0.5 + level / 2, dof))
    slope0, icpt0 = np.polyfit(f, li, 1)
    beta0 = np.array([icpt0, -slope0 / icpt0 if icpt0 != 0 else 1.0])
    beta, cov, chi2, chi2_raw, scatter = _fit(_linear, beta0, f, li, sf, sl)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    sl_fit = np.hypot(sl, scatter)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        if np.ptp(f[idx]) == 0:
            continue
        boots.append(_odr(_linear, beta, f[idx], li[idx], sf[idx], sl_fit[idx])[0][1])
    boots = np.array(boots)
    if boots.size >= 20:
        b_lo, b_hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
        k_boot = Estimate(float(beta[1]), float(np.std(boots, ddof=1)), float(b_lo), float(b_hi),
                          level)
    else:
        k_boot = nan
    k_lo, k_hi = beta[1] - q * se[1], beta[1] + q * se[1]
    if math.isfinite(k_boot.ci_low):
        k_lo, k_hi = min(k_lo, k_boot.ci_low), max(k_hi, k_boot.ci_high)
    k = Estimate(float(beta[1]), float(se[1]), float(k_lo), float(k_hi), level)
    li0 = Estimate(float(beta[0]), float(se[0]), float(beta[0] - q * se[0]),
                   float(beta[0] + q * se[0]), level)
    # the same fit as a straight line Li = a + b f (b = -Li0 k), delta method
    b = -beta[0] * beta[1]
    grad = np.array([-beta[1], -beta[0]])
    b_se = float(math.sqrt(max(grad @ cov @ grad, 0.0)))
    intercept = li0
    slope = Estimate(float(b), b_se, float(b - q * b_se), float(b + q * b_se), level)
    r = float(np.corrcoef(f, li)[0, 1])
    extra = 1 if scatter > 0 else 0
    aicc_lin = _aicc(chi2, n, 2 + extra)
    try:
        sbeta, scov, _, _, _ = _fit(_site_loss, np.array([beta[0], 0.5]), f, li,
                                               sf, sl)
        sse = np.sqrt(np.clip(np.diag(scov), 0, None))
        sl_li0 = Estimate(float(sbeta[0]), float(sse[0]), float(sbeta[0] - q * sse[0]),
                          float(sbeta[0] + q * sse[0]), level)
        sl_phi = Estimate(float(sbeta[1]), float(sse[1]), float(sbeta[1] - q * sse[1]),
                          float(sbeta[1] + q * sse[1]), level)
        # compare on the same errors: the linear fit's (scatter included)
        schi2_common = float(np.sum(((li - _site_loss(sbeta, f)) ** 2)
                                    / (sl_fit ** 2 + (sf * _slope(_site_loss, sbeta, f)) ** 2)))
        lchi2_common = float(np.sum(((li - _linear(beta, f)) ** 2)
                                    / (sl_fit ** 2 + (sf * beta[0] * beta[1]) ** 2)))
        aicc_lin = _aicc(lchi2_common, n, 2 + extra)
        aicc_sl = _aicc(schi2_common, n, 2 + extra)
    except (ValueError, np.linalg.LinAlgError):
        sl_li0 = sl_phi = nan
        aicc_sl = math.nan
    preferred = ("linear" if not math.isfinite(aicc_sl) or aicc_lin <= aicc_sl
                 else "site_loss")
    message = (f"fit with errors in {'f and ' if np.any(sf > 1e-6) else ''}Li; "
               f"chi2/dof = {chi2_raw:.2f}"
               + (f", intrinsic Li scatter {scatter:.3g} added" if scatter > 0 else "")
               + f"; bootstrap over {n} points ({boots.size} resamples)")
    return LiDisorderFit(n, intercept, slope, r, li0, k, True, message, k_boot,
                         float(scatter), float(chi2_raw), bool(np.any(sf > 1e-6)),
                         sl_li0, sl_phi, float(aicc_lin), float(aicc_sl), preferred)


def _slope(func, beta, f):
    eps = 1e-6
    return (func(beta, f + eps) - func(beta, f - eps)) / (2 * eps)

"""The particle integral: from a local Li(depth) profile to the bulk Li of a sphere.

For a spherical secondary particle of radius ``R`` with composition ``c(d)`` at depth
``d`` below its surface, the volume average is (DOMAIN.md section 5)

    <c> = (3 / R³) ∫₀ᴿ c(d) (R - d)² dd,

the bridge from site-specific APT ratios to the bulk ICP-AES ratio and to the lost Li
inventory. The implied inventory loss ``1 - <c>_N / c_pristine`` is compared with the
capacity loss ``1 - retention``; the two need not agree (capacity also fades by
impedance growth and loss of contact), which is itself a result.

Examples
--------
>>> import numpy as np
>>> round(particle_average(lambda d: np.ones_like(d), radius_nm=5000.0), 6)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from liprobe.errors import ParameterError
from liprobe.study._estimate import Estimate, delta_method_se
from liprobe.study.shapes import SHAPES

__all__ = ["ParticleIntegral", "particle_average", "particle_integral", "combine_over_shapes"]


def particle_average(profile: Callable[[np.ndarray], np.ndarray], *, radius_nm: float = 5000.0,
                     breakpoints_nm: tuple[float, ...] = ()) -> float:
    """Volume average of ``profile(depth_nm)`` over a sphere of radius ``radius_nm``.

    Parameters
    ----------
    profile : callable
        Vectorised ``c(depth_nm)``.
    radius_nm : float, keyword-only
        Sphere radius (default 5 µm: a 10 µm secondary particle).
    breakpoints_nm : tuple, keyword-only
        Depths where ``c`` changes fast (length scales of the profile), passed to the
        adaptive quadrature.
    """
    if not (math.isfinite(radius_nm) and radius_nm > 0):
        raise ParameterError(f"radius_nm must be > 0, got {radius_nm}")

    def integrand(d: float) -> float:
        return float(profile(np.array([d]))[0]) * (radius_nm - d) ** 2

    points = sorted({float(p) for p in breakpoints_nm if 0 < p < radius_nm})
    value, _ = integrate.quad(integrand, 0.0, radius_nm, points=points or None, limit=400,
                              epsabs=0.0, epsrel=1e-10)
    return 3.0 * value / radius_nm**3


@dataclass(frozen=True)
class ParticleIntegral:
    """Predicted bulk Li of a sphere from a fitted profile, against measurements.

    Attributes
    ----------
    cycles : float
    model : str
    radius_nm : float
    predicted : Estimate
        Volume-averaged Li ratio (delta-method SE from the fit covariance).
    measured : float
        ICP-AES ratio (NaN if none).
    difference : float
        ``predicted - measured``.
    z_score : float
        ``difference / predicted.se``.
    inventory_loss : Estimate
        ``1 - predicted / pristine_ratio``: fraction of the particle's Li lost.
    measured_inventory_loss : float
        ``1 - measured / pristine_ratio`` (ICP-AES).
    capacity_loss : float
        ``1 - retention`` (NaN if no cycling data).
    """

    cycles: float
    model: str
    radius_nm: float
    predicted: Estimate
    measured: float
    difference: float
    z_score: float
    inventory_loss: Estimate
    measured_inventory_loss: float
    capacity_loss: float

    def as_row(self) -> dict[str, float | str]:
        """Flat dict for tables."""
        return {"cycles": self.cycles, "model": self.model, "radius_nm": self.radius_nm,
                **self.predicted.as_dict("predicted_li"), "icp_li": self.measured,
                "difference": self.difference, "z_score": self.z_score,
                **self.inventory_loss.as_dict("inventory_loss"),
                "icp_inventory_loss": self.measured_inventory_loss,
                "capacity_loss": self.capacity_loss}


def particle_integral(fit: object, *, cycles: float, radius_nm: float = 5000.0,
                      measured_ratio: float = math.nan, pristine_ratio: float = math.nan,
                      retention: float = math.nan, level: float = 0.95) -> ParticleIntegral:
    """Particle integral of a :class:`~liprobe.study.gradient.GradientFit`.

    Parameters
    ----------
    fit : GradientFit
        A fitted profile (its ``model``, ``params`` and ``covariance`` are used).
    cycles : float, keyword-only
    radius_nm : float, keyword-only
    measured_ratio : float, keyword-only
        Bulk ICP-AES Li ratio of the same sample.
    pristine_ratio : float, keyword-only
        Li ratio before cycling (ICP-AES of the pristine powder) for the inventory loss.
    retention : float, keyword-only
        Capacity retention (fraction) after ``cycles``.
    """
    shape = SHAPES[fit.model]  # type: ignore[attr-defined]
    params = np.asarray(fit.params, dtype=np.float64)  # type: ignore[attr-defined]
    cov = np.asarray(fit.covariance, dtype=np.float64)  # type: ignore[attr-defined]

    def average(p: np.ndarray) -> float:
        if not np.all(np.isfinite(p)):
            return math.nan
        lengths = tuple(np.abs(p[shape.length_index()]))
        points = tuple(x * f for x in lengths for f in (0.5, 1.0, 3.0, 10.0))
        return particle_average(lambda d: shape.func(d, p), radius_nm=radius_nm,
                                breakpoints_nm=points)

    value = average(params)
    se = delta_method_se(average, params, cov) if math.isfinite(value) else math.nan
    from scipy import stats

    q = stats.norm.ppf(0.5 + level / 2)
    predicted = Estimate(float(value), float(se), float(value - q * se), float(value + q * se),
                         level)
    difference = value - measured_ratio
    z = difference / se if se and math.isfinite(se) and se > 0 else math.nan
    if math.isfinite(pristine_ratio) and pristine_ratio > 0:
        loss = 1.0 - value / pristine_ratio
        loss_se = se / pristine_ratio
        inventory = Estimate(float(loss), float(loss_se), float(loss - q * loss_se),
                             float(loss + q * loss_se), level)
        measured_loss = 1.0 - measured_ratio / pristine_ratio
    else:
        inventory, measured_loss = Estimate(math.nan), math.nan
    return ParticleIntegral(float(cycles), shape.name, float(radius_nm), predicted,
                            float(measured_ratio), float(difference), float(z), inventory,
                            float(measured_loss), float(1.0 - retention))


def combine_over_shapes(integrals: list[ParticleIntegral], aicc: list[float], *,
                        level: float = 0.95) -> ParticleIntegral:
    """One particle integral per cycle count that carries the spread between shapes.

    Most of a particle's volume lies between the measured depths, where the shapes that
    fit the points equally well differ; the shape is then part of the uncertainty. The
    value is the Akaike-weighted mean over shapes; its SE adds the weighted spread
    between shapes to the weighted within-shape variance (Burnham & Anderson 2002, eq.
    4.9, "unconditional" SE; equal weights when no AICc is finite); the interval is the
    wider of that and the envelope of every shape's own interval. ``model`` is
    ``"over shapes"``.
    """
    if not any(math.isfinite(a) for a in aicc):
        aicc = [0.0] * len(aicc)  # no shape can be ranked (too few depths): equal weights
    ok = [(p, a) for p, a in zip(integrals, aicc, strict=True)
          if math.isfinite(p.predicted.value) and math.isfinite(a)]
    if not ok:
        raise ParameterError("no particle integral with a finite value and AICc to combine")
    from scipy import stats

    best = min(a for _, a in ok)
    w = np.array([math.exp(-0.5 * (a - best)) for _, a in ok])
    w /= w.sum()
    vals = np.array([p.predicted.value for p, _ in ok])
    ses = np.array([p.predicted.se if math.isfinite(p.predicted.se) else 0.0 for p, _ in ok])
    mean = float(np.sum(w * vals))
    se = float(np.sum(w * np.sqrt(ses ** 2 + (vals - mean) ** 2)))
    q = stats.norm.ppf(0.5 + level / 2)
    lo = min([mean - q * se] + [p.predicted.ci_low for p, _ in ok
                                if math.isfinite(p.predicted.ci_low)])
    hi = max([mean + q * se] + [p.predicted.ci_high for p, _ in ok
                                if math.isfinite(p.predicted.ci_high)])
    first = ok[0][0]
    predicted = Estimate(mean, se, float(lo), float(hi), level)
    # the pristine ratio behind the rows' inventory loss, from the prediction (the measured
    # ratio is NaN for a cycle count without ICP-AES, the inventory loss is not)
    kept = 1.0 - first.inventory_loss.value
    pristine = first.predicted.value / kept if math.isfinite(kept) and kept != 0 else math.nan
    if math.isfinite(pristine) and pristine > 0:
        inventory = Estimate(1 - mean / pristine, se / pristine, 1 - hi / pristine,
                             1 - lo / pristine, level)
    else:
        inventory = Estimate(math.nan)
    diff = mean - first.measured
    return ParticleIntegral(first.cycles, "over shapes", first.radius_nm, predicted,
                            first.measured, float(diff),
                            float(diff / se) if se > 0 else math.nan, inventory,
                            first.measured_inventory_loss, first.capacity_loss)

"""Cation mixing from HAADF intensity ratios: R = I(Li site) / I(TM site) -> f.

With R0 the ratio of a perfectly ordered crystal imaged under the same conditions
(probe tails, thickness, detector, background treatment), linear incoherent imaging
gives, for antisite *exchange* (a fraction f of Li and TM swap places),

    f = (R - R0) / ((1 - R0) (1 + R)),

and for *substitution* (extra TM on Li sites only, TM sites unchanged)

    x = (R - R0) / (1 - R0).

Both follow from I_Li = f I_TM,0 + (1 - f) I_Li,0 (and I_TM = (1 - f) I_TM,0 + f I_Li,0
for exchange). Real columns are not linear: channelling and thermal diffuse scattering
make a TM atom in a light Li column scatter only k ~ 0.6-0.8 times what linear imaging
predicts, and a Li atom in a TM column remove k_tm times. With the sensitivities of a
frozen-phonon multislice calibration (:mod:`liprobe.stem.calibration`),
I_Li / I_TM,0 = R0 + k f (1 - R0) and I_TM / I_TM,0 = 1 - k_tm f (1 - R0), so

    f = (R - R0) / ((1 - R0)(k + k_tm R))     (exchange),
    x = (R - R0) / ((1 - R0) k)               (substitution),

which is the formula above for k = k_tm = 1. R0 must come from a reference (simulation
or a reference image), never from the bulk of the same image, which would silently zero
the bulk disorder.
References: DOMAIN.md §4; S. J. Pennycook & D. E. Jesson, Ultramicroscopy 37 (1991) 14
(incoherent Z-contrast, linear in the column scattering).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["MODELS", "RatioEstimate", "MixingEstimate", "intensity_ratio", "exchange_fraction",
           "substitution_fraction", "antisite_fraction"]

#: The disorder models, as written into results.
MODELS: tuple[str, ...] = ("exchange", "substitution")


@dataclass(frozen=True)
class RatioEstimate:
    """R = mean I(Li site) / mean I(TM site) with its standard error (delta method)."""

    R: float
    se: float
    n_li: int
    n_tm: int


@dataclass(frozen=True)
class MixingEstimate:
    """TM-on-Li fraction with a normal-approximation interval.

    ``f_ci`` is the ``confidence`` interval from the standard errors of R and R0,
    propagated through the model's formula by the delta method.
    """

    f: float
    f_se: float
    f_ci: tuple[float, float]
    model: str
    R: float
    R0: float
    confidence: float = 0.95
    k: float = 1.0
    k_tm: float = 1.0


def intensity_ratio(
    li_intensity: np.ndarray, tm_intensity: np.ndarray, *, background: float = 0.0
) -> RatioEstimate:
    """Ratio of mean background-subtracted intensities at Li and TM sites.

    The standard error uses the site-to-site scatter (counting noise and real occupancy
    fluctuation both count).
    """
    li = np.asarray(li_intensity, dtype=np.float64) - background
    tm = np.asarray(tm_intensity, dtype=np.float64) - background
    if li.size < 2 or tm.size < 2:
        return RatioEstimate(math.nan, math.nan, int(li.size), int(tm.size))
    m_li, m_tm = float(li.mean()), float(tm.mean())
    if not m_tm > 0:
        raise ParameterError(
            "mean TM-site intensity is not above the background; check the background "
            "level or the pixel size"
        )
    r = m_li / m_tm
    var_li = float(li.var(ddof=1)) / li.size
    var_tm = float(tm.var(ddof=1)) / tm.size
    se = math.sqrt(var_li + r * r * var_tm) / m_tm  # delta method for a ratio of means
    return RatioEstimate(r, se, int(li.size), int(tm.size))


def exchange_fraction(R: float | np.ndarray, R0: float | np.ndarray, *, k: float = 1.0,
                      k_tm: float = 1.0) -> float | np.ndarray:
    """Antisite exchange fraction f = (R - R0) / ((1 - R0)(k + k_tm R))."""
    R = np.asarray(R)
    return (R - R0) / ((1.0 - np.asarray(R0)) * (k + k_tm * R))


def substitution_fraction(R: float | np.ndarray, R0: float | np.ndarray, *, k: float = 1.0,
                          k_tm: float = 1.0) -> float | np.ndarray:
    """TM-on-Li substitution fraction x = (R - R0) / ((1 - R0) k) (``k_tm`` unused)."""
    return (np.asarray(R) - R0) / ((1.0 - np.asarray(R0)) * k)


def antisite_fraction(
    ratio: RatioEstimate,
    reference: RatioEstimate,
    *,
    model: str = "exchange",
    confidence: float = 0.95,
    k: float = 1.0,
    k_se: float = 0.0,
    k_tm: float = 1.0,
    k_tm_se: float = 0.0,
) -> MixingEstimate:
    """f (or x) from a measured and a reference ratio, with its interval.

    Parameters
    ----------
    ratio : RatioEstimate
        R of the region.
    reference : RatioEstimate
        R0 of the ordered reference under the same conditions (its ``se`` enters the
        interval).
    model : {"exchange", "substitution"}
        Disorder model (stated in the result).
    confidence : float
        Level of the interval.
    k, k_se, k_tm, k_tm_se : float
        Sensitivities of the Li-site and TM-site intensities to antisites relative to
        linear imaging, and their standard errors (from a multislice calibration,
        :func:`liprobe.stem.calibration.calibration_at`); 1 and 0 for linear imaging.

    Examples
    --------
    >>> est = antisite_fraction(RatioEstimate(0.3, 0.0, 10, 10),
    ...                         RatioEstimate(0.1, 0.0, 10, 10))
    >>> round(est.f, 4)
    0.1709
    """
    if model not in MODELS:
        raise ParameterError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must lie in (0, 1), got {confidence}")
    r, r0 = ratio.R, reference.R
    if not r0 < 1:
        raise ParameterError(f"reference ratio R0 = {r0:.3f} is not below 1; the reference "
                             "is not an ordered layered crystal")
    if not k > 0:
        raise ParameterError(f"sensitivity k must be positive, got {k}")
    func = exchange_fraction if model == "exchange" else substitution_fraction

    def value(x: np.ndarray) -> float:
        return float(func(x[0], x[1], k=x[2], k_tm=x[3]))

    x = np.array([r, r0, k, k_tm], dtype=np.float64)
    sig = np.array([ratio.se, reference.se, k_se, k_tm_se], dtype=np.float64)
    f = value(x)
    grad = np.empty(4)
    for i in range(4):
        step = 1e-6 * max(abs(x[i]), 1e-3)
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (value(up) - value(down)) / (2 * step)
    se = float(math.sqrt(np.sum((grad * sig) ** 2)))
    zval = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return MixingEstimate(f, se, (f - zval * se, f + zval * se), model, r, r0, confidence,
                          float(k), float(k_tm))

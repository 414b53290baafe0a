"""Shapes of a Li(depth) profile and the gradient depths derived from them.

Every shape rises from a surface value towards a bulk value ``c_bulk`` with depth
``d`` (nm, d >= 0):

- ``exponential``: ``c_b - (c_b - c_s) exp(-d / length)`` (first-order loss, e.g. a
  reaction-limited front);
- ``erf``: ``c_s + (c_b - c_s) erf(d / length)`` (diffusion from a fixed surface value,
  length = 2 sqrt(D t); Crank, *The Mathematics of Diffusion*, 1975, eq. 3.13);
- ``two_scale``: ``c_b - (c_b - c_s)[s exp(-d/l_fast) + (1-s) exp(-d/l_slow)]``
  (a thin surface layer plus a long tail);
- ``logistic``: ``c_s + (c_b - c_s) / (1 + exp(-(d - front)/width))`` (a moving front).

Every length parameter scales together under self-similar growth, which is what the
growth law in :mod:`liprobe.study.growth` assumes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special

from liprobe.errors import ParameterError

__all__ = ["Shape", "SHAPES", "get_shape", "DEPTH_DEFINITIONS", "gradient_depth_nm"]


@dataclass(frozen=True)
class Shape:
    """A profile shape: parameter names, which are lengths (nm), and the function."""

    name: str
    params: tuple[str, ...]
    lengths: tuple[str, ...]
    func: Callable[[np.ndarray, np.ndarray], np.ndarray]
    description: str

    def length_index(self) -> np.ndarray:
        """Indices of the length parameters."""
        return np.array([self.params.index(p) for p in self.lengths], dtype=np.int64)


def _exponential(d: np.ndarray, p: np.ndarray) -> np.ndarray:
    cs, cb, length = p
    return cb - (cb - cs) * np.exp(-d / length)


def _erf(d: np.ndarray, p: np.ndarray) -> np.ndarray:
    cs, cb, length = p
    return cs + (cb - cs) * special.erf(d / length)


def _two_scale(d: np.ndarray, p: np.ndarray) -> np.ndarray:
    cs, cb, share, fast, slow = p
    return cb - (cb - cs) * (share * np.exp(-d / fast) + (1 - share) * np.exp(-d / slow))


def _logistic(d: np.ndarray, p: np.ndarray) -> np.ndarray:
    cs, cb, front, width = p
    return cs + (cb - cs) * special.expit((d - front) / width)


SHAPES: dict[str, Shape] = {
    "exponential": Shape("exponential", ("c_surface", "c_bulk", "length_nm"), ("length_nm",),
                         _exponential, "c_b - (c_b - c_s) exp(-d/L)"),
    "erf": Shape("erf", ("c_surface", "c_bulk", "length_nm"), ("length_nm",), _erf,
                 "c_s + (c_b - c_s) erf(d/L)"),
    "two_scale": Shape("two_scale", ("c_surface", "c_bulk", "fast_share", "fast_length_nm",
                                     "slow_length_nm"), ("fast_length_nm", "slow_length_nm"),
                       _two_scale, "c_b - (c_b - c_s)[s exp(-d/L1) + (1-s) exp(-d/L2)]"),
    "logistic": Shape("logistic", ("c_surface", "c_bulk", "front_nm", "width_nm"),
                      ("front_nm", "width_nm"), _logistic,
                      "c_s + (c_b - c_s) / (1 + exp(-(d - d0)/w))"),
}

#: Gradient-depth definitions (the growth law uses one of them).
DEPTH_DEFINITIONS = {
    "half_recovery": "depth where the Li deficit c_b - c(d) falls to half its surface value",
    "recovery_95": "depth where c(d) has recovered 95 % of the way from c(0) to c_b",
    "deficit": "Li-deficit thickness: integral of (c_b - c(d)) dd over d >= 0, divided by c_b "
               "(thickness of a fully delithiated layer holding the same deficit)",
}


def get_shape(name: str) -> Shape:
    """The shape called ``name``."""
    try:
        return SHAPES[name]
    except KeyError:
        raise ParameterError(f"unknown gradient model {name!r}; choose from "
                             f"{', '.join(SHAPES)}") from None


def _scale_nm(shape: Shape, p: np.ndarray) -> float:
    return float(np.max(np.abs(p[shape.length_index()])) + 1.0)


def gradient_depth_nm(shape: Shape, params: np.ndarray, definition: str) -> float:
    """Gradient depth of the profile ``shape(params)`` by ``definition`` (nm).

    NaN when the profile has no deficit (``c(0) >= c_b``) or the definition has no
    finite solution.
    """
    if definition not in DEPTH_DEFINITIONS:
        raise ParameterError(f"unknown depth definition {definition!r}; choose from "
                             f"{', '.join(DEPTH_DEFINITIONS)}")
    p = np.asarray(params, dtype=np.float64)
    cb = p[1]
    c0 = float(shape.func(np.array([0.0]), p)[0])
    deficit0 = cb - c0
    if not deficit0 > 1e-12 * max(abs(cb), 1.0):
        return math.nan
    scale = _scale_nm(shape, p)
    if definition == "deficit":
        def integrand(d: float) -> float:
            return float(cb - shape.func(np.array([d]), p)[0])
        upper = 60.0 * scale
        value, _ = integrate.quad(integrand, 0.0, upper, limit=200,
                                  points=sorted(set(np.abs(p[shape.length_index()]))))
        return value / cb if cb > 0 else math.nan
    target = 0.5 if definition == "half_recovery" else 0.05

    def residual(d: float) -> float:
        return float(cb - shape.func(np.array([d]), p)[0]) - target * deficit0

    high = scale
    for _ in range(60):
        if residual(high) < 0:
            break
        high *= 2.0
    else:
        return math.nan
    return float(optimize.brentq(residual, 0.0, high, xtol=1e-9 * scale, rtol=1e-12))

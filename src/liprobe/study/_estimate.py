"""A number with its uncertainty, and the numerical delta method used by the fits."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "delta_method_se"]


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error and a confidence interval.

    ``ci_low``/``ci_high`` are NaN when no interval could be computed and may be
    ``-inf``/``inf`` when the data do not bound the value on that side.
    """

    value: float
    se: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    level: float = 0.95

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies inside the interval (False when there is none)."""
        return bool(self.ci_low <= x <= self.ci_high)

    def as_dict(self, prefix: str) -> dict[str, float]:
        """Flat ``{prefix, prefix_se, prefix_ci_low, prefix_ci_high}`` for tables."""
        return {prefix: self.value, f"{prefix}_se": self.se, f"{prefix}_ci_low": self.ci_low,
                f"{prefix}_ci_high": self.ci_high}

    def __format__(self, spec: str) -> str:
        spec = spec or ".3g"
        text = format(self.value, spec)
        if math.isfinite(self.se):
            text += f" ± {format(self.se, spec)}"
        if not (math.isnan(self.ci_low) or math.isnan(self.ci_high)):
            text += (f" ({self.level:.0%} CI {format(self.ci_low, spec)} to "
                     f"{format(self.ci_high, spec)})")
        return text


def delta_method_se(func: Callable[[np.ndarray], float], params: np.ndarray,
                    covariance: np.ndarray) -> float:
    """First-order standard error of ``func(params)`` (central differences)."""
    params = np.asarray(params, dtype=np.float64)
    if not np.all(np.isfinite(covariance)):
        return math.nan
    grad = np.empty_like(params)
    for i, p in enumerate(params):
        step = 1e-6 * max(abs(p), 1e-3)
        up, down = params.copy(), params.copy()
        up[i] += step
        down[i] -= step
        f_up, f_down = func(up), func(down)
        if not (math.isfinite(f_up) and math.isfinite(f_down)):
            return math.nan
        grad[i] = (f_up - f_down) / (2 * step)
    var = float(grad @ covariance @ grad)
    return math.sqrt(var) if var >= 0 else math.nan

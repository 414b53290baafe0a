"""Standard error of an image's R from independent areas, not from sites of one period.

Sites of a real image are independent measurements only as far as their noise is; an
image made by tiling one simulated period (or one noisy frame) repeats the same sites,
and a site-level standard error shrinks as 1/sqrt(tiles) without any new information
(pseudo-replication). The image is therefore split into areas (the analysis windows),
R is measured in each, and

- when the areas scatter as their own within-area errors predict (independent noise),
  the standard error is the larger of the pooled site-level one and the between-area
  one, sd(R_area) / sqrt(n_areas);
- when the areas agree far better than their own noise allows (robust between-area SD,
  1.4826 x the median absolute deviation, below a quarter of the median within-area
  SE: copies of one period, edge areas cut by the border aside), the image counts as
  one area and its standard error is one area's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["AreaError", "independent_area_se"]

#: Between-area SD below this fraction of the median within-area SE: the areas repeat.
REPEAT_FRACTION = 0.25


@dataclass(frozen=True)
class AreaError:
    """The image's R standard error and how it was counted."""

    se: float
    n_areas: int
    n_independent: int
    method: str


def independent_area_se(pooled_se: float, area_R: np.ndarray, area_se: np.ndarray) -> AreaError:
    """Standard error of the pooled R counted over independent areas (see module doc)."""
    r = np.asarray(area_R, np.float64)
    s = np.asarray(area_se, np.float64)
    ok = np.isfinite(r) & np.isfinite(s)
    r, s = r[ok], s[ok]
    n = int(r.size)
    if n < 2:
        return AreaError(float(pooled_se), n, max(n, 1), "sites (one area)")
    between = float(np.std(r, ddof=1))
    robust = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    within = float(np.median(s))
    if within > 0 and robust < REPEAT_FRACTION * within:
        return AreaError(max(within, float(pooled_se)), n, 1,
                         f"the {n} areas repeat one another (between-area SD {between:.2g} "
                         f"< {REPEAT_FRACTION} x within-area SE {within:.2g}): counted as one")
    se = max(float(pooled_se), between / math.sqrt(n))
    return AreaError(se, n, n, f"{n} independent areas")

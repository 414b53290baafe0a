"""Element ratios as functions of depth below the particle surface.

Ratios follow the paper's convention: atoms per total transition metal,
``r_X = N_X / (N_Ni + N_Co + N_Mn)``. Depth is measured below the *particle* surface; a
specimen cut ``specimen_depth_nm`` below it sees ``profile(specimen_depth_nm + z_nm)``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["DepthProfile", "ELEMENTS", "paper_profile", "published_apt_table", "PAPER_CYCLES"]

#: Elements of a profile, in order.
ELEMENTS: tuple[str, ...] = ("Li", "Ni", "Co", "Mn", "O")
#: Nominal transition-metal ratios of Li(Ni0.80Co0.15Mn0.05)O2.
NOMINAL_TM = {"Ni": 0.80, "Co": 0.15, "Mn": 0.05}
#: Cycle numbers of the published APT table.
PAPER_CYCLES: tuple[int, ...] = (0, 2, 100, 300)


def _as_tuple(values: object, n: int, name: str) -> tuple[float, ...]:
    arr = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError(f"DepthProfile {name} ratios must be finite and >= 0")
    return tuple(float(v) for v in arr)


@dataclass(frozen=True)
class DepthProfile:
    """Tabulated element ratios (per total metal) at depth knots.

    Linear interpolation between knots, constant beyond the ends.

    Parameters
    ----------
    depth_nm : sequence of float
        Strictly increasing knot depths below the particle surface, nm.
    li, ni, co, mn, o : float or sequence of float
        Ratio to total metal at each knot (a scalar is used at every knot).

    Examples
    --------
    >>> p = DepthProfile(depth_nm=(0.0, 10.0), li=(0.0, 1.0))
    >>> float(p.ratio_at("Li", 5.0))
    0.5
    """

    depth_nm: tuple[float, ...]
    li: tuple[float, ...] | float = 1.03
    ni: tuple[float, ...] | float = 0.80
    co: tuple[float, ...] | float = 0.15
    mn: tuple[float, ...] | float = 0.05
    o: tuple[float, ...] | float = 1.90

    def __post_init__(self) -> None:
        depth = np.atleast_1d(np.asarray(self.depth_nm, dtype=np.float64))
        if depth.ndim != 1 or depth.size == 0 or not np.all(np.isfinite(depth)):
            raise ParameterError("DepthProfile depth_nm must be a non-empty 1-D list of numbers")
        if np.any(np.diff(depth) <= 0):
            raise ParameterError("DepthProfile depth_nm must be strictly increasing")
        object.__setattr__(self, "depth_nm", tuple(float(d) for d in depth))
        for name in ("li", "ni", "co", "mn", "o"):
            object.__setattr__(self, name, _as_tuple(getattr(self, name), depth.size, name))
        tm = np.add(np.add(self.ni, self.co), self.mn)
        if np.any(tm <= 0):
            raise ParameterError("DepthProfile needs Ni + Co + Mn > 0 at every knot")

    @classmethod
    def uniform(
        cls, *, li: float = 1.03, ni: float = 0.80, co: float = 0.15, mn: float = 0.05,
        o: float = 1.90,
    ) -> DepthProfile:
        """A depth-independent profile (default: the pristine APT Li ratio 1.03)."""
        return cls(depth_nm=(0.0,), li=li, ni=ni, co=co, mn=mn, o=o)

    @classmethod
    def from_function(
        cls, li: Callable[[np.ndarray], np.ndarray], *, depth_nm: np.ndarray | None = None,
        ni: float = 0.80, co: float = 0.15, mn: float = 0.05, o: float = 1.90,
    ) -> DepthProfile:
        """Tabulate ``li(depth_nm)`` at knots (default: 0-5000 nm, 0.5 nm steps near the top).

        Examples
        --------
        >>> p = DepthProfile.from_function(lambda d: np.minimum(d / 100.0, 1.0))
        >>> round(float(p.ratio_at("Li", 50.0)), 3)
        0.5
        """
        if depth_nm is None:
            depth_nm = np.unique(np.concatenate([np.arange(0.0, 200.0, 0.5),
                                                 np.geomspace(200.0, 5000.0, 200)]))
        depth = np.asarray(depth_nm, dtype=np.float64)
        return cls(depth_nm=tuple(depth), li=tuple(np.asarray(li(depth), dtype=np.float64)),
                   ni=ni, co=co, mn=mn, o=o)

    def ratio_at(self, element: str, depth_nm: np.ndarray | float) -> np.ndarray:
        """Ratio of ``element`` (one of Li, Ni, Co, Mn, O) at ``depth_nm`` (float64)."""
        if element not in ELEMENTS:
            raise ParameterError(f"unknown element {element!r}; a profile holds {ELEMENTS}")
        values = getattr(self, element.lower())
        return np.interp(np.asarray(depth_nm, dtype=np.float64), self.depth_nm, values)

    def ratios_at(self, depth_nm: np.ndarray | float) -> dict[str, np.ndarray]:
        """All ratios at ``depth_nm`` as ``{element: array}``."""
        return {el: self.ratio_at(el, depth_nm) for el in ELEMENTS}

    def mean_ratios(self, start_nm: float, stop_nm: float) -> dict[str, float]:
        """Depth-averaged ratios over ``[start_nm, stop_nm]`` (uniform weight)."""
        depth = np.linspace(start_nm, max(stop_nm, start_nm), 2001)
        return {el: float(np.mean(v)) for el, v in self.ratios_at(depth).items()}


@lru_cache(maxsize=1)
def published_apt_table() -> tuple[dict[str, object], ...]:
    """Rows of Chae et al. (2021) Table 2 (site-specific APT ratios), as printed.

    Each row has ``specimen, cycles, region, depth_nm`` (None where the paper gives only a
    bound), ``depth_as_reported`` and the ratios ``li, ni, co, mn, o``.
    """
    text = resources.files("liprobe.synth").joinpath("chae2021_table2.csv").read_text()
    rows = []
    for row in csv.DictReader(text.splitlines()):
        out: dict[str, object] = dict(row)
        out["cycles"] = int(row["cycles"])
        out["depth_nm"] = float(row["depth_nm"]) if row["depth_nm"] else None
        for key in ("li", "ni", "co", "mn", "o"):
            out[key] = float(row[key])
        rows.append(out)
    return tuple(rows)


#: Depth assumed for rows the paper reports only as a bound ("< 100 nm": its midpoint).
_BOUND_DEPTH_NM = {(100, "R1"): 50.0}
#: Thickness of the fully Li-depleted surface layer after 300 cycles (STEM: ~15 nm).
_SURFACE_LAYER_NM = {300: 15.0}


def _pchip_log_depth(depth: np.ndarray, value: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Monotone cubic through ``(log(1 + depth), value)``, constant beyond the ends."""
    from scipy.interpolate import PchipInterpolator

    curve = PchipInterpolator(np.log1p(depth), value, extrapolate=False)
    return curve(np.log1p(np.clip(grid, depth[0], depth[-1])))


def paper_profile(cycles: int, *, o_ratio: float | None = None) -> DepthProfile:
    """Li(depth) after ``cycles`` cycles, through the published APT ratios.

    Monotone cubic (PCHIP) interpolation in ``log(1 + depth_nm)`` through the Li ratios of
    Chae et al. (2021), Table 2, constant beyond the first and last points. After 300
    cycles a surface layer 15 nm thick (the STEM Li-deficient depth) holds the surface
    ratio 0.03; the 100-cycle row "< 100 nm" is placed at 50 nm. Pristine (0) and
    formation (2) specimens are uniform. Ni/Co/Mn are the nominal 0.80/0.15/0.05.

    Parameters
    ----------
    cycles : int
        0, 2, 100 or 300.
    o_ratio : float, optional
        Constant O ratio; default: the published O ratios of that cycle number,
        interpolated linearly in log-depth (1.6-1.9, reflecting neutral O loss).

    References
    ----------
    B.-G. Chae et al., "Evolution and expansion of Li concentration gradient during
    charge-discharge cycling", Nature Communications (2021), Table 2.

    Examples
    --------
    >>> p = paper_profile(300)
    >>> round(float(p.ratio_at("Li", 5.0)), 2), round(float(p.ratio_at("Li", 100.0)), 2)
    (0.03, 0.47)
    """
    if cycles not in PAPER_CYCLES:
        raise ParameterError(
            f"no published APT profile for {cycles} cycles; choose one of {PAPER_CYCLES}"
        )
    rows = [r for r in published_apt_table() if r["cycles"] == cycles]
    if len(rows) == 1:
        row = rows[0]
        return DepthProfile.uniform(li=row["li"], o=row["o"] if o_ratio is None else o_ratio)
    depth, li, o = [], [], []
    for row in rows:
        d = row["depth_nm"]
        if d is None:
            d = _BOUND_DEPTH_NM[(cycles, row["region"])]
        depth.append(d)
        li.append(row["li"])
        o.append(row["o"])
    if cycles in _SURFACE_LAYER_NM:
        depth.insert(1, _SURFACE_LAYER_NM[cycles])
        li.insert(1, li[0])
        o.insert(1, o[0])
    depth_arr, li_arr, o_arr = (np.asarray(v, dtype=np.float64) for v in (depth, li, o))
    grid = np.unique(np.concatenate([np.arange(0.0, 200.0, 0.5),
                                     np.geomspace(200.0, 5000.0, 200), depth_arr]))
    li_grid = _pchip_log_depth(depth_arr, li_arr, grid)
    o_grid = (np.interp(np.log1p(grid), np.log1p(depth_arr), o_arr) if o_ratio is None
              else np.full_like(grid, o_ratio))
    return DepthProfile(depth_nm=tuple(grid), li=tuple(li_grid), o=tuple(o_grid))

"""Cycling data: discharge capacity per cycle, specific capacity and capacity retention.

Works on plain arrays (as returned by the readers in :mod:`liprobe.io.cycler`, whose
standard columns are ``time_s, current_ma, voltage_v, cycle`` and, where the instrument
records them, ``charge_capacity_mah, discharge_capacity_mah``).

Capacity retention is the discharge capacity of each cycle divided by that of a
reference cycle (default: the first cycle after formation in the data) at the same rate
(DOMAIN.md section 5). Reference for the numbers used in tests: Chae et al., Nat. Commun.
(2021): 137.5 mAh/g and 76.0 % retention after 300 cycles.

Examples
--------
>>> import numpy as np
>>> fade = capacity_fade(np.array([1, 2, 3]), np.array([2.0, 1.9, 1.8]), active_mass_g=0.01)
>>> [round(float(x), 3) for x in fade.retention]
[1.0, 0.95, 0.9]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.errors import ParameterError

__all__ = [
    "CapacityFade", "discharge_capacity_per_cycle", "discharge_capacity_from_records",
    "capacity_fade", "specific_capacity_mah_g", "capacity_retention",
]


@dataclass(frozen=True)
class CapacityFade:
    """Capacity per cycle of one cell.

    Attributes
    ----------
    cycle : (C,) int array
    discharge_capacity_mah : (C,) float array
    specific_capacity_mah_g : (C,) float array
        NaN when the active mass is unknown.
    retention : (C,) float array
        Fraction of the reference cycle's discharge capacity.
    reference_cycle : int
    active_mass_g : float or None
    fade_per_cycle : float
        Least-squares slope of retention vs cycle (fraction per cycle).
    fade_per_cycle_se : float
        Its standard error.
    """

    cycle: np.ndarray
    discharge_capacity_mah: np.ndarray
    specific_capacity_mah_g: np.ndarray
    retention: np.ndarray
    reference_cycle: int
    active_mass_g: float | None
    fade_per_cycle: float
    fade_per_cycle_se: float

    def retention_at(self, cycle: int) -> float:
        """Retention at ``cycle`` (ValueError-derived ParameterError if absent)."""
        hit = np.flatnonzero(self.cycle == cycle)
        if hit.size == 0:
            raise ParameterError(f"cycle {cycle} is not in the data "
                                 f"(cycles {self.cycle.min()}-{self.cycle.max()})")
        return float(self.retention[hit[0]])


def discharge_capacity_per_cycle(time_s: np.ndarray, current_ma: np.ndarray,
                                 cycle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integrate the discharge current (negative by convention) over each cycle.

    Parameters
    ----------
    time_s, current_ma, cycle : (N,) arrays
        Time series in s, mA (discharge < 0) and the cycle number of each point.

    Returns
    -------
    cycles : (C,) int array
    capacity_mah : (C,) float array
        ``∫ max(-I, 0) dt`` per cycle by the trapezoid rule, in mAh.
    """
    t = np.asarray(time_s, dtype=np.float64)
    i = np.asarray(current_ma, dtype=np.float64)
    c = np.asarray(cycle)
    if not (t.shape == i.shape == c.shape) or t.ndim != 1:
        raise ParameterError("time_s, current_ma and cycle must be 1-D arrays of equal length")
    if t.size < 2:
        raise ParameterError("need at least two points to integrate a current")
    discharge = np.clip(-i, 0.0, None)
    dt = np.diff(t)
    if np.any(dt < 0):
        raise ParameterError("time_s must not decrease; sort the records by time first")
    segment = 0.5 * (discharge[1:] + discharge[:-1]) * dt / 3600.0
    same = c[1:] == c[:-1]
    cycles, inverse = np.unique(c[1:][same], return_inverse=True)
    capacity = np.bincount(inverse, weights=segment[same], minlength=cycles.size)
    return cycles.astype(np.int64), capacity


def specific_capacity_mah_g(capacity_mah: np.ndarray, active_mass_g: float) -> np.ndarray:
    """Capacity per gram of active material (mAh/g)."""
    if not (np.isfinite(active_mass_g) and active_mass_g > 0):
        raise ParameterError(f"active_mass_g must be > 0, got {active_mass_g}")
    return np.asarray(capacity_mah, dtype=np.float64) / active_mass_g


def capacity_retention(capacity: np.ndarray, *, reference_index: int = 0) -> np.ndarray:
    """Capacity divided by the capacity at ``reference_index``."""
    capacity = np.asarray(capacity, dtype=np.float64)
    if capacity.size == 0:
        raise ParameterError("no cycles to compute a retention from")
    ref = capacity[reference_index]
    if not ref > 0:
        raise ParameterError(f"reference capacity must be > 0, got {ref}")
    return capacity / ref


def capacity_fade(cycle: np.ndarray, discharge_capacity_mah: np.ndarray, *,
                  active_mass_g: float | None = None,
                  reference_cycle: int | None = None) -> CapacityFade:
    """Specific capacity, retention and linear fade rate of one cell.

    Parameters
    ----------
    cycle : (C,) int array
    discharge_capacity_mah : (C,) array
    active_mass_g : float, keyword-only
        Active material mass for the specific capacity.
    reference_cycle : int, keyword-only
        Cycle whose capacity is 100 % (default: the first cycle in the data).

    Returns
    -------
    CapacityFade
    """
    cycle = np.asarray(cycle).astype(np.int64)
    cap = np.asarray(discharge_capacity_mah, dtype=np.float64)
    if cycle.shape != cap.shape or cycle.ndim != 1 or cycle.size == 0:
        raise ParameterError("cycle and discharge_capacity_mah must be equal-length 1-D arrays")
    order = np.argsort(cycle, kind="stable")
    cycle, cap = cycle[order], cap[order]
    ref_cycle = int(cycle[0]) if reference_cycle is None else int(reference_cycle)
    hit = np.flatnonzero(cycle == ref_cycle)
    if hit.size == 0:
        raise ParameterError(f"reference_cycle {ref_cycle} is not in the data")
    retention = capacity_retention(cap, reference_index=int(hit[0]))
    specific = (specific_capacity_mah_g(cap, active_mass_g) if active_mass_g is not None
                else np.full_like(cap, np.nan))
    slope, slope_se = np.nan, np.nan
    if cycle.size >= 3:
        x = cycle - cycle.mean()
        sxx = float(x @ x)
        if sxx > 0:
            slope = float(x @ (retention - retention.mean()) / sxx)
            resid = retention - retention.mean() - slope * x
            slope_se = float(np.sqrt(resid @ resid / (cycle.size - 2) / sxx))
    return CapacityFade(cycle, cap, specific, retention, ref_cycle, active_mass_g, slope, slope_se)


def discharge_capacity_from_records(records: Any, *, restart_at_steps: bool = False
                                    ) -> tuple[np.ndarray, np.ndarray]:
    """Discharge capacity per cycle from a cycler record table.

    Parameters
    ----------
    records : mapping of column name to (N,) array (or a DataFrame)
        Standard columns of :mod:`liprobe.io.cycler`: ``cycle`` and either the running
        capacity counters ``charge_capacity_mah`` / ``discharge_capacity_mah`` or
        ``time_s`` and ``current_ma``.
    restart_at_steps : bool, keyword-only
        The counters restart at each change of ``step`` (Neware, Maccor).

    Returns
    -------
    cycles : (C,) int array
    capacity_mah : (C,) float array
        Sum over the discharge steps of each cycle
        (:func:`liprobe.cell.cycle_summary.summarize_cycles`).
    """
    from liprobe.cell.cycle_summary import summarize_cycles

    keys = set(records.keys()) if hasattr(records, "keys") else set()
    if "discharge_capacity_mah" in keys and "charge_capacity_mah" not in keys:
        records = {**{k: records[k] for k in keys},
                   "charge_capacity_mah": np.zeros(len(records["discharge_capacity_mah"]))}
    summary = summarize_cycles(records, restart_at_steps=restart_at_steps)
    return summary.cycle, summary.discharge_capacity_mah

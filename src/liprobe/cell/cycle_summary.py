"""Per-cycle charge and discharge capacity, coulombic efficiency, energy, mean voltage, dQ/dV.

Works on a cycler record table (mapping of column name to (N,) array, e.g. the DataFrame of
:func:`liprobe.io.cycler.read_cycling`) with the standard columns ``cycle``, ``time_s``,
``current_ma``, ``voltage_v``, optional ``step``, ``charge_capacity_mah``,
``discharge_capacity_mah``, ``charge_energy_mwh``, ``discharge_energy_mwh`` and
``impedance`` (True on impedance records).

Capacity per cycle is the **sum over the steps of each direction**. Cyclers record the
capacity as a running counter that restarts at each step (Neware, Maccor), half cycle
(BioLogic) or cycle (Arbin). The counter is turned into per-record increments: the
difference to the previous record, except where the counter restarts (its value drops,
the cycle changes, or, with ``restart_at_steps=True``, the step changes), where the
increment is the value itself. Summing the increments of a cycle adds the capacity of
all its steps, whatever their number; taking the maximum would keep only the largest.
Without capacity columns the current is integrated (trapezoid rule; charge > 0).
Impedance records (PEIS/GEIS, Maccor FRA) are excluded; rest records add nothing.

Examples
--------
>>> import numpy as np
>>> records = {"cycle": np.array([1, 1, 1, 1]),
...            "charge_capacity_mah": np.zeros(4),
...            "discharge_capacity_mah": np.array([1.0, 2.0, 0.5, 1.5]),
...            "voltage_v": np.full(4, 3.7)}
>>> summary = summarize_cycles(records)
>>> [round(float(x), 3) for x in summary.discharge_capacity_mah]   # 2.0 + 1.5
[3.5]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["CycleSummary", "summarize_cycles", "capacity_increments", "differential_capacity"]


@dataclass(frozen=True)
class CycleSummary:
    """Per-cycle values of one cell.

    Attributes
    ----------
    cycle : (C,) int64 array
    charge_capacity_mah, discharge_capacity_mah : (C,) float arrays
        Sum over the steps of each direction.
    coulombic_efficiency : (C,) float array
        Discharge over charge capacity of the same cycle (NaN where nothing was charged).
    charge_energy_mwh, discharge_energy_mwh : (C,) float arrays
    mean_discharge_voltage_v : (C,) float array
        Discharge energy over discharge capacity (capacity-weighted mean voltage; NaN where
        the cycle has no discharge).
    capacity_source : str
        ``"instrument capacity columns"`` or ``"integrated current"``.
    n_records : int
    n_impedance_records : int
        Records excluded as impedance measurements.
    """

    cycle: np.ndarray
    charge_capacity_mah: np.ndarray
    discharge_capacity_mah: np.ndarray
    coulombic_efficiency: np.ndarray
    charge_energy_mwh: np.ndarray
    discharge_energy_mwh: np.ndarray
    mean_discharge_voltage_v: np.ndarray
    capacity_source: str
    n_records: int
    n_impedance_records: int

    @property
    def n_cycles(self) -> int:
        """Number of cycles."""
        return int(self.cycle.size)

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per cycle (NaN stays NaN; JSON writers turn it into null)."""
        return [{"cycle": int(self.cycle[i]),
                 "charge_capacity_mah": float(self.charge_capacity_mah[i]),
                 "discharge_capacity_mah": float(self.discharge_capacity_mah[i]),
                 "coulombic_efficiency": float(self.coulombic_efficiency[i]),
                 "discharge_energy_mwh": float(self.discharge_energy_mwh[i]),
                 "mean_discharge_voltage_v": float(self.mean_discharge_voltage_v[i])}
                for i in range(self.cycle.size)]


def _column(records: Any, name: str) -> np.ndarray | None:
    keys = records.keys() if hasattr(records, "keys") else ()
    if name not in keys:
        return None
    return np.asarray(records[name], dtype=np.float64)


def _cycles(records: Any) -> np.ndarray:
    keys = set(records.keys()) if hasattr(records, "keys") else set()
    if "cycle" not in keys:
        raise ParameterError("cycling records need a 'cycle' column; map it with "
                             "columns = { cycle = \"<header>\" }")
    cycle = np.asarray(records["cycle"])
    if cycle.dtype.kind == "f":
        bad = ~np.isfinite(cycle) | (cycle != np.round(cycle))
        if np.any(bad):
            row = int(np.flatnonzero(bad)[0])
            raise ParameterError(f"cycle number {cycle[row]!r} at record {row + 1} is not an "
                                 "integer")
    elif cycle.dtype.kind not in "iu":
        raise ParameterError(f"the cycle column must be numeric, got {cycle.dtype}")
    return cycle.astype(np.int64)


def _restarts(n: int, cycle: np.ndarray, step: np.ndarray | None) -> np.ndarray:
    new = np.zeros(n, dtype=bool)
    new[0] = True
    new[1:] = cycle[1:] != cycle[:-1]
    if step is not None:
        new[1:] |= step[1:] != step[:-1]
    return new


def capacity_increments(running_mah: np.ndarray, *, cycle: np.ndarray,
                        step: np.ndarray | None = None, name: str = "capacity") -> np.ndarray:
    """Per-record increments of a running capacity (or energy) counter.

    Parameters
    ----------
    running_mah : (N,) array
        The instrument's counter (its magnitude is used: some record discharge < 0).
    cycle : (N,) int array
        Cycle of each record; the counter is taken to restart at a new cycle.
    step : (N,) array, keyword-only, optional
        Step of each record, for counters that restart at each step.
    name : str
        Column name for error messages.

    Returns
    -------
    (N,) float64 array
        ``q[k] - q[k-1]``, or ``q[k]`` where the counter restarts (new cycle, new step, or a
        drop of its value).
    """
    q = np.abs(np.asarray(running_mah, dtype=np.float64))
    if q.ndim != 1 or q.shape != np.shape(cycle):
        raise ParameterError(f"{name} and cycle must be 1-D arrays of equal length")
    if q.size == 0:
        return q
    bad = ~np.isfinite(q)
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise ParameterError(f"{name} is not a number at record {row + 1} "
                             f"({int(bad.sum())} such records)")
    d = np.empty_like(q)
    d[0] = q[0]
    d[1:] = np.diff(q)
    restart = _restarts(q.size, np.asarray(cycle), step) | (d < 0)
    d[restart] = q[restart]
    return d


def _integrated(time_s: np.ndarray, current_ma: np.ndarray,
                cycle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if np.any(~np.isfinite(time_s)) or np.any(~np.isfinite(current_ma)):
        raise ParameterError("time_s and current_ma must be finite to integrate the current")
    dt = np.diff(time_s, prepend=time_s[:1])
    if np.any(dt < 0):
        row = int(np.flatnonzero(dt < 0)[0])
        raise ParameterError(f"time_s decreases at record {row + 1}; sort the records by "
                             "test time (a step time restarts at each step)")
    mid = 0.5 * (current_ma + np.concatenate([current_ma[:1], current_ma[:-1]]))
    dq = mid * dt / 3600.0
    return np.clip(dq, 0.0, None), np.clip(-dq, 0.0, None)


def summarize_cycles(records: Mapping[str, Any] | Any, *,
                     restart_at_steps: bool = False) -> CycleSummary:
    """Charge and discharge capacity, coulombic efficiency, energy and mean voltage per cycle.

    Parameters
    ----------
    records : mapping of column name to (N,) array, or a DataFrame
        Standard cycler columns (see the module docstring), in record order.
    restart_at_steps : bool, keyword-only
        The capacity counters restart at each change of ``step`` (Neware, Maccor).

    Returns
    -------
    CycleSummary
    """
    cycle = _cycles(records)
    n = cycle.size
    if n == 0:
        raise ParameterError("no cycling records")
    step = _column(records, "step") if restart_at_steps else None
    imp_col = _column(records, "impedance")
    impedance = np.zeros(n, bool) if imp_col is None else imp_col.astype(bool)
    charge_q = _column(records, "charge_capacity_mah")
    discharge_q = _column(records, "discharge_capacity_mah")
    if charge_q is not None and discharge_q is not None:
        d_chg = capacity_increments(charge_q, cycle=cycle, step=step,
                                    name="charge_capacity_mah")
        d_dis = capacity_increments(discharge_q, cycle=cycle, step=step,
                                    name="discharge_capacity_mah")
        source = "instrument capacity columns"
    else:
        time_s, current = _column(records, "time_s"), _column(records, "current_ma")
        if time_s is None or current is None:
            present = sorted(records.keys()) if hasattr(records, "keys") else []
            raise ParameterError("cycling records need charge_capacity_mah and "
                                 "discharge_capacity_mah, or time_s and current_ma; got "
                                 f"columns {present} (an OCV or rest technique records no "
                                 "current, so it has no capacity)")
        current = np.where(impedance, 0.0, current)
        d_chg, d_dis = _integrated(time_s, current, cycle)
        source = "integrated current"
    d_chg = np.where(impedance, 0.0, d_chg)
    d_dis = np.where(impedance, 0.0, d_dis)

    voltage = _column(records, "voltage_v")
    e_chg_col = _column(records, "charge_energy_mwh")
    e_dis_col = _column(records, "discharge_energy_mwh")
    if e_chg_col is not None and e_dis_col is not None and source != "integrated current":
        e_chg = np.where(impedance, 0.0, capacity_increments(
            e_chg_col, cycle=cycle, step=step, name="charge_energy_mwh"))
        e_dis = np.where(impedance, 0.0, capacity_increments(
            e_dis_col, cycle=cycle, step=step, name="discharge_energy_mwh"))
    elif voltage is not None:
        v_mid = 0.5 * (voltage + np.concatenate([voltage[:1], voltage[:-1]]))
        v_mid = np.where(_restarts(n, cycle, _column(records, "step")), voltage, v_mid)
        e_chg, e_dis = d_chg * v_mid, d_dis * v_mid
    else:
        e_chg = e_dis = np.full(n, np.nan)

    cycles, inverse = np.unique(cycle, return_inverse=True)

    def per_cycle(values: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=values, minlength=cycles.size)

    chg, dis = per_cycle(d_chg), per_cycle(d_dis)
    energy_chg, energy_dis = per_cycle(e_chg), per_cycle(e_dis)
    with np.errstate(divide="ignore", invalid="ignore"):
        ce = np.where(chg > 0, dis / chg, np.nan)
        mean_v = np.where(dis > 0, energy_dis / dis, np.nan)
    return CycleSummary(cycles, chg, dis, ce, energy_chg, energy_dis, mean_v, source, n,
                        int(impedance.sum()))


def differential_capacity(voltage_v: np.ndarray, capacity_mah: np.ndarray, *,
                          voltage_step_v: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """dQ/dV of one half cycle by binning the capacity increments on voltage.

    Parameters
    ----------
    voltage_v : (N,) array
        Voltage of the records of one charge or one discharge.
    capacity_mah : (N,) array
        Capacity accumulated over the same records (monotonic).
    voltage_step_v : float, keyword-only
        Bin width in V (5 mV by default; smaller bins amplify the noise).

    Returns
    -------
    voltage_v : (B,) array
        Bin centres.
    dq_dv_mah_per_v : (B,) array
        Capacity gained in each bin divided by the bin width (always >= 0).
    """
    v = np.asarray(voltage_v, dtype=np.float64)
    q = np.asarray(capacity_mah, dtype=np.float64)
    if v.shape != q.shape or v.ndim != 1:
        raise ParameterError("voltage_v and capacity_mah must be 1-D arrays of equal length")
    if not voltage_step_v > 0:
        raise ParameterError(f"voltage_step_v must be > 0, got {voltage_step_v}")
    keep = np.isfinite(v) & np.isfinite(q)
    v, q = v[keep], q[keep]
    if v.size < 2:
        return np.zeros(0), np.zeros(0)
    dq = np.abs(np.diff(q))
    v_mid = 0.5 * (v[1:] + v[:-1])
    edges = np.arange(np.floor(v.min() / voltage_step_v) * voltage_step_v,
                      v.max() + voltage_step_v, voltage_step_v)
    if edges.size < 2:
        edges = np.array([v.min(), v.min() + voltage_step_v])
    hist, edges = np.histogram(v_mid, bins=edges, weights=dq)
    return 0.5 * (edges[1:] + edges[:-1]), hist / voltage_step_v

"""Cycling figures: capacity per cycle and dQ/dV of the discharges (result objects only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_cycling"]


def plot_cycling(summary, dq_dv: Sequence[tuple[int, np.ndarray, np.ndarray]], *,
                 title: str = "") -> Figure:
    """Charge/discharge capacity and coulombic efficiency per cycle; dQ/dV per cycle.

    ``summary`` is a :class:`liprobe.cell.cycle_summary.CycleSummary`; ``dq_dv`` holds
    ``(cycle, voltage_v, dq_dv_mah_per_v)`` of each discharge.
    """
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    left.plot(summary.cycle, summary.charge_capacity_mah, "o-", label="charge")
    left.plot(summary.cycle, summary.discharge_capacity_mah, "s-", label="discharge")
    left.set_xlabel("cycle")
    left.set_ylabel("capacity (mAh)")
    ce = left.twinx()
    ce.plot(summary.cycle, summary.coulombic_efficiency, "k.", label="coulombic efficiency")
    ce.set_ylabel("coulombic efficiency")
    left.legend(loc="lower left")
    for cycle, voltage, dqdv in dq_dv:
        right.plot(voltage, dqdv, lw=1, label=f"cycle {cycle}")
    right.set_xlabel("voltage (V)")
    right.set_ylabel("dQ/dV of the discharge (mAh/V)")
    if 0 < len(dq_dv) <= 10:
        right.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig

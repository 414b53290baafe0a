"""``liprobe cycling FILE``: per-cycle capacity, coulombic efficiency, energy and voltage.

Reads any cycler file liprobe knows (BioLogic .mpr/.mpt, Neware .nda/.ndax/BTSDA CSV,
Maccor text, Arbin CSV/.res, a generic CSV), prints one row per cycle (``--json``: the
payload of :func:`cycling_payload`), and with ``--figure`` draws capacity per cycle and
dQ/dV of each discharge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit

__all__ = ["register", "cycling_payload", "cycling_info"]


def _summary(records):
    from liprobe.cell.cycle_summary import summarize_cycles

    return summarize_cycles(records, restart_at_steps=bool(
        records.attrs.get("capacity_restarts_at_steps", False)))


def cycling_payload(path: Path, *, format: str | None = None) -> tuple[dict[str, Any], Any, Any]:
    """(payload, records, summary) of one cycler file."""
    from liprobe.errors import ParameterError
    from liprobe.io.cycler import read_cycling

    records = read_cycling(path, format=format)
    try:
        summary = _summary(records)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from exc
    payload = {"format": records.attrs.get("format"), "n_records": int(len(records)),
               "capacity_source": summary.capacity_source,
               "n_impedance_records": summary.n_impedance_records,
               "cycles": summary.to_rows()}
    return payload, records, summary


def cycling_info(path: Path) -> dict[str, Any]:
    """``liprobe info`` payload of a cycler file: format, record and cycle counts, columns."""
    from liprobe.io.cycler import read_cycling

    records = read_cycling(path)
    cycles = sorted(set(records["cycle"].tolist())) if "cycle" in records else []
    return {"kind": "cycling", "format": records.attrs.get("format"),
            "n_records": int(len(records)), "n_cycles": len(cycles),
            "columns": [str(c) for c in records.columns],
            "reader": records.attrs.get("reader")}


def _discharge_dq_dv(records, summary, max_cycles: int = 12):
    import numpy as np

    from liprobe.cell.cycle_summary import capacity_increments, differential_capacity

    if "voltage_v" not in records or "discharge_capacity_mah" not in records:
        return []
    cycle = records["cycle"].to_numpy()
    restart = bool(records.attrs.get("capacity_restarts_at_steps", False))
    step = records["step"].to_numpy() if restart and "step" in records else None
    inc = capacity_increments(records["discharge_capacity_mah"].to_numpy(), cycle=cycle,
                              step=step, name="discharge_capacity_mah")
    if "impedance" in records:
        inc = np.where(records["impedance"].to_numpy(), 0.0, inc)
    voltage = records["voltage_v"].to_numpy(np.float64)
    curves = []
    chosen = summary.cycle[summary.discharge_capacity_mah > 0]
    for c in chosen[np.linspace(0, chosen.size - 1, min(max_cycles, chosen.size)).astype(int)
                    ] if chosen.size else []:
        sel = (cycle == c) & (inc > 0)
        if sel.sum() >= 3:
            v, dqdv = differential_capacity(voltage[sel], np.cumsum(inc[sel]))
            curves.append((int(c), v, dqdv))
    return curves


def _text(path: Path, payload: dict[str, Any]) -> str:
    def f(v, spec):
        return "-" if v is None or v != v else format(v, spec)

    lines = [f"{path}: {payload['format']}, {payload['n_records']} records, "
             f"{len(payload['cycles'])} cycles (capacity from {payload['capacity_source']})",
             f"{'cycle':>6} {'charge mAh':>12} {'discharge mAh':>14} {'CE':>7} "
             f"{'E_dis mWh':>11} {'<V_dis> V':>10}"]
    for row in payload["cycles"]:
        lines.append(f"{row['cycle']:>6} {f(row['charge_capacity_mah'], '.4f'):>12} "
                     f"{f(row['discharge_capacity_mah'], '.4f'):>14} "
                     f"{f(row['coulombic_efficiency'], '.4f'):>7} "
                     f"{f(row['discharge_energy_mwh'], '.4f'):>11} "
                     f"{f(row['mean_discharge_voltage_v'], '.4f'):>10}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``cycling`` to ``app``."""

    @app.command("cycling")
    def cycling(
        file: Path = typer.Argument(..., help="Cycler file (.mpr, .mpt, .nda, .ndax, .res, "
                                    "Maccor text, Arbin/Neware/generic CSV)."),
        format: str | None = typer.Option(None, "--format", help="Force the format: csv, "
                                          "biologic, biologic_mpt, neware, neware_csv, "
                                          "maccor, arbin, arbin_res."),
        figure: Path | None = typer.Option(None, "--figure", help="Write capacity per cycle "
                                           "and dQ/dV (.svg, .png or .pdf)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """Charge/discharge capacity, coulombic efficiency, energy and mean voltage per cycle."""
        payload, records, summary = cycling_payload(file, format=format)
        if figure is not None:
            from liprobe.report.canvas import save_figure
            from liprobe.report.cycling_figures import plot_cycling

            fig = plot_cycling(summary, _discharge_dq_dv(records, summary), title=file.name)
            payload["figure"] = str(save_figure(fig, figure))
        emit(payload, as_json=as_json, text=_text(file, payload))

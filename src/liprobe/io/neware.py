"""Neware files: binary ``.nda``/``.ndax`` (through NewareNDA) and BTSDA CSV exports.

Neware's capacity and energy counters restart at each step; per-cycle capacity is their
sum over the steps (:func:`liprobe.cell.cycle_summary.summarize_cycles`). NewareNDA's
``Time`` is the **step** time; the test time is built here by adding the step times
end to end (``time_s``), and both are kept (``step_time_s``). A BTSDA CSV export has
both as text (``Time`` = step time, ``Cumulative Time`` = test time, ``H:MM:SS`` with
hours past 24, or ``N day(s), H:MM:SS``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from liprobe.errors import FormatError
from liprobe.io._cycler_table import cycle_numbers, cycler_input, durations_s, numeric, record_table

__all__ = ["read_neware", "read_neware_csv", "NEWARE_CSV_COLUMNS"]

#: BTSDA CSV header -> (standard column, factor to the standard unit).
NEWARE_CSV_COLUMNS = {
    "Current(A)": ("current_ma", 1e3), "Current(mA)": ("current_ma", 1.0),
    "Voltage(V)": ("voltage_v", 1.0),
    "Chg. Cap.(Ah)": ("charge_capacity_mah", 1e3), "Chg. Cap.(mAh)": ("charge_capacity_mah", 1.0),
    "DChg. Cap.(Ah)": ("discharge_capacity_mah", 1e3),
    "DChg. Cap.(mAh)": ("discharge_capacity_mah", 1.0),
    "Chg. Energy(Wh)": ("charge_energy_mwh", 1e3), "Chg. Energy(mWh)": ("charge_energy_mwh", 1.0),
    "DChg. Energy(Wh)": ("discharge_energy_mwh", 1e3),
    "DChg. Energy(mWh)": ("discharge_energy_mwh", 1.0),
}


def _test_time_from_step_time(step_time: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Test time: the step times added end to end (each step starts where the last ended)."""
    n = step_time.size
    if n == 0:
        return step_time
    starts = np.flatnonzero(np.r_[True, step[1:] != step[:-1]])
    ends = np.r_[starts[1:] - 1, n - 1]
    offsets = np.r_[0.0, np.cumsum(step_time[ends])[:-1]]
    return step_time + np.repeat(offsets, np.diff(np.r_[starts, n]))


def read_neware(path: str | os.PathLike, **_: Any) -> Any:
    """Read a Neware ``.nda``/``.ndax`` file through NewareNDA.

    Returns
    -------
    pandas.DataFrame
        Standard cycler records; ``time_s`` is the test time (step times added end to
        end), ``step_time_s`` NewareNDA's ``Time``.
    """
    p = cycler_input(path, text=False)
    import NewareNDA

    try:
        frame = NewareNDA.read(os.fspath(p), log_level="ERROR")
    except Exception as exc:  # zipfile.BadZipFile, struct.error, KeyError ... from NewareNDA
        raise FormatError(f"not a readable Neware file ({type(exc).__name__}: {exc})",
                          path=p, hint="check that the file is complete, or export it "
                          "from BTSDA as CSV") from None
    need = ("Cycle", "Step", "Time", "Voltage", "Current(mA)", "Charge_Capacity(mAh)",
            "Discharge_Capacity(mAh)")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise FormatError(f"NewareNDA gave no {', '.join(missing)} column", path=p)
    step = frame["Step"].to_numpy(np.int64)
    step_time = frame["Time"].to_numpy(np.float64)
    out = {"cycle": cycle_numbers(frame["Cycle"].to_numpy(), name="Cycle", path=p),
           "step": step, "step_time_s": step_time,
           "time_s": _test_time_from_step_time(step_time, step),
           "current_ma": frame["Current(mA)"].to_numpy(np.float64),
           "voltage_v": frame["Voltage"].to_numpy(np.float64),
           "charge_capacity_mah": frame["Charge_Capacity(mAh)"].to_numpy(np.float64),
           "discharge_capacity_mah": np.abs(frame["Discharge_Capacity(mAh)"]
                                            .to_numpy(np.float64))}
    for src, key in (("Charge_Energy(mWh)", "charge_energy_mwh"),
                     ("Discharge_Energy(mWh)", "discharge_energy_mwh")):
        if src in frame.columns:
            out[key] = np.abs(frame[src].to_numpy(np.float64))
    return record_table(out, path=p, fmt="neware", restarts_at_steps=True,
                        reader="NewareNDA", time_source="step times added end to end")


def is_neware_csv_header(header: list[str]) -> bool:
    """True for the column titles of a BTSDA CSV export."""
    return {"Cycle Index", "Step Index"} <= set(header) and any(
        h in header for h in ("DChg. Cap.(Ah)", "DChg. Cap.(mAh)"))


def read_neware_csv(path: str | os.PathLike, *, encoding: str | None = None,
                    **_: Any) -> Any:
    """Read a Neware BTSDA CSV export (``DataPoint, Cycle Index, Step Index, Step Type,
    Time, Cumulative Time, Current(A), Voltage(V), ... Chg. Cap.(Ah), DChg. Cap.(Ah)``)."""
    import pandas as pd

    p = cycler_input(path, text=True)
    frame = None
    for enc in ([encoding] if encoding else ["utf-8-sig", "gb18030"]):
        try:
            frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding=enc)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise FormatError(f"not a BTSDA CSV export ({exc})", path=p) from None
    if frame is None:
        raise FormatError("not a BTSDA CSV export (neither UTF-8 nor GB18030 text)", path=p,
                          hint="pass encoding= with the export's text encoding")
    header = [str(c).strip() for c in frame.columns]
    frame.columns = header
    if not is_neware_csv_header(header):
        raise FormatError("no 'Cycle Index', 'Step Index' and 'DChg. Cap.' columns", path=p,
                          line=1, hint="export the record layer from BTSDA as CSV")
    out: dict[str, np.ndarray] = {
        "cycle": cycle_numbers(numeric(frame["Cycle Index"], name="Cycle Index", path=p),
                               name="Cycle Index", path=p)}
    step_index = numeric(frame["Step Index"], name="Step Index", path=p).astype(np.int64)
    change = np.r_[True, (step_index[1:] != step_index[:-1])
                   | (out["cycle"][1:] != out["cycle"][:-1])]
    out["step"] = np.cumsum(change) - 1
    if "Cumulative Time" in frame:
        out["time_s"] = durations_s(frame["Cumulative Time"], name="Cumulative Time", path=p)
    if "Time" in frame:
        out["step_time_s"] = durations_s(frame["Time"], name="Time", path=p)
        if "time_s" not in out:
            out["time_s"] = _test_time_from_step_time(out["step_time_s"], out["step"])
    for header_name, (key, factor) in NEWARE_CSV_COLUMNS.items():
        if header_name in frame and key not in out:
            out[key] = numeric(frame[header_name], name=header_name, path=p) * factor
    for key in ("discharge_capacity_mah", "discharge_energy_mwh"):
        if key in out:
            out[key] = np.abs(out[key])
    return record_table(out, path=p, fmt="neware_csv", restarts_at_steps=True,
                        reader="liprobe")

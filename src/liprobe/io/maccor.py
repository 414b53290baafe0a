"""Maccor text exports (``.txt`` and the numbered raw exports ``.001``, ``.041`` ...).

A header block (``Today's Date ... Date of Test ... Filename ... Procedure``) precedes the
tab-separated records (``Rec#, Cyc#, Step, TestTime, StepTime, Amp-hr, Watt-hr, Amps,
Volts, State, ...``). Maccor records the current as a magnitude and the direction in
``State`` (C charge, D discharge, R rest, O/P/S other, FRA impedance); ``Amp-hr`` and
``Watt-hr`` restart at each step. Times are text such as ``0d 00:01:0.88`` (days, then
H:MM:S.s).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from liprobe.errors import FormatError
from liprobe.io._cycler_table import cycle_numbers, cycler_input, durations_s, numeric, record_table

__all__ = ["read_maccor", "MACCOR_MAGIC"]

MACCOR_MAGIC = b"Today's Date"

#: standard column -> accepted Maccor headers (first found wins).
_ALIASES = {
    "cycle": ("Cyc#", "Cycle", "Cycle C"),
    "step": ("Step",),
    "time_s": ("TestTime", "Test Time", "Test Time (sec)"),
    "step_time_s": ("StepTime", "Step Time", "Step Time (sec)"),
    "capacity": ("Amp-hr", "Cap. [Ah]", "Capacity (AHr)"),
    "energy": ("Watt-hr", "Ener. [Wh]", "Energy (WHr)"),
    "current": ("Amps", "Current [A]", "Current (A)"),
    "voltage_v": ("Volts", "Voltage [V]", "Voltage (V)"),
    "state": ("State", "MD"),
}


def _header_line(path, lines: list[str]) -> int:
    for k, line in enumerate(lines[:50]):
        if line.startswith("Rec#") or line.split("\t", 1)[0].strip() in ("Rec#", "Rec"):
            return k
    raise FormatError("no 'Rec#' column-title line in the first 50 lines", path=path,
                      hint="export the data from MacData/MIMS as a tab-separated text file")


def read_maccor(path: str | os.PathLike, *, encoding: str = "latin-1", **_: Any) -> Any:
    """Read a Maccor text export.

    Returns
    -------
    pandas.DataFrame
        Standard cycler records (discharge current < 0; FRA records flagged as
        impedance); ``attrs["header"]`` holds the header block.
    """
    import io

    import pandas as pd

    p = cycler_input(path, text=True)
    text = p.read_bytes().removeprefix(b"\xef\xbb\xbf").decode(encoding, errors="strict")
    lines = text.splitlines()
    first = _header_line(p, lines)
    try:
        frame = pd.read_csv(io.StringIO("\n".join(lines[first:])), sep="\t", dtype=str,
                            keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FormatError(f"not a Maccor text export ({exc})", path=p, line=first + 1) from None
    frame.columns = [str(c).strip() for c in frame.columns]

    def pick(role: str) -> str | None:
        return next((h for h in _ALIASES[role] if h in frame.columns), None)

    need = {role: pick(role) for role in ("cycle", "time_s", "capacity", "current",
                                          "voltage_v", "state")}
    missing = [_ALIASES[r][0] for r, h in need.items() if h is None]
    if missing:
        raise FormatError(f"no {', '.join(missing)} column", path=p, line=first + 1,
                          hint="export with the standard Maccor columns")
    n_head = first + 1
    state = frame[need["state"]].str.strip().str.upper().to_numpy()
    sign = np.where(state == "D", -1.0, 1.0)
    out: dict[str, np.ndarray] = {
        "cycle": cycle_numbers(numeric(frame[need["cycle"]], name=need["cycle"], path=p,
                                       header_lines=n_head), name=need["cycle"], path=p),
        "time_s": durations_s(frame[need["time_s"]], name=need["time_s"], path=p,
                              header_lines=n_head),
        "voltage_v": numeric(frame[need["voltage_v"]], name=need["voltage_v"], path=p,
                             header_lines=n_head),
    }
    step_col = pick("step")
    if step_col is not None:
        step = numeric(frame[step_col], name=step_col, path=p, header_lines=n_head)
        change = np.r_[True, step[1:] != step[:-1]] if step.size else np.zeros(0, bool)
        out["step"] = np.cumsum(change) - 1
    step_time = pick("step_time_s")
    if step_time is not None:
        out["step_time_s"] = durations_s(frame[step_time], name=step_time, path=p,
                                         header_lines=n_head)
    out["current_ma"] = sign * np.abs(numeric(frame[need["current"]], name=need["current"],
                                              path=p, header_lines=n_head)) * 1e3
    cap = np.abs(numeric(frame[need["capacity"]], name=need["capacity"], path=p,
                         header_lines=n_head)) * 1e3
    out["charge_capacity_mah"] = np.where(state == "C", cap, 0.0)
    out["discharge_capacity_mah"] = np.where(state == "D", cap, 0.0)
    energy = pick("energy")
    if energy is not None:
        e = np.abs(numeric(frame[energy], name=energy, path=p, header_lines=n_head)) * 1e3
        out["charge_energy_mwh"] = np.where(state == "C", e, 0.0)
        out["discharge_energy_mwh"] = np.where(state == "D", e, 0.0)
    out["impedance"] = state == "FRA"
    return record_table(out, path=p, fmt="maccor", restarts_at_steps=True, reader="liprobe",
                        header="\n".join(lines[:first]))

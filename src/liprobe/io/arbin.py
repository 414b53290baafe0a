"""Arbin files: MITS Pro CSV exports (with or without unit suffixes) and ``.res`` databases.

A CSV export titles its columns ``Test_Time(s)``, ``Current(A)``, ``Charge_Capacity(Ah)``
... or, in newer exports, the same names without the unit (Arbin's units are then s, A,
V, Ah, Wh). A ``<name>_Metadata.csv`` beside it is read into ``attrs["metadata"]``.
A ``.res`` file is an MS-Access (Jet) database: its ``Channel_Normal_Table`` holds the
records and ``Global_Table`` the test metadata; it is read with the pure-Python
``access-parser`` (``pip install access-parser``). Arbin's capacity and energy counters
run over the steps of a cycle and restart at each cycle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import DependencyError, FormatError
from liprobe.io._cycler_table import cycle_numbers, cycler_input, numeric, record_table

__all__ = ["read_arbin", "read_arbin_res", "ARBIN_COLUMNS", "JET_MAGIC", "is_arbin_header"]

JET_MAGIC = b"\x00\x01\x00\x00Standard Jet DB"

#: standard column -> (Arbin name without unit, factor from Arbin's unit).
ARBIN_COLUMNS: Mapping[str, tuple[str, float]] = {
    "cycle": ("Cycle_Index", 1.0), "step": ("Step_Index", 1.0),
    "time_s": ("Test_Time", 1.0), "step_time_s": ("Step_Time", 1.0),
    "current_ma": ("Current", 1e3), "voltage_v": ("Voltage", 1.0),
    "charge_capacity_mah": ("Charge_Capacity", 1e3),
    "discharge_capacity_mah": ("Discharge_Capacity", 1e3),
    "charge_energy_mwh": ("Charge_Energy", 1e3),
    "discharge_energy_mwh": ("Discharge_Energy", 1e3),
}
_UNIT_FACTOR = {"s": 1.0, "A": 1e3, "mA": 1.0, "V": 1.0, "Ah": 1e3, "mAh": 1.0,
                "Wh": 1e3, "mWh": 1.0, "": None}


def _base_and_unit(header: str) -> tuple[str, str]:
    header = header.strip()
    if header.endswith(")") and "(" in header:
        base, _, unit = header[:-1].rpartition("(")
        return base.strip(), unit.strip()
    return header, ""


def is_arbin_header(header: list[str]) -> bool:
    """True for the column titles of an Arbin CSV export."""
    bases = {_base_and_unit(h)[0] for h in header}
    return {"Cycle_Index", "Voltage"} <= bases and ("Test_Time" in bases
                                                   or "Current" in bases)


def _standard(columns: Mapping[str, Any], path, fmt: str, header_lines: int) -> dict:
    by_base = {}
    for header in columns:
        base, unit = _base_and_unit(str(header))
        by_base.setdefault(base, (header, unit))
    out: dict[str, np.ndarray] = {}
    for key, (base, default_factor) in ARBIN_COLUMNS.items():
        if base not in by_base:
            continue
        header, unit = by_base[base]
        factor = _UNIT_FACTOR.get(unit) if unit else default_factor
        if factor is None:
            raise FormatError(f"column {header!r} has a unit liprobe does not convert",
                              path=path,
                              hint="known units: " + ", ".join(u for u in _UNIT_FACTOR if u))
        values = numeric(columns[header], name=str(header), path=path,
                         header_lines=header_lines)
        out[key] = values * factor
    if "cycle" not in out:
        raise FormatError("no Cycle_Index column", path=path, line=1)
    out["cycle"] = cycle_numbers(out["cycle"], name="Cycle_Index", path=path)
    if "step" in out:
        step = out["step"]
        change = np.r_[True, (step[1:] != step[:-1]) | (out["cycle"][1:] != out["cycle"][:-1])]
        out["step"] = np.cumsum(change) - 1
    for key in ("discharge_capacity_mah", "discharge_energy_mwh"):
        if key in out:
            out[key] = np.abs(out[key])
    return out


def _metadata_beside(path: Path) -> dict[str, str]:
    import pandas as pd

    meta = path.with_name(f"{path.stem}_Metadata.csv")
    if not meta.is_file():
        return {}
    table = pd.read_csv(meta, dtype=str, keep_default_na=False)
    table = table.loc[:, [c for c in table.columns if not str(c).startswith("Unnamed")]]
    return {str(k): str(v) for k, v in table.iloc[0].items()} if len(table) else {}


def read_arbin(path: str | os.PathLike, *, columns: Mapping[str, str] | None = None,
               **_: Any) -> Any:
    """Read an Arbin MITS Pro CSV export (with or without unit suffixes)."""
    import pandas as pd

    p = cycler_input(path, text=True)
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise FormatError(f"not an Arbin CSV export ({exc})", path=p) from None
    if columns:  # explicit mapping {standard name: header}: rename to the Arbin names
        rename = {header: ARBIN_COLUMNS[name][0] for name, header in columns.items()
                  if name in ARBIN_COLUMNS and header in frame.columns}
        frame = frame.rename(columns=rename)
    if not is_arbin_header([str(c) for c in frame.columns]):
        raise FormatError("no Arbin column titles (Cycle_Index, Voltage, Test_Time ...)",
                          path=p, line=1, hint="pass format='csv' with a column mapping")
    out = _standard({c: frame[c] for c in frame.columns}, p, "arbin", 1)
    return record_table(out, path=p, fmt="arbin", restarts_at_steps=False, reader="liprobe",
                        metadata=_metadata_beside(p))


def read_arbin_res(path: str | os.PathLike, **_: Any) -> Any:
    """Read an Arbin ``.res`` (MS-Access) file with access-parser (pure Python)."""
    p = cycler_input(path, text=False)
    with open(p, "rb") as fh:
        if fh.read(len(JET_MAGIC)) != JET_MAGIC:
            raise FormatError("not an MS-Access (Jet) database", path=p, offset=0)
    try:
        from access_parser import AccessParser
    except ImportError:
        raise DependencyError(
            f"{p}: reading an Arbin .res file needs access-parser; install it with: "
            "pip install access-parser (or export the test from MITS Pro as CSV)") from None
    try:
        db = AccessParser(os.fspath(p))
        records = db.parse_table("Channel_Normal_Table")
        try:
            meta_table = db.parse_table("Global_Table")
        except Exception:  # an older layout without Global_Table: no metadata
            meta_table = {}
    except Exception as exc:  # access-parser raises anything on a damaged database
        raise FormatError(f"not a readable Arbin .res database ({type(exc).__name__}: {exc})",
                          path=p, hint="check that the file is complete") from None
    if not records or "Data_Point" not in records:
        raise FormatError("the database has no Channel_Normal_Table records", path=p)
    order = np.argsort(np.asarray(records["Data_Point"], dtype=np.int64), kind="stable")
    columns = {k: np.asarray(v, dtype=object)[order] for k, v in records.items()}
    out = _standard(columns, p, "arbin_res", 0)
    metadata = {str(k): str(v[0]) for k, v in dict(meta_table).items() if len(v)}
    return record_table(out, path=p, fmt="arbin_res", restarts_at_steps=False,
                        reader="access-parser", metadata=metadata)

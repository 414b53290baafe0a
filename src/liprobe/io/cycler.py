"""Battery cycler files: one entry point for every cycler format.

=================  ==========================================  ===========================
format             files                                       module
=================  ==========================================  ===========================
``biologic``       BioLogic EC-Lab ``.mpr``                    :mod:`liprobe.io.biologic`
``biologic_mpt``   EC-Lab text export ``.mpt``                 :mod:`liprobe.io.biologic`
``neware``         Neware ``.nda`` / ``.ndax``                 :mod:`liprobe.io.neware`
``neware_csv``     Neware BTSDA CSV export                     :mod:`liprobe.io.neware`
``maccor``         Maccor text export (``.txt``, ``.001`` ...)  :mod:`liprobe.io.maccor`
``arbin``          Arbin MITS Pro CSV export                   :mod:`liprobe.io.arbin`
``arbin_res``      Arbin ``.res`` (MS-Access)                  :mod:`liprobe.io.arbin`
``cycling_csv``    any delimited table, with a column mapping  here
=================  ==========================================  ===========================

Every reader returns a :class:`pandas.DataFrame` of the standard record columns of
:mod:`liprobe.io._cycler_table` (``cycle``, ``time_s``, ``step_time_s``, ``step``,
``current_ma``, ``voltage_v``, ``charge_capacity_mah``, ``discharge_capacity_mah`` ...).
:func:`liprobe.cell.cycle_summary.summarize_cycles` turns the records into per-cycle
capacity, coulombic efficiency, energy and mean voltage. A ``.csv`` is told apart by its
column titles (Arbin, Neware BTSDA, or a generic table).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import FormatError, ParameterError
from liprobe.io._cycler_table import (
    STANDARD_COLUMNS,
    cycle_numbers,
    cycler_input,
    numeric,
    record_table,
)
from liprobe.io.arbin import read_arbin
from liprobe.io.biologic import read_biologic
from liprobe.io.neware import read_neware

__all__ = ["STANDARD_COLUMNS", "CYCLING_FORMATS", "read_cycling_csv", "read_biologic",
           "read_neware", "read_arbin", "read_cycling", "detect_cycling_format"]

#: Names accepted by ``format=`` (and by the study manifest), with their aliases.
CYCLING_FORMATS = ("csv", "biologic", "biologic_mpt", "neware", "neware_csv", "maccor",
                   "arbin", "arbin_res")
_ALIASES = {"csv": "cycling_csv", "mpr": "biologic", "mpt": "biologic_mpt",
            "nda": "neware", "ndax": "neware", "res": "arbin_res"}

#: Alternative units accepted in a column mapping: name -> (standard name, factor).
_CONVERTED = {
    "time_h": ("time_s", 3600.0), "time_min": ("time_s", 60.0),
    "current_a": ("current_ma", 1000.0), "current_ua": ("current_ma", 1.0e-3),
    "charge_capacity_ah": ("charge_capacity_mah", 1000.0),
    "discharge_capacity_ah": ("discharge_capacity_mah", 1000.0),
}


def read_cycling_csv(path: str | os.PathLike, *, columns: Mapping[str, str] | None = None,
                     **_: Any) -> Any:
    """Read a delimited text export with a column mapping ``{standard name: header}``.

    Without ``columns`` the headers must already be standard names. Units other than
    the standard ones may be mapped by name (``current_a``, ``time_h``,
    ``discharge_capacity_ah`` ...) and are converted. Text that is not a number is an
    error naming the line.
    """
    import csv

    import pandas as pd

    p = cycler_input(path, text=True)
    try:
        frame = pd.read_csv(p, sep=None, engine="python", dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError,
            csv.Error) as exc:
        raise FormatError(f"not a delimited text table ({exc})", path=p) from None
    if columns is None:
        columns = {c: c for c in frame.columns if c in (*STANDARD_COLUMNS, *_CONVERTED)}
    known = (*STANDARD_COLUMNS, *_CONVERTED)
    out: dict[str, np.ndarray] = {}
    for name, header in dict(columns).items():
        if name not in known:
            raise ParameterError(f"{p}: unknown column role {name!r}; use one of "
                                 f"{', '.join(known)}")
        if header not in frame.columns:
            raise FormatError(f"column {header!r} (for {name}) not found; the file has "
                              f"{', '.join(map(str, frame.columns))}", path=p,
                              hint="fix the columns mapping of this cycling entry")
        values = numeric(frame[header], name=header, path=p, allow_missing=name != "cycle")
        if name in _CONVERTED:
            name, factor = _CONVERTED[name]
            values = values * factor
        out[name] = values
    if "cycle" not in out:
        raise FormatError("no cycle column found", path=p,
                          hint="map it with columns = { cycle = \"<header>\" }")
    out["cycle"] = cycle_numbers(out["cycle"], name=dict(columns).get("cycle", "cycle"), path=p)
    if "impedance" in out:
        out["impedance"] = out["impedance"].astype(bool)
    return record_table(out, path=p, fmt="cycling_csv", restarts_at_steps=False,
                        reader="liprobe")


def _csv_header(path: Path) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline()
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]


def detect_cycling_format(path: str | os.PathLike) -> str:
    """Name of the cycler format of ``path``: magic bytes, suffix, then a CSV's titles."""
    from liprobe.io._registry import detect_format

    fmt = detect_format(path, kind="cycling").name
    if fmt != "cycling_csv":
        return fmt
    from liprobe.io.arbin import is_arbin_header
    from liprobe.io.neware import is_neware_csv_header

    header = _csv_header(Path(path))
    if is_arbin_header(header):
        return "arbin"
    if is_neware_csv_header(header):
        return "neware_csv"
    return "cycling_csv"


def read_cycling(path: str | os.PathLike, *, format: str | None = None,
                 columns: Mapping[str, str] | None = None) -> Any:
    """Read any cycler file (format from ``format``, else magic bytes, suffix, CSV titles).

    Parameters
    ----------
    path : path-like
    format : str, keyword-only, optional
        One of :data:`CYCLING_FORMATS`.
    columns : mapping, keyword-only, optional
        ``{standard name: header}`` for a generic CSV (``format="csv"``).

    Returns
    -------
    pandas.DataFrame
        Standard records; ``attrs`` carry ``format`` and ``capacity_restarts_at_steps``.
    """
    from liprobe.io._registry import get_format

    if format is None:
        name = detect_cycling_format(path)
    else:
        name = _ALIASES.get(format, format)
    fmt = get_format(name)
    if fmt.kind != "cycling":
        raise ParameterError(f"format {fmt.name!r} is not a cycler format; use one of "
                             f"{', '.join(CYCLING_FORMATS)}")
    return fmt.reader()(path, columns=columns)

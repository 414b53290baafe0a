"""Battery cycler files: generic CSV (column mapping), BioLogic .mpr, Neware .nda/.ndax, Arbin CSV.

Every reader returns a :class:`pandas.DataFrame` with the standard columns (SI-like units
written in the names; only the columns the file records):

=========================  ==========================================================
``cycle``                  cycle number (int)
``time_s``                 test time, s
``current_ma``             current, mA (discharge < 0)
``voltage_v``              cell voltage, V
``charge_capacity_mah``    charge capacity accumulated within the cycle/step, mAh
``discharge_capacity_mah`` discharge capacity accumulated within the cycle/step, mAh
=========================  ==========================================================

Vendor binaries go through maintained readers: ``galvani`` (BioLogic) and ``NewareNDA``
(Neware). :func:`liprobe.cell.cycling.discharge_capacity_from_records` turns these
records into capacity per cycle.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import FormatError, MissingFileError, ParameterError

__all__ = ["STANDARD_COLUMNS", "ARBIN_COLUMNS", "read_cycling_csv", "read_biologic",
           "read_neware", "read_arbin", "read_cycling"]

STANDARD_COLUMNS = ("cycle", "time_s", "current_ma", "voltage_v", "charge_capacity_mah",
                    "discharge_capacity_mah")

#: Alternative units accepted in a column mapping: name -> (standard name, factor).
_CONVERTED = {
    "time_h": ("time_s", 3600.0), "time_min": ("time_s", 60.0),
    "current_a": ("current_ma", 1000.0), "current_ua": ("current_ma", 1.0e-3),
    "charge_capacity_ah": ("charge_capacity_mah", 1000.0),
    "discharge_capacity_ah": ("discharge_capacity_mah", 1000.0),
}

#: Column headers of an Arbin MITS Pro CSV/Excel export.
ARBIN_COLUMNS: Mapping[str, str] = {
    "cycle": "Cycle_Index", "time_s": "Test_Time(s)", "current_a": "Current(A)",
    "voltage_v": "Voltage(V)", "charge_capacity_ah": "Charge_Capacity(Ah)",
    "discharge_capacity_ah": "Discharge_Capacity(Ah)",
}


def _exists(path: str | os.PathLike) -> Path:
    from liprobe.io._validate import require_input_file, text_encoding_problem

    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: no such cycler file")
    require_input_file(path, what="cycler file")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise FormatError("empty cycler file", path=path, line=1,
                          hint="export the cycling data again (a header and one row per "
                          "record)")
    encoding = text_encoding_problem(head) if path.suffix.lower() in (".csv", ".txt") else None
    if encoding is not None:
        raise FormatError(f"the cycler export is {encoding} text", path=path, offset=0,
                          hint="save it as UTF-8")
    return path


def _standardise(frame: Any, columns: Mapping[str, str], path: Path) -> Any:
    import pandas as pd

    known = (*STANDARD_COLUMNS, *_CONVERTED)
    out = {}
    for name, header in columns.items():
        if name not in known:
            raise ParameterError(f"{path}: unknown column role {name!r}; use one of "
                                 f"{', '.join(known)}")
        if header not in frame.columns:
            raise FormatError(f"column {header!r} (for {name}) not found; the file has "
                              f"{', '.join(map(str, frame.columns))}", path=path,
                              hint="fix the columns mapping of this cycling entry")
        values = pd.to_numeric(frame[header], errors="coerce").to_numpy(np.float64)
        if name in _CONVERTED:
            name, factor = _CONVERTED[name]
            values = values * factor
        out[name] = values
    if "cycle" not in out:
        raise FormatError("no cycle column found", path=path,
                          hint="map it with columns = { cycle = \"<header>\" }")
    cycle = out["cycle"]
    if cycle.size == 0:
        raise FormatError("the cycler table has a header but no data rows", path=path,
                          line=2, hint="export the cycling data again")
    if np.any(~np.isfinite(cycle)):
        bad = int(np.flatnonzero(~np.isfinite(cycle))[0])
        raise FormatError(f"cycle column is not a number at data row {bad + 1}", path=path)
    wrong = np.flatnonzero((cycle != np.round(cycle)) | (cycle < 0) | (cycle > 1e6))
    if wrong.size:
        bad = int(wrong[0])
        raise FormatError(f"cycle {cycle[bad]:g} at data row {bad + 1} is not a whole number "
                          "from 0 to 1000000", path=path)
    out["cycle"] = cycle.astype(np.int64)
    return pd.DataFrame(out)


def read_cycling_csv(path: str | os.PathLike, *, columns: Mapping[str, str] | None = None,
                     **_: Any) -> Any:
    """Read a delimited text export with a column mapping ``{standard name: header}``.

    Without ``columns`` the headers must already be standard names. Units other than
    the standard ones may be mapped by name (``current_a``, ``time_h``,
    ``discharge_capacity_ah`` ...) and are converted.
    """
    import pandas as pd

    path = _exists(path)
    try:
        frame = pd.read_csv(path, sep=None, engine="python")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError,
            csv.Error) as exc:
        raise FormatError(f"not a delimited text table ({exc})", path=path) from None
    if columns is None:
        columns = {c: c for c in frame.columns if c in (*STANDARD_COLUMNS, *_CONVERTED)}
    return _standardise(frame, dict(columns), path)


def read_arbin(path: str | os.PathLike, *, columns: Mapping[str, str] | None = None,
               **_: Any) -> Any:
    """Read an Arbin MITS Pro CSV export (headers of :data:`ARBIN_COLUMNS`)."""
    import pandas as pd

    path = _exists(path)
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError,
            csv.Error) as exc:
        raise FormatError(f"not an Arbin CSV export ({exc})", path=path) from None
    mapping = {k: v for k, v in ARBIN_COLUMNS.items() if v in frame.columns}
    mapping.update(columns or {})
    return _standardise(frame, mapping, path)


def read_biologic(path: str | os.PathLike, **_: Any) -> Any:
    """Read a BioLogic EC-Lab ``.mpr`` file through ``galvani``."""
    import pandas as pd

    path = _exists(path)
    from galvani import BioLogic
    try:
        with open(path, "rb") as fh:
            mpr = BioLogic.MPRfile(fh)
    except (ValueError, NotImplementedError, KeyError, IndexError, TypeError) as exc:
        raise FormatError(f"not a readable BioLogic .mpr file ({exc})", path=path,
                          hint="export the data as text and use format = \"csv\"") from None
    data = mpr.data
    names = data.dtype.names or ()
    out: dict[str, np.ndarray] = {}
    if "cycle number" in names:
        out["cycle"] = np.asarray(data["cycle number"]).astype(np.int64)
    elif "half cycle" in names:
        out["cycle"] = np.asarray(data["half cycle"]).astype(np.int64) // 2
    else:
        raise FormatError("the .mpr file has no cycle number column", path=path,
                          hint="enable 'cycle number' in EC-Lab's export or use csv")
    if "time/s" in names:
        out["time_s"] = np.asarray(data["time/s"], dtype=np.float64)
    for src in ("I/mA", "<I>/mA", "control/mA"):
        if src in names:
            out["current_ma"] = np.asarray(data[src], dtype=np.float64)
            break
    for src in ("Ewe/V", "<Ewe>/V"):
        if src in names:
            out["voltage_v"] = np.asarray(data[src], dtype=np.float64)
            break
    return pd.DataFrame(out)


def read_neware(path: str | os.PathLike, **_: Any) -> Any:
    """Read a Neware ``.nda``/``.ndax`` file through ``NewareNDA``."""
    import pandas as pd

    path = _exists(path)
    import NewareNDA
    try:
        frame = NewareNDA.read(os.fspath(path), log_level="ERROR")
    except (ValueError, KeyError, IndexError, EOFError, OSError, TypeError) as exc:
        raise FormatError(f"not a readable Neware file ({exc})", path=path) from None
    except Exception as exc:  # zipfile.BadZipFile, struct.error ... from the vendor reader
        raise FormatError(f"not a readable Neware file ({type(exc).__name__}: {exc})",
                          path=path) from None
    mapping = {"cycle": "Cycle", "time_s": "Time", "current_ma": "Current(mA)",
               "voltage_v": "Voltage", "charge_capacity_mah": "Charge_Capacity(mAh)",
               "discharge_capacity_mah": "Discharge_Capacity(mAh)"}
    mapping = {k: v for k, v in mapping.items() if v in frame.columns}
    return _standardise(pd.DataFrame(frame), mapping, path)


def read_cycling(path: str | os.PathLike, *, format: str | None = None,
                 columns: Mapping[str, str] | None = None) -> Any:
    """Read any registered cycler file (format from ``format``, magic bytes or suffix)."""
    from liprobe.io._registry import detect_format, get_format

    names = {"csv": "cycling_csv", "biologic": "biologic", "neware": "neware",
             "arbin": "arbin"}
    fmt = (get_format(names.get(format, format)) if format is not None
           else detect_format(path, kind="cycling"))
    if fmt.kind != "cycling":
        raise ParameterError(f"format {fmt.name!r} is not a cycler format")
    return fmt.reader()(path, columns=columns)

"""The standard cycler record table shared by every cycler reader.

Columns (only those the file records; units in the names):

==========================  =============================================================
``cycle``                   cycle number (int64; a non-integral number is an error)
``time_s``                  test time (since the start of the test), s
``step_time_s``             time since the start of the step, s
``step``                    step counter of the instrument (int64)
``current_ma``              current, mA (charge > 0, discharge < 0)
``voltage_v``               cell voltage, V
``charge_capacity_mah``     the instrument's running charge counter, mAh
``discharge_capacity_mah``  the instrument's running discharge counter, mAh (>= 0)
``charge_energy_mwh``       running charge energy, mWh
``discharge_energy_mwh``    running discharge energy, mWh
``impedance``               True on impedance (EIS/FRA) records
==========================  =============================================================

The running counters restart where the instrument restarts them (at each step, half
cycle or cycle); ``frame.attrs["capacity_restarts_at_steps"]`` says whether they restart
at every step. :func:`liprobe.cell.cycle_summary.summarize_cycles` sums them per cycle.
Text is converted strictly: a value that is not a number is an error naming the row,
never a silent NaN.

Every cycler reader opens its input through :func:`cycler_input` (a regular file, not
empty, and for text exports not UTF-16/UTF-32), converts cycle numbers with
:func:`cycle_numbers` (whole numbers from 0 to :data:`MAX_CYCLE`) and builds its result
with :func:`record_table` (a table without records is an error), so the same bad input
gets the same error from every format.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import FormatError
from liprobe.io.validate import require_input_file, text_encoding_problem

__all__ = ["STANDARD_COLUMNS", "MAX_CYCLE", "cycler_input", "numeric", "durations_s",
           "record_table", "cycle_numbers"]

#: Largest cycle number a file may give (a larger one is a damaged or misread column).
MAX_CYCLE = 1_000_000

STANDARD_COLUMNS = ("cycle", "time_s", "step_time_s", "step", "current_ma", "voltage_v",
                    "charge_capacity_mah", "discharge_capacity_mah", "charge_energy_mwh",
                    "discharge_energy_mwh", "impedance")

_DURATION = re.compile(
    r"^\s*(?:(?P<days>\d+)\s*(?:d|days?)\s*,?\s*)?"
    r"(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d*)?)\s*$")


def cycler_input(path: str | os.PathLike, *, text: bool) -> Path:
    """``path`` checked as a cycler input before any reader parses it.

    ``text``: the format is a text export, which must not be UTF-16 or UTF-32 (a UTF-8
    byte-order mark is fine).

    Raises
    ------
    MissingFileError
        Nothing exists at ``path``.
    FormatError
        A folder, FIFO, device or socket; an empty (or whitespace-only) file; a text
        export in UTF-16/UTF-32.
    """
    p = require_input_file(path, what="cycler file")
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise FormatError("empty cycler file", path=p, line=1,
                          hint="export the cycling data again (a header and one row per "
                          "record)")
    encoding = text_encoding_problem(head) if text else None
    if encoding is not None:
        raise FormatError(f"the cycler export is {encoding} text", path=p, offset=0,
                          hint="save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)")
    return p


def numeric(values: Any, *, name: str, path: str | os.PathLike, header_lines: int = 1,
            allow_missing: bool = False) -> np.ndarray:
    """``values`` as float64; text that is not a number raises :class:`FormatError`.

    Empty cells are NaN only with ``allow_missing``; the error names the line
    (``header_lines`` lines precede the first record).
    """
    import pandas as pd

    series = pd.Series(np.asarray(values, dtype=object) if not hasattr(values, "dtype")
                       else values)
    if series.dtype.kind in "iufb":
        return series.to_numpy(np.float64)
    text = series.astype("string").str.strip()
    out = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
    missing = text.isna().to_numpy() | (text == "").fillna(True).to_numpy()
    bad = np.isnan(out) & ~missing & ~text.str.lower().isin(["nan"]).fillna(False).to_numpy()
    if not allow_missing:
        bad |= missing
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise FormatError(f"column {name!r} holds {series.iloc[row]!r}, not a number "
                          f"({int(bad.sum())} such values)", path=path,
                          line=row + header_lines + 1,
                          hint="check the export settings (decimal separator, units)")
    return out


def durations_s(values: Any, *, name: str, path: str | os.PathLike,
                header_lines: int = 1) -> np.ndarray:
    """Durations in s from numbers or text (``"00:00:00"``, ``"30:05:00"``,
    ``"1 day, 02:03:04"``, Maccor's ``"0d 00:01:0.88"``); unparseable text is an error."""
    import pandas as pd

    series = pd.Series(values)
    if series.dtype.kind in "iuf":
        return series.to_numpy(np.float64)
    text = series.astype("string").str.strip()
    plain = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
    parts = text.str.extract(_DURATION)
    days = pd.to_numeric(parts["days"]).fillna(0).to_numpy(np.float64)
    clock = (pd.to_numeric(parts["h"]).to_numpy(np.float64) * 3600.0
             + pd.to_numeric(parts["m"]).to_numpy(np.float64) * 60.0
             + pd.to_numeric(parts["s"]).to_numpy(np.float64))
    out = np.where(np.isfinite(plain), plain, days * 86400.0 + clock)
    bad = ~np.isfinite(out)
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise FormatError(f"column {name!r} holds {series.iloc[row]!r}, not a duration "
                          f"(seconds, H:MM:SS or 'N day(s), H:MM:SS')", path=path,
                          line=row + header_lines + 1)
    return out


def cycle_numbers(values: np.ndarray, *, name: str, path: str | os.PathLike) -> np.ndarray:
    """Cycle numbers as int64: whole numbers from 0 to :data:`MAX_CYCLE`.

    Raises
    ------
    FormatError
        A missing, fractional, negative or huge cycle number, naming its data row.
    """
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        values = values.astype(np.float64)
        missing = np.flatnonzero(~np.isfinite(values))
        if missing.size:
            row = int(missing[0])
            raise FormatError(f"column {name!r} holds no number at data row {row + 1}, "
                              "where a cycle number is needed", path=path)
    wrong = np.flatnonzero((values != np.round(values)) | (values < 0) | (values > MAX_CYCLE))
    if wrong.size:
        row = int(wrong[0])
        raise FormatError(f"cycle {values[row]:g} at data row {row + 1} (column {name!r}) is "
                          f"not a cycle number, a whole number from 0 to {MAX_CYCLE}",
                          path=path, hint=f"{wrong.size} such rows; check the column mapping "
                          "and the export")
    return values.astype(np.int64)


def record_table(columns: Mapping[str, np.ndarray], *, path: str | os.PathLike, fmt: str,
                 restarts_at_steps: bool, empty_ok: bool = False, **attrs: Any) -> Any:
    """The standard DataFrame from standard-named arrays, with its attrs set.

    ``empty_ok``: a file that legitimately holds no records (an EC-Lab WAIT technique);
    otherwise a table without records is an error.

    Raises
    ------
    FormatError
        No records (a header but no data rows), unless ``empty_ok``.
    """
    import pandas as pd

    unknown = set(columns) - set(STANDARD_COLUMNS)
    if unknown:  # a programming error of a reader, not of the file
        raise ValueError(f"not standard cycler columns: {sorted(unknown)}")
    n_rows = len(next(iter(columns.values()))) if columns else 0
    if n_rows == 0 and not empty_ok:
        raise FormatError("the cycler file has a header but no data rows", path=path,
                          hint="export the cycling data again (one row per record)")
    frame = pd.DataFrame({k: columns[k] for k in STANDARD_COLUMNS if k in columns})
    frame.attrs.update({"format": fmt, "path": str(Path(path)),
                        "capacity_restarts_at_steps": bool(restarts_at_steps), **attrs})
    return frame

"""ICP-AES tables: one row per sample, weight % per element.

Columns (case-insensitive): ``specimen`` or ``sample`` (name), ``cycles`` (integer), and
``<el>_wt_pct`` per element (e.g. ``li_wt_pct, ni_wt_pct``); other columns (such as the
paper's printed ratios) are kept. This is the layout of
``shared/reference/chae2021/table1_icp_aes.csv``.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import FormatError, MissingFileError

__all__ = ["read_icp_table", "wt_pct_columns"]

#: Largest ICP-AES table read (a few rows per sample; 16 MiB is far beyond any real one).
_MAX_BYTES = 16 << 20
_WT = re.compile(r"^([a-z]{1,2})_wt_pct$", re.IGNORECASE)


def wt_pct_columns(frame: Any) -> dict[str, str]:
    """``{element symbol: column}`` of the weight % columns of ``frame``."""
    out = {}
    for column in frame.columns:
        match = _WT.match(str(column).strip())
        if match:
            symbol = match[1].capitalize()
            out[symbol] = column
    return out


def read_icp_table(path: str | os.PathLike) -> Any:
    """Read an ICP-AES weight % table into a DataFrame with columns ``sample, cycles,
    <El>_wt_pct ...`` (element symbols capitalised)."""
    import io

    import pandas as pd

    from liprobe.io.validate import decode_text, require_input_file

    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: no such ICP-AES table")
    require_input_file(path, what="ICP-AES table")
    if path.stat().st_size > _MAX_BYTES:
        raise FormatError(f"{path.stat().st_size} bytes is too large for an ICP-AES table "
                          f"(at most {_MAX_BYTES})", path=path)
    text = decode_text(path.read_bytes(), path=path, what="ICP-AES table")
    if not text.strip():
        raise FormatError("empty ICP-AES table", path=path, line=1,
                          hint="give a header line (sample, cycles, li_wt_pct, ...) and one "
                          "row per sample")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise FormatError(f"not a delimited ICP-AES table ({exc})", path=path) from None
    if len(frame) == 0:
        raise FormatError("the ICP-AES table has a header but no rows", path=path, line=2,
                          hint="add one row per sample")
    lower = {str(c).strip().lower(): c for c in frame.columns}
    name_col = lower.get("specimen", lower.get("sample"))
    if name_col is None or "cycles" not in lower:
        raise FormatError("an ICP-AES table needs 'specimen' (or 'sample') and 'cycles' "
                          f"columns; found {', '.join(map(str, frame.columns))}", path=path)
    wt = wt_pct_columns(frame)
    if not wt:
        raise FormatError("no weight % columns (named like 'li_wt_pct')", path=path)
    out = pd.DataFrame({"sample": frame[name_col].astype(str),
                        "cycles": pd.to_numeric(frame[lower["cycles"]], errors="coerce")})
    for symbol, column in wt.items():
        out[f"{symbol}_wt_pct"] = pd.to_numeric(frame[column], errors="coerce")
    numeric = out.drop(columns="sample").to_numpy(np.float64)
    bad = np.argwhere(~np.isfinite(numeric))
    if bad.size:
        row = int(bad[0, 0])
        raise FormatError(f"non-numeric value in data row {row + 1}", path=path, line=row + 2)
    cycles = out["cycles"].to_numpy(np.float64)
    wrong = np.flatnonzero((cycles != np.round(cycles)) | (cycles < 0) | (cycles > 1e6))
    if wrong.size:
        row = int(wrong[0])
        raise FormatError(f"cycles {cycles[row]:g} in data row {row + 1} is not a whole "
                          "number of cycles from 0 to 1000000", path=path, line=row + 2)
    wt_values = out[[c for c in out.columns if c.endswith("_wt_pct")]].to_numpy(np.float64)
    wrong = np.argwhere((wt_values < 0) | (wt_values > 100))
    if wrong.size:
        row = int(wrong[0, 0])
        raise FormatError(f"a weight % in data row {row + 1} is outside 0-100", path=path,
                          line=row + 2)
    out["cycles"] = out["cycles"].astype(np.int64)
    return out

"""ICP-AES tables: one row per sample, weight % per element.

Columns (case-insensitive): ``specimen`` or ``sample`` (name), ``cycles`` (integer), and
``<el>_wt_pct`` per element (e.g. ``li_wt_pct, ni_wt_pct``); other columns (such as the
paper's printed ratios) are kept. This is the layout of
``shared/reference/chae2021/table1_icp_aes.csv``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import FormatError, MissingFileError

__all__ = ["read_icp_table", "wt_pct_columns"]

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
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such ICP-AES table")
    try:
        frame = pd.read_csv(path, sep=None, engine="python")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise FormatError(f"not a delimited ICP-AES table ({exc})", path=path) from None
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
    out["cycles"] = out["cycles"].astype(np.int64)
    return out

"""BioLogic EC-Lab files: binary ``.mpr`` and its text export ``.mpt``.

Read through yadg (https://github.com/dgbowl/yadg), which knows the current EC-Lab column
IDs (112, 115, 182, 185, 215 ... that galvani 0.5 rejects) and splits EC-Lab's combined
``control/V/mA`` column. Where yadg cannot parse a file's settings module (seen on an
MB file with an unusual 'Apply I/C' value) galvani reads its data module instead. Measured
on the 18 ``.mpr`` files of the liprobe corpus: yadg 17/18, galvani 15/18, both 18/18
(navani reads ``.mpr`` through galvani).

Capacity comes from EC-Lab's own charge columns: the increments ``dq`` (mAh), else the
half-cycle counter ``Q charge/discharge`` (mAh), else the differences of ``(Q-Qo)``:
positive increments are charge, negative discharge, summed per
cycle; impedance records (``freq`` > 0: PEIS/GEIS, including those inside a modulo-bat
sequence) are flagged and excluded. A GCPL ``.mpr`` stores no current column: the current
is then the charge increment over the record interval (``dq/dt``, which is how EC-Lab's
export computes ``<I>``). The cycle is EC-Lab's ``cycle number`` where recorded, else
``half cycle // 2`` (what EC-Lab's export writes), else 0 for a file without cycles (OCV,
LSV, WAIT).
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import numpy as np

from liprobe.errors import FormatError
from liprobe.io._cycler_table import cycle_numbers, cycler_input, record_table

__all__ = ["read_biologic", "read_biologic_mpt"]

_CHARGE_MAH = {"mA·h": 1.0, "mA.h": 1.0, "mAh": 1.0, "A·h": 1e3, "A.h": 1e3, "Ah": 1e3,
               "C": 1.0 / 3.6, "mC": 1.0 / 3600.0, "µA·h": 1e-3, "µA.h": 1e-3}
_CURRENT_MA = {"mA": 1.0, "A": 1e3, "µA": 1e-3, "uA": 1e-3, "nA": 1e-6}
_GALVANI_NAMES = {"Q charge/discharge": "Q charge or discharge", "ox/red": "ox or red",
                  "P": "Pwe"}


def _quiet(call, *args, **kwargs):
    loggers = [logging.getLogger(n) for n in ("yadg", "galvani", "dgbowl_schemas")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(*args, **kwargs)
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _from_yadg(tree: Any) -> dict[str, tuple[np.ndarray, str | None]]:
    ds = tree.to_dataset()
    return {str(k): (np.asarray(ds[k].values), ds[k].attrs.get("units"))
            for k in ds.data_vars if not str(k).endswith("_uncertainty")}


def _read_galvani(path) -> dict[str, tuple[np.ndarray, str | None]]:
    from galvani import BioLogic

    with open(path, "rb") as fh:
        mpr = BioLogic.MPRfile(fh)
    out = {}
    for name in mpr.data.dtype.names or ():
        base, _, unit = name.rpartition("/") if "/" in name else (name, "", "")
        out[_GALVANI_NAMES.get(base, base)] = (np.asarray(mpr.data[name]), unit or None)
    return out


def _convert(columns, name: str, table: dict[str, float], path) -> np.ndarray | None:
    if name not in columns:
        return None
    values, unit = columns[name]
    factor = table.get(str(unit)) if unit is not None else None
    if factor is None:
        raise FormatError(f"column {name!r} has unit {unit!r}, not one liprobe converts",
                          path=path, hint=f"known units: {', '.join(table)}")
    return values.astype(np.float64) * factor


def _charge_increments_mah(columns, path, n: int) -> np.ndarray | None:
    """Per-record charge increments in mAh (charge > 0) from EC-Lab's own columns."""
    if "dq" in columns:  # column 7: charge passed since the previous record
        return _convert(columns, "dq", _CHARGE_MAH, path)
    if "Q charge or discharge" in columns:
        # column 211: signed charge since the start of the half cycle. EC-Lab's export
        # writes it in mA.h (yadg 7 labels it C; the values are those of the .mpt in mA.h)
        q = columns["Q charge or discharge"][0].astype(np.float64)
        half = (columns["half cycle"][0] if "half cycle" in columns else np.zeros(n))
        inc = np.diff(q, prepend=0.0)
        new = np.r_[True, half[1:] != half[:-1]]
        inc[new] = q[new]
        return inc
    if "(Q-Qo)" in columns:  # charge since the start of the technique
        total = _convert(columns, "(Q-Qo)", _CHARGE_MAH, path)
        return np.diff(total, prepend=0.0)
    return None


def _standard(columns: dict[str, tuple[np.ndarray, str | None]], path, fmt: str,
              reader: str) -> Any:
    n = len(next(iter(columns.values()))[0]) if columns else 0
    if "time" not in columns:
        if n <= 1:  # a WAIT or empty technique: no records to analyse
            return record_table({"cycle": np.zeros(0, np.int64)}, path=path, fmt=fmt,
                                restarts_at_steps=False, reader=reader,
                                empty_ok=True)
        raise FormatError("the EC-Lab data has no time column", path=path)
    time_s = columns["time"][0].astype(np.float64)
    out: dict[str, np.ndarray] = {"time_s": time_s}
    if "cycle number" in columns:
        out["cycle"] = cycle_numbers(columns["cycle number"][0], name="cycle number",
                                     path=path)
        cycle_source = "cycle number"
    elif "half cycle" in columns:
        out["cycle"] = cycle_numbers(columns["half cycle"][0], name="half cycle",
                                     path=path) // 2
        cycle_source = "half cycle // 2"
    else:
        out["cycle"] = np.zeros(n, np.int64)
        cycle_source = "none (one cycle)"
    if "step time" in columns:
        out["step_time_s"] = columns["step time"][0].astype(np.float64)
    if "Ns" in columns:
        ns = columns["Ns"][0].astype(np.int64)
        half = (columns["half cycle"][0].astype(np.int64) if "half cycle" in columns
                else np.zeros(n, np.int64))
        change = np.ones(n, bool)
        change[1:] = (ns[1:] != ns[:-1]) | (half[1:] != half[:-1])
        out["step"] = np.cumsum(change) - 1
    for name in ("Ewe", "<Ewe>"):
        if name in columns:
            out["voltage_v"] = columns[name][0].astype(np.float64)
            break
    impedance = np.zeros(n, bool)
    if "freq" in columns:
        freq = columns["freq"][0].astype(np.float64)
        impedance = np.isfinite(freq) & (freq > 0)
    out["impedance"] = impedance

    dq = _charge_increments_mah(columns, path, n)
    current = None
    current_source = None
    for name in ("I", "<I>"):
        if name in columns:
            current = _convert(columns, name, _CURRENT_MA, path)
            current_source = name
            break
    if current is None and dq is not None:
        dt = np.diff(time_s, prepend=time_s[:1])
        with np.errstate(divide="ignore", invalid="ignore"):
            current = np.where(dt > 0, dq * 3600.0 / dt, 0.0)
        current_source = "dq/dt"
    if current is not None:
        out["current_ma"] = current
    if dq is not None:
        dq = np.where(impedance | ~np.isfinite(dq), 0.0, dq)
        for key, inc in (("charge_capacity_mah", np.clip(dq, 0.0, None)),
                         ("discharge_capacity_mah", np.clip(-dq, 0.0, None))):
            running = np.cumsum(inc)
            starts = np.flatnonzero(np.r_[True, out["cycle"][1:] != out["cycle"][:-1]])
            offset = np.repeat(running[starts] - inc[starts], np.diff(np.r_[starts, n]))
            out[key] = running - offset
    return record_table(out, path=path, fmt=fmt, restarts_at_steps=False, reader=reader,
                        cycle_source=cycle_source, current_source=current_source)


def read_biologic(path: str | os.PathLike, **_: Any) -> Any:
    """Read a BioLogic EC-Lab ``.mpr`` file (yadg, galvani where yadg fails).

    Returns
    -------
    pandas.DataFrame
        The standard cycler records (:mod:`liprobe.io._cycler_table`); ``attrs`` name the
        library that read the file, where the cycle and the current came from.
    """
    from pathlib import Path

    p = cycler_input(path, text=False)
    with open(p, "rb") as fh:
        if not fh.read(22) == b"BIO-LOGIC MODULAR FILE":
            raise FormatError("not an EC-Lab .mpr file (no 'BIO-LOGIC MODULAR FILE' magic)",
                              path=p)
    errors = []
    try:
        from yadg.extractors.eclab import mpr

        return _standard(_from_yadg(_quiet(mpr.extract, Path(p), timezone="UTC")), p,
                         "biologic", "yadg")
    except FormatError:
        raise
    except Exception as exc:  # yadg raises assertions and anything else on odd bytes
        errors.append(f"yadg: {type(exc).__name__}: {exc}")
    try:
        return _standard(_quiet(_read_galvani, p), p, "biologic", "galvani")
    except FormatError:
        raise
    except Exception as exc:  # galvani's NotImplementedError on unknown column IDs ...
        errors.append(f"galvani: {type(exc).__name__}: {exc}")
    raise FormatError("not a readable EC-Lab .mpr file (" + "; ".join(errors) + ")", path=p,
                      hint="open it in EC-Lab and export it as text (.mpt), which liprobe "
                      "also reads")


def _mpt_locale(path, encoding: str) -> str:
    """``de_DE`` when the numbers use a decimal comma (EC-Lab on a European Windows)."""
    import re

    with open(path, encoding=encoding, errors="replace") as fh:
        lines = fh.read(1 << 16).splitlines()
    try:
        first = int(lines[1].split()[-1])
    except (IndexError, ValueError):
        return "en_US"
    sample = " ".join(lines[first:first + 3])
    return "de_DE" if re.search(r"\d,\d", sample) and not re.search(r"\d\.\d", sample) \
        else "en_US"


def read_biologic_mpt(path: str | os.PathLike, *, encoding: str = "windows-1252",
                      **_: Any) -> Any:
    """Read an EC-Lab text export ``.mpt`` (through yadg); same records as the ``.mpr``."""
    from pathlib import Path

    p = cycler_input(path, text=True)
    with open(p, "rb") as fh:
        if not fh.read(17) == b"EC-Lab ASCII FILE":
            raise FormatError("not an EC-Lab text export (no 'EC-Lab ASCII FILE' line)",
                              path=p, line=1)
    try:
        from yadg.extractors.eclab import mpt

        tree = _quiet(mpt.extract, Path(p), encoding=encoding, locale=_mpt_locale(p, encoding),
                      timezone="UTC")
    except Exception as exc:  # yadg raises assertions and anything else on odd text
        raise FormatError(f"not a readable EC-Lab .mpt export ({type(exc).__name__}: {exc})",
                          path=p, hint="export again with EC-Lab's default text settings"
                          ) from None
    return _standard(_from_yadg(tree), p, "biologic_mpt", "yadg")

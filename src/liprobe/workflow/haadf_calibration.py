"""HAADF calibration tables (``liprobe-haadf-calibration/1``, JSON): read and write.

The file holds ``provenance`` (how the table was computed), ``columns`` and ``rows``;
see :class:`liprobe.stem.calibration.HaadfCalibration`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from liprobe.errors import FormatError, MissingFileError
from liprobe.io.atomic import atomic_path
from liprobe.stem.calibration import HaadfCalibration

__all__ = ["read_haadf_calibration", "write_haadf_calibration"]


def read_haadf_calibration(path: str | os.PathLike) -> HaadfCalibration:
    """Read a calibration table written by :func:`write_haadf_calibration`."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such calibration file; make one with "
                               "`liprobe haadf calibrate -o FILE`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not JSON: {exc}", path=path,
                          hint="a calibration is the JSON that `liprobe haadf calibrate` "
                               "writes") from None
    if not isinstance(data, dict) or "rows" not in data:
        raise FormatError("not a liprobe HAADF calibration (no 'rows')", path=path,
                          hint="make one with `liprobe haadf calibrate`")
    return HaadfCalibration.from_dict(data, source=str(path))


def write_haadf_calibration(path: str | os.PathLike, calibration: HaadfCalibration) -> Path:
    """Write ``calibration`` as JSON (atomically)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(calibration.to_dict(), indent=1, allow_nan=False) + "\n",
                       encoding="utf-8")
    return path

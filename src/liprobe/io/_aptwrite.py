"""Writing side of the APT format: section headers, bounding box, chunked data."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from liprobe.errors import ParameterError
from liprobe.io import _aptlayout as lay
from liprobe.io._binary import CHUNK_ROWS

__all__ = ["section_header", "bbox_of", "write_values", "field_layout"]


def section_header(name: str, dtype: np.dtype, k: int, unit: str, count: int,
                   bbox: np.ndarray | None = None) -> bytes:
    """The 148-byte header of a one-to-one fixed-size section (172 with a bounding box)."""
    raw = np.zeros(1, dtype=lay.SECTION_HEADER)
    raw["signature"] = b"SEC"
    raw["header_size"] = lay.SECTION_HEADER_BYTES if bbox is None else lay.POSITION_HEADER_BYTES
    raw["header_version"] = 2
    raw["name"] = lay.encode_wchar(name, 32)
    raw["section_version"] = 1
    raw["relationship"] = 1
    raw["record_type"] = 1
    raw["data_type"] = {"i": 1, "u": 2, "f": 3}[dtype.kind]
    raw["data_type_bits"] = dtype.itemsize * 8
    raw["record_bytes"] = dtype.itemsize * k
    raw["unit"] = lay.encode_wchar(unit, 16)
    raw["record_count"] = count
    raw["byte_count"] = count * dtype.itemsize * k
    out = raw.tobytes()
    if bbox is not None:
        out += np.asarray(bbox, dtype="<f4").tobytes()
    return out


def bbox_of(xyz: np.ndarray) -> np.ndarray:
    """xmin, xmax, ymin, ymax, zmin, zmax of the finite coordinates (0 where none)."""
    box = np.zeros(6, dtype=np.float32)
    for axis in range(3):
        lo, hi = np.float32(np.inf), np.float32(-np.inf)
        for start in range(0, xyz.shape[0], CHUNK_ROWS):
            col = np.asarray(xyz[start:start + CHUNK_ROWS, axis], dtype=np.float32)
            col = col[np.isfinite(col)]
            if col.size:
                lo, hi = min(lo, col.min()), max(hi, col.max())
        if lo <= hi:
            box[2 * axis], box[2 * axis + 1] = lo, hi
    return box


def write_values(fh, values: np.ndarray, dtype: np.dtype) -> None:
    """Write ``values`` converted to ``dtype`` in chunks of rows (bounded memory)."""
    for start in range(0, values.shape[0], CHUNK_ROWS):
        fh.write(np.ascontiguousarray(values[start:start + CHUNK_ROWS], dtype=dtype).tobytes())


def field_layout(name: str, values: np.ndarray,
                 known: Mapping[str, tuple[str, str]]) -> tuple[str, np.dtype, int, str]:
    """Section name, little-endian dtype, values per record and unit for a field."""
    section, unit = known.get(name, (name, ""))
    if len(section) > 31:
        raise ParameterError(f"cannot write field {name!r} to APT: section names hold at most "
                             "31 characters; rename the field")
    if values.dtype.kind == "b":
        dtype = np.dtype("<u1")
    elif values.dtype.kind in "iuf" and values.dtype.itemsize in (1, 2, 4, 8):
        dtype = values.dtype.newbyteorder("<")
    else:
        raise ParameterError(f"cannot write field {name!r} of dtype {values.dtype} to APT; "
                             "convert it to an integer or float array")
    if values.ndim not in (1, 2):
        raise ParameterError(f"cannot write field {name!r} of shape {values.shape} to APT")
    return section, dtype, 1 if values.ndim == 1 else values.shape[1], unit

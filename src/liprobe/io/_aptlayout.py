"""Byte layout of the AP Suite 6 / IVAS 4 ``.apt`` exchange format (little-endian).

File header (540 B): ``"APT\\0"``, int32 header size (540), int32 header version (2),
wchar_t[256] UTF-16LE original file name, uint64 creation time (Windows FILETIME),
uint64 ion count. Section header (148 B, 172 B for ``Position``): ``"SEC\\0"``, int32
header size, int32 header version, wchar_t[32] name, int32 section version, uint32
relationship, uint32 record type, uint32 data type, int32 data-type size (bits), int32
record size (bytes), wchar_t[16] unit, int64 record count, int64 byte count; ``Position``
then has float32 xmin, xmax, ymin, ymax, zmin, zmax.

Reference: CAMECA, *AP Suite 6 APT file format*; the public description used by
``apav`` and ``ifes_apt_tc_data_modeling``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FILE_HEADER", "SECTION_HEADER", "BBOX", "FILE_HEADER_BYTES", "SECTION_HEADER_BYTES",
    "POSITION_HEADER_BYTES", "RELATIONSHIPS", "RECORD_TYPES", "DATA_TYPES", "numpy_dtype",
    "encode_wchar", "decode_wchar",
]

FILE_HEADER = np.dtype([
    ("signature", "S4"), ("header_size", "<i4"), ("header_version", "<i4"),
    ("filename", "<u2", (256,)), ("creation_time", "<u8"), ("ion_count", "<u8"),
])
SECTION_HEADER = np.dtype([
    ("signature", "S4"), ("header_size", "<i4"), ("header_version", "<i4"),
    ("name", "<u2", (32,)), ("section_version", "<i4"), ("relationship", "<u4"),
    ("record_type", "<u4"), ("data_type", "<u4"), ("data_type_bits", "<i4"),
    ("record_bytes", "<i4"), ("unit", "<u2", (16,)), ("record_count", "<i8"),
    ("byte_count", "<i8"),
])
BBOX = np.dtype(("<f4", (6,)))
FILE_HEADER_BYTES = FILE_HEADER.itemsize
SECTION_HEADER_BYTES = SECTION_HEADER.itemsize
POSITION_HEADER_BYTES = SECTION_HEADER_BYTES + BBOX.itemsize

RELATIONSHIPS = {0: "unknown", 1: "one-to-one", 2: "indexed", 3: "unrelated",
                 4: "one-to-many"}
RECORD_TYPES = {0: "unknown", 1: "fixed size", 2: "variable size", 3: "variable indexed"}
DATA_TYPES = {0: "unknown", 1: "int", 2: "uint", 3: "float", 4: "char string", 5: "other"}

_KINDS = {1: "i", 2: "u", 3: "f"}


def numpy_dtype(data_type: int, bits: int) -> np.dtype | None:
    """The little-endian numpy dtype of an APT data type, or None when numpy has none."""
    kind = _KINDS.get(data_type)
    if kind is None or bits not in (8, 16, 32, 64) or (kind == "f" and bits < 16):
        return None
    return np.dtype(f"<{kind}{bits // 8}")


def encode_wchar(text: str, length: int) -> np.ndarray:
    """``text`` as a zero-padded UTF-16LE code-unit array of ``length`` (truncated)."""
    units = np.frombuffer(text.encode("utf-16-le"), dtype="<u2")[: length - 1]
    out = np.zeros(length, dtype="<u2")
    out[: units.size] = units
    return out


def decode_wchar(units: np.ndarray) -> str:
    """A zero-terminated UTF-16LE code-unit array as text (undecodable units replaced)."""
    units = np.asarray(units, dtype="<u2")
    end = np.flatnonzero(units == 0)
    units = units[: end[0]] if end.size else units
    return units.tobytes().decode("utf-16-le", errors="replace")

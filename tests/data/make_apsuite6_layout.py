"""Write ``apsuite6_layout.apt``: four ions in the section layout of a real AP Suite 6 export.

The real export (APAV's ``Si.apt``, GPL, not in this repository) has, in this order, the
sections ``tofc, Mass, XDet_mm, YDet_mm, Multiplicity, Detector Coordinates, Position``:
148-byte section headers (172 for ``Position``, which carries its bounding box), header and
section version 2 / 1, one-to-one fixed-size records, float32 except the int32
``Multiplicity``, and ``Detector Coordinates`` repeating ``XDet_mm``/``YDet_mm`` as one
8-byte record. This script reproduces those header bytes exactly (only counts, byte counts,
the bounding box, the file name and the creation time differ); ``tests/corpus`` checks that
against the real file where it is present. The values are made up. Run from the repository
root: ``python tests/data/make_apsuite6_layout.py``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N = 4
TOFC = np.array([412.5, 388.25, 601.0, 295.75], "<f4")
MASS = np.array([28.0, 14.0, 52.0, 16.0], "<f4")
XDET = np.array([-12.5, 3.25, 20.0, 0.5], "<f4")
YDET = np.array([7.75, -18.0, 1.5, 22.25], "<f4")
MULTIPLICITY = np.array([1, 2, 0, 1], "<i4")
XYZ = np.array([[-1.0, 2.0, -3.5], [4.5, -0.25, -10.0], [0.0, 1.5, -0.5], [2.0, 2.0, -7.0]],
               "<f4")
#: name, data type (1 int, 3 float), values per record, unit, payload
SECTIONS = (
    ("tofc", 3, 1, "ns", TOFC),
    ("Mass", 3, 1, "Da", MASS),
    ("XDet_mm", 3, 1, "mm", XDET),
    ("YDet_mm", 3, 1, "mm", YDET),
    ("Multiplicity", 1, 1, "", MULTIPLICITY),
    ("Detector Coordinates", 3, 2, "mm", np.stack([XDET, YDET], axis=1)),
    ("Position", 3, 3, "nm", XYZ),
)


def wchar(text: str, n: int) -> bytes:
    return text.encode("utf-16-le").ljust(2 * n, b"\0")


def file_header(n_ions: int, name: str = "apsuite6_layout.apt") -> bytes:
    # creation time: a fixed Windows FILETIME (2021-06-01 00:00 UTC)
    return (b"APT\0" + struct.pack("<ii", 540, 2) + wchar(name, 256)
            + struct.pack("<QQ", 132_669_216_000_000_000, n_ions))


def section_header(name: str, data_type: int, k: int, unit: str, count: int,
                   bbox: tuple[float, ...] | None = None) -> bytes:
    out = b"SEC\0" + struct.pack("<ii", 148 if bbox is None else 172, 2) + wchar(name, 32)
    out += struct.pack("<iIIIii", 1, 1, 1, data_type, 32, 4 * k) + wchar(unit, 16)
    out += struct.pack("<qq", count, count * 4 * k)
    if bbox is not None:
        out += struct.pack("<6f", *bbox)
    return out


def layout_bytes() -> bytes:
    out = file_header(N)
    for name, data_type, k, unit, values in SECTIONS:
        bbox = None
        if name == "Position":
            bbox = tuple(v for axis in range(3)
                         for v in (XYZ[:, axis].min(), XYZ[:, axis].max()))
        out += section_header(name, data_type, k, unit, N, bbox) + values.tobytes()
    return out


if __name__ == "__main__":
    (HERE / "apsuite6_layout.apt").write_bytes(layout_bytes())

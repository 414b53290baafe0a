"""GPM Rouen ``.ato`` point clouds (versions 3 and 5), read only.

No real ``.ato`` file was available to this project: the layout below is the published
description (Rouen group; Zenodo record 8382828 describing v3-v5; CAMECA's ROOT-based
FileConvert knows v3 "LAWATAP" and v5 "current GPM") as implemented and checked against
CAMECA conversions by ``ifes_apt_tc_data_modeling`` (M. Kühbach). Both versions are
little-endian.

* Header: two uint32; the second is the version (3, 4 or 5). Version 4 is described but
  no example is known; it is rejected.
* **v3**: the 8-byte header, then 14 float32 per ion. Columns 1-4 are x, y, z in Å and m/q
  in Da; x, y, z are converted to nm. The meaning of columns 5-14 is not stated
  consistently by the sources, so they are not read.
* **v5**: a 5000-byte header, then 40-byte records: int16 x and y in units of 0.01 nm
  (bytes 0-3), float32 z in Å (bytes 4-7), float32 m/q in Da (bytes 8-11). The other 28
  bytes are not read (no source states them consistently).

The file must be an exact number of records (the ion count is not stored).
"""

from __future__ import annotations

import os

import numpy as np

from liprobe.data import IonTable
from liprobe.errors import FormatError
from liprobe.io._binary import existing_file, file_size, map_records

__all__ = ["read_ato", "ATO_V3_HEADER_BYTES", "ATO_V5_HEADER_BYTES"]

ATO_V3_HEADER_BYTES = 8
ATO_V3_COLUMNS = 14  # float32 per ion
ATO_V5_HEADER_BYTES = 5000
ATO_V5_RECORD = np.dtype([("x", "<i2"), ("y", "<i2"), ("z", "<f4"), ("mass", "<f4"),
                          ("rest", "V28")])
_ANGSTROM_TO_NM = np.float32(0.1)
_V5_XY_TO_NM = np.float32(0.01)


def read_ato(path: str | os.PathLike, *, mmap: bool = True) -> IonTable:
    """Read a GPM Rouen ``.ato`` file (v3 or v5; see the module notes for the layout).

    Parameters
    ----------
    path : path-like
        The ``.ato`` file.
    mmap : bool, keyword-only
        Memory-map the records (default) instead of reading them.

    Returns
    -------
    IonTable
        Positions in nm (float32) and m/q in Da; no other field.

    Raises
    ------
    FormatError
        A version other than 3 or 5, or a size that is not the header plus whole records.
    """
    path = existing_file(path)
    size = file_size(path)
    if size < 8:
        raise FormatError(f"{size} bytes cannot hold the 8-byte ATO header", path=path,
                          offset=0, hint="the file is truncated or not an ATO file")
    with open(path, "rb") as fh:
        version = int(np.frombuffer(fh.read(8), "<u4")[1])
    if version == 3:
        header, record, tail = ATO_V3_HEADER_BYTES, np.dtype("<f4"), (ATO_V3_COLUMNS,)
    elif version == 5:
        header, record, tail = ATO_V5_HEADER_BYTES, ATO_V5_RECORD, ()
    else:
        raise FormatError(f"ATO version {version} is not supported", path=path, offset=4,
                          hint="liprobe reads ATO versions 3 and 5"
                          + (" (no version 4 file is known to check a reader against)"
                             if version == 4 else ""))
    body, record_bytes = size - header, record.itemsize * (tail[0] if tail else 1)
    if body < 0 or body % record_bytes:
        raise FormatError(f"ATO v{version}: {max(body, 0)} bytes after the {header}-byte "
                          f"header are not whole {record_bytes}-byte records", path=path,
                          offset=header + max(body, 0) // record_bytes * record_bytes,
                          hint="the file is truncated or not an ATO file")
    n = body // record_bytes
    records = map_records(path, record, n, offset=header, shape_tail=tail, mmap=mmap)
    with np.errstate(over="ignore", invalid="ignore"):
        if version == 3:
            xyz = records[:, :3] * _ANGSTROM_TO_NM
            mass = np.ascontiguousarray(records[:, 3])
        else:
            xyz = np.empty((n, 3), np.float32)
            xyz[:, 0] = records["x"] * _V5_XY_TO_NM
            xyz[:, 1] = records["y"] * _V5_XY_TO_NM
            xyz[:, 2] = records["z"] * _ANGSTROM_TO_NM
            mass = records["mass"].astype(np.float32)
    return IonTable(xyz.astype(np.float32, copy=False), mass.astype(np.float32, copy=False))

"""POS point clouds: no header, per ion four big-endian float32 (x, y, z in nm, m/q in Da).

Reference: D. J. Larson et al., *Local Electrode Atom Probe Tomography*, Springer (2013),
appendix on file formats; the layout is the one written by IVAS and read by 3Depict.

A 0-byte file is a valid POS holding 0 ions (0 ions are exactly 0 bytes, so the format
cannot tell "empty" from "no ions"); writing and reading 0 ions therefore round-trips.
"""

from __future__ import annotations

import os

import numpy as np

from liprobe.data import IonTable
from liprobe.errors import FormatError
from liprobe.io._binary import existing_file, file_size, map_records, write_chunked

__all__ = ["read_pos", "write_pos", "POS_RECORD_BYTES"]

#: Bytes per ion in a POS file.
POS_RECORD_BYTES = 16
_EPOS_RECORD_BYTES = 44
_DTYPE = np.dtype(">f4")


def read_pos(path: str | os.PathLike, *, mmap: bool = True) -> IonTable:
    """Read a POS file.

    Parameters
    ----------
    path : path-like
        The ``.pos`` file.
    mmap : bool, keyword-only
        Memory-map the file read-only (default): no data are read until used and
        ``xyz_nm`` / ``mass_to_charge_da`` are views of the mapping (dtype ``>f4``).
        ``False`` reads everything into memory with one read.

    Returns
    -------
    IonTable
        ``xyz_nm`` is the ``[:, :3]`` view and ``mass_to_charge_da`` the ``[:, 3]`` view
        of one (N, 4) big-endian float32 array; no fields.

    Raises
    ------
    MissingFileError
        The file does not exist.
    FormatError
        The size is not a multiple of 16 bytes (the message suggests EPOS when the size
        is a multiple of 44).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from liprobe.data import IonTable
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.pos"
    >>> write_pos(path, IonTable(np.ones((2, 3), np.float32), np.array([7, 16], np.float32)))
    >>> read_pos(path).mass_to_charge_da.tolist()
    [7.0, 16.0]
    """
    path = existing_file(path)
    size = file_size(path)
    if size % POS_RECORD_BYTES:
        hint = "check that the file is complete"
        if size % _EPOS_RECORD_BYTES == 0:
            hint = ("the size is a multiple of 44 bytes: this may be an EPOS file; "
                    "read it with read_epos or rename it to .epos")
        raise FormatError(f"size {size} bytes is not a multiple of {POS_RECORD_BYTES} "
                          "(4 float32 per ion)", path=path, offset=size, hint=hint)
    records = map_records(path, _DTYPE, size // POS_RECORD_BYTES, shape_tail=(4,), mmap=mmap)
    return IonTable(records[:, :3], records[:, 3])


def write_pos(path: str | os.PathLike, ions: IonTable) -> None:
    """Write ``ions`` as POS (big-endian float32; fields are not stored).

    Values are converted to big-endian float32 by byte swapping only, so float32 input
    (including NaN payloads, infinities, subnormals and -0.0) is written bit for bit.
    Use :func:`liprobe.io.write_ions` for an atomic write.
    """
    xyz = ions.xyz_nm
    mass = ions.mass_to_charge_da

    def fill(buffer: np.ndarray, rows: slice) -> None:
        buffer[:, :3] = xyz[rows]
        buffer[:, 3] = mass[rows]

    # A (4,)-subarray dtype makes np.empty(n, dtype) an (n, 4) array.
    write_chunked(path, ions.n_ions, np.dtype((_DTYPE, (4,))), fill)

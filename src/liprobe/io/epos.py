"""EPOS point clouds: POS plus time of flight, voltages, detector position and multi-hits.

No header; per ion 44 bytes, all big-endian: float32 x, y, z [nm], m/q [Da], time of
flight [ns], DC voltage [kV], pulse voltage [kV], detector x, y [mm]; then int32 pulses
since the previous event and int32 ions per pulse (n on the first ion of an n-hit pulse,
0 on the n-1 ions that follow it).

Reference: D. J. Larson et al., *Local Electrode Atom Probe Tomography*, Springer (2013),
appendix A. Readers disagree on the unit of the pulse voltage; liprobe reads and writes
it as kV, like the DC voltage.

A 0-byte file is a valid EPOS holding 0 ions (see :mod:`liprobe.io.pos`).
"""

from __future__ import annotations

import os

import numpy as np

from liprobe.data import IonTable
from liprobe.errors import FormatError, ParameterError
from liprobe.io._binary import existing_file, file_size, map_records, write_chunked

__all__ = ["read_epos", "write_epos", "EPOS_DTYPE", "EPOS_FIELDS"]

#: The per-ion fields an EPOS file holds beyond positions and m/q, in file order.
EPOS_FIELDS: tuple[str, ...] = (
    "tof_ns", "dc_voltage_kv", "pulse_voltage_kv", "detector_x_mm", "detector_y_mm",
    "pulses_since_last", "ions_per_pulse",
)

#: One EPOS record (44 bytes, big-endian); field names follow ``liprobe.data.ION_FIELDS``.
EPOS_DTYPE = np.dtype(
    [("xyz_nm", ">f4", (3,)), ("mass_to_charge_da", ">f4")]
    + [(name, ">f4") for name in EPOS_FIELDS[:5]]
    + [(name, ">i4") for name in EPOS_FIELDS[5:]]
)


def read_epos(path: str | os.PathLike, *, mmap: bool = True) -> IonTable:
    """Read an EPOS file.

    Parameters
    ----------
    path : path-like
        The ``.epos`` file.
    mmap : bool, keyword-only
        Memory-map the file read-only as an array of :data:`EPOS_DTYPE` records (default);
        every column of the result is a view of the mapping. ``False`` reads it all.

    Returns
    -------
    IonTable
        Positions, m/q and the fields :data:`EPOS_FIELDS` (big-endian views, no copies).

    Raises
    ------
    MissingFileError
        The file does not exist.
    FormatError
        The size is not a multiple of 44 bytes (the message suggests POS when it is a
        multiple of 16).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from liprobe.data import IonTable
    >>> fields = {name: np.zeros(1, np.float32) for name in EPOS_FIELDS}
    >>> ions = IonTable(np.zeros((1, 3), np.float32), np.array([7], np.float32), fields)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "one.epos"
    >>> write_epos(path, ions)
    >>> sorted(read_epos(path).fields) == sorted(EPOS_FIELDS)
    True
    """
    path = existing_file(path)
    size = file_size(path)
    if size % EPOS_DTYPE.itemsize:
        hint = "check that the file is complete"
        if size % 16 == 0:
            hint = ("the size is a multiple of 16 bytes: this may be a POS file; "
                    "read it with read_pos or rename it to .pos")
        raise FormatError(f"size {size} bytes is not a multiple of {EPOS_DTYPE.itemsize} "
                          "(one EPOS record)", path=path, offset=size, hint=hint)
    records = map_records(path, EPOS_DTYPE, size // EPOS_DTYPE.itemsize, mmap=mmap)
    fields = {name: records[name] for name in EPOS_FIELDS}
    return IonTable(records["xyz_nm"], records["mass_to_charge_da"], fields)


def write_epos(path: str | os.PathLike, ions: IonTable, *, fill_missing: bool = False) -> None:
    """Write ``ions`` as EPOS.

    Parameters
    ----------
    path : path-like
        Output file (use :func:`liprobe.io.write_ions` for an atomic write).
    ions : IonTable
        Must carry every field of :data:`EPOS_FIELDS` unless ``fill_missing``.
    fill_missing : bool, keyword-only
        Write zeros for fields the table lacks instead of raising. Off by default so that
        a POS-derived table is never silently written as an EPOS full of zeros.

    Raises
    ------
    ParameterError
        Fields are missing (the message lists them) or a field is not one value per ion.

    Notes
    -----
    float32 columns are written bit for bit (byte swap only); other dtypes are
    converted by value to float32 / int32.
    """
    missing = [name for name in EPOS_FIELDS if name not in ions.fields]
    if missing and not fill_missing:
        raise ParameterError(
            "cannot write EPOS: the ion table lacks the field(s) " + ", ".join(missing)
            + "; pass fill_missing=True to write zeros for them, or write POS/APT instead"
        )
    for name in EPOS_FIELDS:
        if name in ions.fields and ions.fields[name].ndim != 1:
            raise ParameterError(f"cannot write EPOS: field {name!r} must be 1-D, got shape "
                                 f"{ions.fields[name].shape}")
    xyz = ions.xyz_nm
    mass = ions.mass_to_charge_da

    def fill(buffer: np.ndarray, rows: slice) -> None:
        buffer["xyz_nm"] = xyz[rows]
        buffer["mass_to_charge_da"] = mass[rows]
        for name in EPOS_FIELDS:
            if name in ions.fields:
                buffer[name] = ions.fields[name][rows]
            else:
                buffer[name] = 0

    write_chunked(path, ions.n_ions, EPOS_DTYPE, fill)

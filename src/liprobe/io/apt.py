"""AP Suite 6 / IVAS 4 ``.apt`` point clouds (little-endian, sectioned).

The layout is in :mod:`liprobe.io._aptlayout` and DOMAIN.md §1. Every one-to-one,
fixed-size section becomes a column of the :class:`~liprobe.data.IonTable`:

========================  ==============================================
section                   column
========================  ==============================================
``Mass``                  ``mass_to_charge_da``
``Position``              ``xyz_nm`` (its header carries the bounding box)
``tof``                   ``tof_ns``
``Voltage``               ``dc_voltage_kv`` (unit ``V`` converted to kV)
``Pulse Voltage``         ``pulse_voltage_kv`` (unit ``V`` converted to kV)
``XDet_mm`` / ``YDet_mm`` ``detector_x_mm`` / ``detector_y_mm``
``Detector Coordinates``  ``detector_x_mm`` and ``detector_y_mm``
``Multiplicity``          ``ions_per_pulse``
``Delta Pulse``           ``pulses_since_last``
anything else             a snake_case version of the section name
========================  ==============================================

Sections that are not one-to-one with fixed-size records are skipped with a
:class:`~liprobe.errors.LiprobeWarning`. Data are memory-mapped where possible.

Reference: CAMECA AP Suite 6 APT file format description, as implemented in ``apav``
(J. Smith) and ``ifes_apt_tc_data_modeling`` (M. Kühbach).
"""

from __future__ import annotations

import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liprobe.data import IonTable
from liprobe.errors import FormatError, LiprobeWarning
from liprobe.io import _aptlayout as lay
from liprobe.io._aptwrite import bbox_of, field_layout, section_header, write_values
from liprobe.io._binary import existing_file, file_size, map_records

__all__ = ["read_apt", "write_apt", "read_apt_header", "read_apt_sections", "AptHeader",
           "AptSection"]

_FIELD_OF_SECTION = {
    "tof": "tof_ns", "voltage": "dc_voltage_kv", "pulse voltage": "pulse_voltage_kv",
    "pulse": "pulse_voltage_kv", "pulse_voltage": "pulse_voltage_kv",
    "xdet_mm": "detector_x_mm", "ydet_mm": "detector_y_mm",
    "multiplicity": "ions_per_pulse", "delta pulse": "pulses_since_last",
}
_SECTION_OF_FIELD = {
    "tof_ns": ("tof", "ns"), "dc_voltage_kv": ("Voltage", "kV"),
    "pulse_voltage_kv": ("Pulse Voltage", "kV"), "detector_x_mm": ("XDet_mm", "mm"),
    "detector_y_mm": ("YDet_mm", "mm"), "ions_per_pulse": ("Multiplicity", ""),
    "pulses_since_last": ("Delta Pulse", ""),
}
_VOLTAGE_FIELDS = ("dc_voltage_kv", "pulse_voltage_kv")
_FILETIME_EPOCH_OFFSET_S = 11_644_473_600  # seconds from 1601-01-01 to 1970-01-01


@dataclass(frozen=True)
class AptHeader:
    """The 540-byte file header of an APT file.

    ``creation_time`` is the raw Windows FILETIME (100 ns ticks since 1601-01-01).
    """

    header_version: int
    original_name: str
    creation_time: int
    ion_count: int


@dataclass(frozen=True)
class AptSection:
    """One section of an APT file, as listed by :func:`read_apt_sections`.

    ``header_offset`` is the byte where the section header starts, ``data_offset`` the
    byte where its data start. ``bbox_nm`` is the (3, 2) [min, max] per axis of the
    ``Position`` header (None for other sections).
    """

    name: str
    header_offset: int
    data_offset: int
    header_size: int
    header_version: int
    section_version: int
    relationship: str
    record_type: str
    data_type: str
    data_type_bits: int
    record_bytes: int
    unit: str
    record_count: int
    byte_count: int
    bbox_nm: np.ndarray | None = None

    @property
    def readable(self) -> bool:
        """True for a one-to-one section of fixed-size numeric records (read as a column)."""
        return (self.relationship == "one-to-one" and self.record_type == "fixed size"
                and self.data_type in ("int", "uint", "float"))


def _read_exact(fh, offset: int, n_bytes: int, path: Path, what: str) -> bytes:
    fh.seek(offset)
    data = fh.read(n_bytes)
    if len(data) != n_bytes:
        raise FormatError(f"truncated {what}: needs {n_bytes} bytes, {len(data)} left",
                          path=path, offset=offset, hint="the file is incomplete")
    return data


def _parse_header(fh, path: Path, size: int) -> AptHeader:
    raw = np.frombuffer(_read_exact(fh, 0, lay.FILE_HEADER_BYTES, path, "APT file header"),
                        dtype=lay.FILE_HEADER)[0]
    if raw["signature"] != b"APT":
        raise FormatError(f"signature {bytes(raw['signature'])!r} is not 'APT\\0'", path=path,
                          offset=0, hint="this is not an AP Suite .apt file")
    if int(raw["header_size"]) != lay.FILE_HEADER_BYTES:
        raise FormatError(f"file header size {int(raw['header_size'])} is not "
                          f"{lay.FILE_HEADER_BYTES}", path=path, offset=4)
    if int(raw["header_version"]) != 2:
        raise FormatError(f"file header version {int(raw['header_version'])} is not 2",
                          path=path, offset=8, hint="only AP Suite 6 (version 2) is supported")
    ion_count = int(raw["ion_count"])
    if ion_count * 4 > size:
        raise FormatError(f"ion count {ion_count} cannot fit in a {size}-byte file",
                          path=path, offset=532)
    return AptHeader(2, lay.decode_wchar(raw["filename"]), int(raw["creation_time"]), ion_count)


def _parse_section(fh, path: Path, offset: int, size: int, ion_count: int) -> AptSection:
    head = _read_exact(fh, offset, lay.SECTION_HEADER_BYTES, path, "section header")
    raw = np.frombuffer(head, dtype=lay.SECTION_HEADER)[0]
    if raw["signature"] != b"SEC":
        raise FormatError(f"section signature {bytes(raw['signature'])!r} is not 'SEC\\0'",
                          path=path, offset=offset,
                          hint="the previous section's byte count may be wrong")
    name = lay.decode_wchar(raw["name"])
    header_size = int(raw["header_size"])
    # AP Suite writes 148-byte headers, 172 for Position (its bounding box); a longer header
    # is tolerated (its extra bytes are skipped), a shorter one cannot hold the fields.
    expected = lay.POSITION_HEADER_BYTES if name == "Position" else lay.SECTION_HEADER_BYTES
    if header_size < expected:
        raise FormatError(f"section {name!r} header size {header_size} is below the "
                          f"{expected} bytes its fields need", path=path, offset=offset + 4)
    if header_size > size - offset:
        raise FormatError(f"section {name!r} header size {header_size} exceeds the "
                          f"{size - offset} bytes left", path=path, offset=offset + 4,
                          hint="the file is truncated or the header is corrupt")
    bbox = None
    if name == "Position":
        extra = _read_exact(fh, offset + lay.SECTION_HEADER_BYTES, lay.BBOX.itemsize, path,
                            "Position bounding box")
        with np.errstate(invalid="ignore"):  # a signalling NaN is quietened, not an error
            bbox = np.frombuffer(extra, dtype="<f4").astype(np.float64).reshape(3, 2)
        bbox.flags.writeable = False
    codes = {"relationship": lay.RELATIONSHIPS, "record_type": lay.RECORD_TYPES,
             "data_type": lay.DATA_TYPES}
    labels = {}
    for key, table in codes.items():
        value = int(raw[key])
        if value not in table:
            raise FormatError(f"section {name!r} has unknown {key.replace('_', ' ')} code "
                              f"{value}", path=path,
                              offset=offset + lay.SECTION_HEADER.fields[key][1])
        labels[key] = table[value]
    bits, record_bytes = int(raw["data_type_bits"]), int(raw["record_bytes"])
    count, byte_count = int(raw["record_count"]), int(raw["byte_count"])
    where = lay.SECTION_HEADER.fields
    data_offset = offset + header_size
    if count < 0 or byte_count < 0:
        raise FormatError(f"section {name!r} has a negative record or byte count", path=path,
                          offset=offset + where["record_count"][1])
    if byte_count > size - data_offset:
        raise FormatError(f"section {name!r} byte count {byte_count} exceeds the "
                          f"{size - data_offset} bytes left", path=path,
                          offset=offset + where["byte_count"][1], hint="the file is truncated")
    section = AptSection(name, offset, data_offset, header_size, int(raw["header_version"]),
                         int(raw["section_version"]), labels["relationship"],
                         labels["record_type"], labels["data_type"], bits, record_bytes,
                         lay.decode_wchar(raw["unit"]), count, byte_count, bbox)
    if section.readable:
        dtype = lay.numpy_dtype(int(raw["data_type"]), bits)
        if dtype is None or record_bytes <= 0 or record_bytes % dtype.itemsize:
            raise FormatError(f"section {name!r}: record size {record_bytes} B does not hold "
                              f"whole {bits}-bit {labels['data_type']} values", path=path,
                              offset=offset + where["record_bytes"][1])
        if byte_count != count * record_bytes:
            raise FormatError(f"section {name!r}: byte count {byte_count} is not record count "
                              f"{count} x record size {record_bytes}", path=path,
                              offset=offset + where["byte_count"][1])
        if count != ion_count:
            raise FormatError(f"one-to-one section {name!r} has {count} records but the file "
                              f"header says {ion_count} ions", path=path,
                              offset=offset + where["record_count"][1])
    return section


def _scan(path: str | os.PathLike) -> tuple[Path, AptHeader, tuple[AptSection, ...]]:
    path = existing_file(path)
    size = file_size(path)
    if size == 0:
        raise FormatError("empty file", path=path, offset=0, hint="an APT file has a header")
    sections = []
    with open(path, "rb") as fh:
        header = _parse_header(fh, path, size)
        offset = lay.FILE_HEADER_BYTES
        while offset < size:
            section = _parse_section(fh, path, offset, size, header.ion_count)
            sections.append(section)
            offset = section.data_offset + section.byte_count
    return path, header, tuple(sections)


def read_apt_header(path: str | os.PathLike) -> AptHeader:
    """The file header of an APT file (validated together with every section header)."""
    return _scan(path)[1]


def read_apt_sections(path: str | os.PathLike) -> tuple[AptSection, ...]:
    """List the sections of an APT file with their offsets, counts and units.

    The ``Position`` section carries the bounding box (``bbox_nm``) stored in its header.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from liprobe.data import IonTable
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.apt"
    >>> write_apt(path, IonTable(np.eye(2, 3, dtype=np.float32), np.ones(2, np.float32)))
    >>> [s.name for s in read_apt_sections(path)]
    ['Mass', 'Position']
    """
    return _scan(path)[2]


def _snake_case(name: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text or text[0].isdigit():
        text = "section_" + text
    return text


def _columns_of(path: Path, section: AptSection, mmap: bool) -> list[tuple[str, np.ndarray]]:
    """The ion-table columns one readable section gives (name, values), units converted."""
    dtype = np.dtype(f"<{section.data_type[0]}{section.data_type_bits // 8}")
    k = section.record_bytes // dtype.itemsize
    data = map_records(path, dtype, section.record_count, offset=section.data_offset,
                       shape_tail=(k,) if k > 1 else (), mmap=mmap)
    key = section.name.lower()
    if key in ("mass", "position"):
        want = 1 if key == "mass" else 3
        if k != want or section.data_type != "float":
            raise FormatError(f"section {section.name!r} must hold {want} float value(s) "
                              f"per ion, found {k} {section.data_type}", path=path,
                              offset=section.header_offset)
        if dtype.itemsize != 4:
            with np.errstate(over="ignore", invalid="ignore"):
                data = data.astype(np.float32)
        return [("mass_to_charge_da" if key == "mass" else "xyz_nm", data)]
    if key == "detector coordinates" and k == 2:
        return [("detector_x_mm", data[:, 0]), ("detector_y_mm", data[:, 1])]
    name = _FIELD_OF_SECTION.get(key, _snake_case(section.name))
    if name in _VOLTAGE_FIELDS and section.unit.strip().lower() == "v":
        with np.errstate(invalid="ignore"):
            data = data * np.float32(1e-3)
    return [(name, data)]


def _check_redundant(path: Path, name: str, kept: np.ndarray, kept_section: str,
                     value: np.ndarray, section: AptSection) -> None:
    """Two sections giving one column (AP Suite writes ``XDet_mm`` and ``Detector
    Coordinates``) must agree value for value; otherwise the file contradicts itself."""
    same_shape = kept.shape == value.shape
    if same_shape and np.array_equal(kept, value, equal_nan=kept.dtype.kind == "f"
                                     and value.dtype.kind == "f"):
        return
    if same_shape:
        with np.errstate(invalid="ignore"):
            equal = kept == value
            if kept.dtype.kind == "f" and value.dtype.kind == "f":
                equal |= np.isnan(kept) & np.isnan(value)
        differ = np.flatnonzero(~equal)
        detail = f"first at ion {int(differ[0])}: {kept[differ[0]]!r} vs {value[differ[0]]!r}"
    else:
        detail = f"shapes {kept.shape} and {value.shape}"
    raise FormatError(f"sections {kept_section!r} and {section.name!r} both give {name!r} "
                      f"but disagree ({detail})", path=path, offset=section.header_offset,
                      hint="the file contradicts itself; re-export it from AP Suite")


def read_apt(path: str | os.PathLike, *, mmap: bool = True) -> IonTable:
    """Read an AP Suite 6 ``.apt`` file.

    Parameters
    ----------
    path : path-like
        The ``.apt`` file.
    mmap : bool, keyword-only
        Memory-map each section read-only (default) instead of reading it.

    Returns
    -------
    IonTable
        Positions, m/q and one field per other one-to-one fixed-size section (see the
        module table). Arrays are little-endian; a float64 ``Position``/``Mass`` is
        converted to float32.

    Raises
    ------
    FormatError
        Bad signature, header sizes, counts or byte counts (the message names the byte
        offset), a missing ``Mass`` or ``Position`` section, or two sections giving the
        same column with different values (AP Suite's redundant ``XDet_mm``/``YDet_mm``
        and ``Detector Coordinates`` are read once when they agree).

    Warns
    -----
    LiprobeWarning
        Once per kind of skipped section (not one-to-one, or not fixed-size numeric
        records), naming every section of that kind.
    """
    path, header, sections = _scan(path)
    columns: dict[str, np.ndarray] = {}
    source: dict[str, str] = {}
    skipped: dict[tuple[str, str, str], list[AptSection]] = {}
    for section in sections:
        if not section.readable:
            kind = (section.relationship, section.record_type, section.data_type)
            skipped.setdefault(kind, []).append(section)
            continue
        for name, value in _columns_of(path, section, mmap):
            if name not in columns:
                columns[name], source[name] = value, section.name
                continue
            _check_redundant(path, name, columns[name], source[name], value, section)
            if value.flags.c_contiguous and not columns[name].flags.c_contiguous:
                columns[name], source[name] = value, section.name
    for (relationship, record_type, data_type), group in skipped.items():
        names = ", ".join(f"{s.name!r} (byte {s.header_offset})" for s in group)
        warnings.warn(f"{path}: skipped {len(group)} APT section(s) that are {relationship}, "
                      f"{record_type}, {data_type} (liprobe reads one-to-one fixed-size "
                      f"numeric sections): {names}", LiprobeWarning, stacklevel=2)
    for required, section_name in (("mass_to_charge_da", "Mass"), ("xyz_nm", "Position")):
        if required not in columns:
            raise FormatError(f"no {section_name} section", path=path,
                              offset=lay.FILE_HEADER_BYTES,
                              hint="liprobe needs Mass and Position to build an ion table")
    xyz = columns.pop("xyz_nm")
    mass = columns.pop("mass_to_charge_da")
    return IonTable(xyz, mass, columns)


def write_apt(path: str | os.PathLike, ions: IonTable, *,
              creation_time_s: float | None = None) -> None:
    """Write ``ions`` as an AP Suite 6 ``.apt`` file (little-endian).

    Writes ``Mass`` (float32, Da), ``Position`` (float32, nm, with its bounding box of the
    finite coordinates), then one one-to-one section per field: the known fields under
    their AP Suite names (``tof``, ``Voltage`` in kV, ``Pulse Voltage`` in kV,
    ``XDet_mm``, ``YDet_mm``, ``Multiplicity``, ``Delta Pulse``), any other field under its
    own name in its own dtype. float32 data are written bit for bit. Use
    :func:`liprobe.io.write_ions` for an atomic write. ``creation_time_s`` (Unix seconds,
    default now) is the header's creation time: fix it for byte-identical files.
    """
    n = ions.n_ions
    layouts = [field_layout(name, values, _SECTION_OF_FIELD)
               for name, values in ions.fields.items()]
    header = np.zeros(1, dtype=lay.FILE_HEADER)
    header["signature"] = b"APT"
    header["header_size"] = lay.FILE_HEADER_BYTES
    header["header_version"] = 2
    name = Path(path).name
    atomic = re.fullmatch(r"\.(.+)\.[A-Za-z0-9_]+\.part", name)  # liprobe.io.atomic temp
    header["filename"] = lay.encode_wchar(atomic.group(1) if atomic else name, 256)
    when = time.time() if creation_time_s is None else float(creation_time_s)
    header["creation_time"] = int((when + _FILETIME_EPOCH_OFFSET_S) * 10_000_000)
    header["ion_count"] = n
    f4 = np.dtype("<f4")
    with open(path, "wb") as fh:
        fh.write(header.tobytes())
        fh.write(section_header("Mass", f4, 1, "Da", n))
        write_values(fh, ions.mass_to_charge_da, f4)
        fh.write(section_header("Position", f4, 3, "nm", n, bbox_of(ions.xyz_nm)))
        write_values(fh, ions.xyz_nm, f4)
        for (section, dtype, k, unit), values in zip(layouts, ions.fields.values()):
            fh.write(section_header(section, dtype, k, unit, n))
            write_values(fh, values, dtype)

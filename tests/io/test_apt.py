"""APT reader/writer. Truth: files assembled here with ``struct`` from the published
layout (DOMAIN.md §1), independently of liprobe's own writer."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from liprobe.data import IonTable
from liprobe.errors import FormatError, LiprobeWarning, MissingFileError
from liprobe.io.apt import read_apt, read_apt_header, read_apt_sections, write_apt
from tests.data.make_apsuite6_layout import MASS as LAYOUT_MASS
from tests.data.make_apsuite6_layout import MULTIPLICITY as LAYOUT_MULTIPLICITY
from tests.data.make_apsuite6_layout import XDET as LAYOUT_XDET
from tests.data.make_apsuite6_layout import XYZ as LAYOUT_XYZ
from tests.data.make_apsuite6_layout import YDET as LAYOUT_YDET
from tests.data.make_apsuite6_layout import layout_bytes


def _wchar(text: str, n: int) -> bytes:
    return text.encode("utf-16-le").ljust(2 * n, b"\0")


def file_header(n_ions: int, *, signature=b"APT\0", size=540, version=2) -> bytes:
    out = signature + struct.pack("<ii", size, version) + _wchar("run.apt", 256)
    return out + struct.pack("<QQ", 133_000_000_000_000_000, n_ions)


def section(name: str, payload: bytes, *, count: int, data_type=3, bits=32, record=4,
            unit="", relationship=1, record_type=1, bbox=None, byte_count=None) -> bytes:
    header_size = 148 if bbox is None else 172
    out = b"SEC\0" + struct.pack("<ii", header_size, 2) + _wchar(name, 32)
    out += struct.pack("<iIIIii", 1, relationship, record_type, data_type, bits, record)
    out += _wchar(unit, 16)
    out += struct.pack("<qq", count, len(payload) if byte_count is None else byte_count)
    if bbox is not None:
        out += struct.pack("<6f", *bbox)
    return out + payload


MASS = np.array([7.0, 16.0, 29.5], "<f4")
XYZ = np.array([[0, 1, 2], [3, 4, 5], [-6, 7.5, 8]], "<f4")
BBOX = (-6.0, 3.0, 1.0, 7.5, 2.0, 8.0)


def _basic(extra: bytes = b"") -> bytes:
    return (file_header(3) + section("Mass", MASS.tobytes(), count=3, unit="Da")
            + section("Position", XYZ.tobytes(), count=3, record=12, unit="nm", bbox=BBOX)
            + extra)


def test_read_apt_mass_and_position(tmp_path):
    path = tmp_path / "a.apt"
    path.write_bytes(_basic())
    ions = read_apt(path)
    np.testing.assert_array_equal(ions.mass_to_charge_da, MASS)
    np.testing.assert_array_equal(ions.xyz_nm, XYZ)
    assert dict(ions.fields) == {}


def test_known_sections_map_to_fields_with_units(tmp_path):
    tof = np.array([100.0, 200.0, 300.0], "<f4")
    volts = np.array([5000.0, 5500.0, 6000.0], "<f4")
    det = np.array([[1, -1], [2, -2], [3, -3]], "<f4")
    mult = np.array([2, 0, 1], "<u4")
    delta = np.array([0, 0, 17], "<u4")
    extra = (section("tof", tof.tobytes(), count=3, unit="ns")
             + section("Voltage", volts.tobytes(), count=3, unit="V")
             + section("Detector Coordinates", det.tobytes(), count=3, record=8, unit="mm")
             + section("Multiplicity", mult.tobytes(), count=3, data_type=2)
             + section("Delta Pulse", delta.tobytes(), count=3, data_type=2)
             + section("tofc", tof.tobytes(), count=3, unit="ns"))
    path = tmp_path / "b.apt"
    path.write_bytes(_basic(extra))
    fields = read_apt(path).fields
    np.testing.assert_array_equal(fields["tof_ns"], tof)
    np.testing.assert_allclose(fields["dc_voltage_kv"], [5.0, 5.5, 6.0], rtol=1e-6)
    np.testing.assert_array_equal(fields["detector_x_mm"], [1, 2, 3])
    np.testing.assert_array_equal(fields["detector_y_mm"], [-1, -2, -3])
    assert fields["ions_per_pulse"].tolist() == [2, 0, 1]
    assert fields["pulses_since_last"].tolist() == [0, 0, 17]
    np.testing.assert_array_equal(fields["tofc"], tof)


def test_other_sections_are_skipped_with_a_warning(tmp_path):
    blob = b"free text" * 3
    extra = (section("Notes", blob, count=1, data_type=4, bits=8, record=0, record_type=2,
                     relationship=3)
             + section("Mass", MASS.tobytes(), count=3, relationship=2))
    path = tmp_path / "c.apt"
    path.write_bytes(_basic(extra))
    with pytest.warns(LiprobeWarning) as record:
        ions = read_apt(path)
    assert len(record) == 2
    assert "Notes" in str(record[0].message)
    assert ions.n_ions == 3


def test_sections_list_offsets_and_bbox(tmp_path):
    path = tmp_path / "d.apt"
    path.write_bytes(_basic())
    mass, position = read_apt_sections(path)
    assert (mass.name, mass.header_offset, mass.data_offset) == ("Mass", 540, 540 + 148)
    assert position.header_offset == 540 + 148 + 12
    assert position.data_offset == position.header_offset + 172
    assert position.unit == "nm" and position.record_count == 3
    np.testing.assert_array_equal(position.bbox_nm, np.reshape(BBOX, (3, 2)))
    assert mass.bbox_nm is None
    header = read_apt_header(path)
    assert (header.ion_count, header.original_name) == (3, "run.apt")


def test_write_apt_bbox_is_the_finite_extent(tmp_path):
    xyz = np.array([[1, 5, -2], [np.nan, 9, 4], [3, np.inf, 0]], np.float32)
    path = tmp_path / "e.apt"
    write_apt(path, IonTable(xyz, np.ones(3, np.float32)))
    position = [s for s in read_apt_sections(path) if s.name == "Position"][0]
    np.testing.assert_array_equal(position.bbox_nm, [[1, 3], [5, 9], [-2, 4]])


def test_written_file_is_little_endian_apt_layout(tmp_path):
    ions = IonTable(XYZ, MASS, {"ions_per_pulse": np.array([1, 1, 1], np.int32)})
    path = tmp_path / "f.apt"
    write_apt(path, ions)
    data = path.read_bytes()
    assert data[:4] == b"APT\0"
    assert struct.unpack_from("<iiQ", data, 4)[:2] == (540, 2)
    assert struct.unpack_from("<Q", data, 532)[0] == 3
    assert data[540:544] == b"SEC\0"
    assert data[540 + 12:540 + 20] == _wchar("Mass", 4)
    assert np.frombuffer(data, "<f4", 3, 540 + 148).tolist() == MASS.tolist()
    names = [s.name for s in read_apt_sections(path)]
    assert names == ["Mass", "Position", "Multiplicity"]
    assert len(data) == 540 + 148 + 12 + 172 + 36 + 148 + 12


@pytest.mark.parametrize(
    ("blob", "offset", "message"),
    [
        (b"APX\0" + _basic()[4:], 0, "signature"),
        (file_header(3, size=500) + _basic()[540:], 4, "header size"),
        (file_header(3, version=3) + _basic()[540:], 8, "version"),
        (file_header(3) + b"SEX\0" + _basic()[544:], 540, "section signature"),
        (file_header(3) + section("Mass", MASS.tobytes(), count=3, byte_count=400), 540 + 140,
         "exceeds"),
        (file_header(3) + section("Mass", MASS[:2].tobytes(), count=2), 540 + 132, "header says"),
        (file_header(3) + section("Mass", MASS.tobytes(), count=3, record=6), 540 + 96,
         "record size"),
        (file_header(3) + section("Mass", MASS.tobytes() + bytes(4), count=3), 540 + 140,
         "byte count"),
        (file_header(3) + section("Mass", MASS.tobytes(), count=3, relationship=9), 540 + 80,
         "relationship"),
        (_basic()[:-5], 540 + 160 + 140, "exceeds"),
        (_basic()[:600], 540, "truncated section header"),
        (file_header(3) + section("Mass", MASS.tobytes(), count=3), 540, "no Position"),
    ],
)
def test_invalid_headers_name_the_byte_offset(tmp_path, blob, offset, message):
    path = tmp_path / "bad.apt"
    path.write_bytes(blob)
    with pytest.raises(FormatError, match=message) as info:
        read_apt(path)
    assert info.value.offset == offset


def test_empty_and_missing_apt(tmp_path):
    path = tmp_path / "empty.apt"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match="empty"):
        read_apt(path)
    with pytest.raises(MissingFileError):
        read_apt(tmp_path / "nope.apt")


def test_read_apt_memory_maps_sections(tmp_path):
    path = tmp_path / "m.apt"
    path.write_bytes(_basic())
    ions = read_apt(path)
    base = ions.mass_to_charge_da
    while base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap)
    assert read_apt(path, mmap=False).xyz_nm.tolist() == XYZ.tolist()


# --- AP Suite 6 export layout (tests/data/apsuite6_layout.apt, see its generator) ---------

LAYOUT = Path(__file__).resolve().parents[1] / "data" / "apsuite6_layout.apt"


def test_committed_layout_fixture_is_what_its_generator_writes():
    assert LAYOUT.read_bytes() == layout_bytes()


def test_apsuite_export_with_redundant_detector_sections_reads_one_field_each(recwarn):
    ions = read_apt(LAYOUT)
    assert not [w for w in recwarn if issubclass(w.category, LiprobeWarning)]
    np.testing.assert_array_equal(ions.mass_to_charge_da, LAYOUT_MASS)
    np.testing.assert_array_equal(ions.xyz_nm, LAYOUT_XYZ)
    assert sorted(ions.fields) == ["detector_x_mm", "detector_y_mm", "ions_per_pulse", "tofc"]
    np.testing.assert_array_equal(ions.fields["detector_x_mm"], LAYOUT_XDET)
    np.testing.assert_array_equal(ions.fields["detector_y_mm"], LAYOUT_YDET)
    np.testing.assert_array_equal(ions.fields["ions_per_pulse"], LAYOUT_MULTIPLICITY)
    sections = read_apt_sections(LAYOUT)
    assert [s.header_size for s in sections] == [148] * 6 + [172]


def test_redundant_sections_that_disagree_are_an_error_naming_both(tmp_path):
    blob = bytearray(layout_bytes())
    det = [s for s in read_apt_sections(LAYOUT) if s.name == "Detector Coordinates"][0]
    struct.pack_into("<f", blob, det.data_offset + 8 + 4, 99.0)  # ion 1, y
    path = tmp_path / "contradicts.apt"
    path.write_bytes(bytes(blob))
    with pytest.raises(FormatError, match="'YDet_mm' and 'Detector Coordinates'.*"
                                          "detector_y_mm.*ion 1") as info:
        read_apt(path)
    assert info.value.offset == det.header_offset


def test_a_section_header_longer_than_148_bytes_is_skipped_over(tmp_path):
    tof = np.array([1.0, 2.0, 3.0], "<f4")
    longer = bytearray(section("tof", tof.tobytes(), count=3, unit="ns"))
    struct.pack_into("<i", longer, 4, 148 + 24)
    longer[148:148] = bytes(range(24))  # 24 bytes of a future header extension
    path = tmp_path / "long.apt"
    path.write_bytes(_basic(bytes(longer)))
    np.testing.assert_array_equal(read_apt(path).fields["tof_ns"], tof)
    assert read_apt_sections(path)[-1].header_size == 172


@pytest.mark.parametrize(("name", "size"), [("tof", 140), ("Position", 148)])
def test_a_section_header_too_short_for_its_fields_is_rejected(tmp_path, name, size):
    blob = bytearray(section(name, XYZ.tobytes(), count=3, record=12))
    struct.pack_into("<i", blob, 4, size)
    path = tmp_path / "short.apt"
    path.write_bytes(file_header(3) + section("Mass", MASS.tobytes(), count=3) + bytes(blob))
    with pytest.raises(FormatError, match="header size") as info:
        read_apt(path)
    assert info.value.offset == 540 + 148 + 12 + 4


def test_skipped_sections_warn_once_per_kind_naming_each(tmp_path):
    notes = section("Notes", b"text", count=1, data_type=4, bits=8, record=0, record_type=2,
                    relationship=3)
    extra = (notes + section("Log", b"more", count=1, data_type=4, bits=8, record=0,
                             record_type=2, relationship=3)
             + section("Hits", MASS.tobytes(), count=3, relationship=2))
    path = tmp_path / "kinds.apt"
    path.write_bytes(_basic(extra))
    with pytest.warns(LiprobeWarning) as record:
        read_apt(path)
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert "2 APT section(s) that are unrelated" in messages[0]
    assert "'Notes'" in messages[0] and "'Log'" in messages[0]
    assert "'Hits'" in messages[1] and "indexed" in messages[1]

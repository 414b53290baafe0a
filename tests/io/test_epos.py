"""EPOS reader/writer: truth from struct-packed 44-byte records."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from liprobe.data import ION_FIELDS, IonTable
from liprobe.errors import FormatError, MissingFileError, ParameterError
from liprobe.io.epos import EPOS_FIELDS, read_epos, write_epos

RECORDS = [
    (1.0, 2.0, 3.0, 7.016, 512.5, 5.25, 1.125, -12.5, 20.0, 1, 2),
    (4.0, 5.0, 6.0, 15.99, 600.0, 5.5, 0.0, 3.25, -7.5, 0, 0),
]


def _packed() -> bytes:
    return b"".join(struct.pack(">9f2i", *rec) for rec in RECORDS)


def test_read_epos_fields_match_struct_layout(tmp_path):
    path = tmp_path / "two.epos"
    path.write_bytes(_packed())
    ions = read_epos(path)
    assert ions.n_ions == 2
    expected = np.array([rec[:9] for rec in RECORDS], dtype=np.float32)
    np.testing.assert_array_equal(ions.xyz_nm, expected[:, :3])
    np.testing.assert_array_equal(ions.mass_to_charge_da, expected[:, 3])
    for column, name in enumerate(EPOS_FIELDS[:5], start=4):
        np.testing.assert_array_equal(ions.fields[name], expected[:, column])
    assert ions.fields["pulses_since_last"].tolist() == [1, 0]
    assert ions.fields["ions_per_pulse"].tolist() == [2, 0]
    assert ions.fields["ions_per_pulse"].dtype == np.dtype(">i4")


def test_epos_field_names_are_the_data_model_names():
    assert set(EPOS_FIELDS) == set(ION_FIELDS)


def test_read_epos_columns_are_strided_views(tmp_path):
    path = tmp_path / "two.epos"
    path.write_bytes(_packed())
    ions = read_epos(path)
    assert ions.xyz_nm.strides == (44, 4)
    assert ions.fields["ions_per_pulse"].strides == (44,)


def test_write_epos_bytes_equal_struct_encoding(tmp_path):
    expected = np.array([rec[:9] for rec in RECORDS], dtype=np.float32)
    fields = {name: expected[:, i] for i, name in enumerate(EPOS_FIELDS[:5], start=4)}
    fields["pulses_since_last"] = np.array([1, 0], np.int32)
    fields["ions_per_pulse"] = np.array([2, 0], np.int32)
    path = tmp_path / "w.epos"
    write_epos(path, IonTable(expected[:, :3], expected[:, 3], fields))
    assert path.read_bytes() == _packed()


def test_write_epos_names_missing_fields(tmp_path):
    ions = IonTable(np.zeros((1, 3), np.float32), np.ones(1, np.float32),
                    {"tof_ns": np.ones(1, np.float32)})
    with pytest.raises(ParameterError, match="dc_voltage_kv.*ions_per_pulse.*fill_missing"):
        write_epos(tmp_path / "x.epos", ions)


def test_write_epos_fill_missing_writes_zeros(tmp_path):
    ions = IonTable(np.ones((2, 3), np.float32), np.full(2, 7.0, np.float32))
    path = tmp_path / "z.epos"
    write_epos(path, ions, fill_missing=True)
    assert path.read_bytes() == struct.pack(">9f2i", 1, 1, 1, 7, 0, 0, 0, 0, 0, 0, 0) * 2


def test_zero_byte_epos_is_zero_ions(tmp_path):
    path = tmp_path / "empty.epos"
    path.write_bytes(b"")
    ions = read_epos(path)
    assert ions.n_ions == 0
    assert set(ions.fields) == set(EPOS_FIELDS)


def test_epos_size_error_suggests_pos(tmp_path):
    path = tmp_path / "really.epos"
    path.write_bytes(bytes(32))
    with pytest.raises(FormatError, match="32 bytes.*POS"):
        read_epos(path)


def test_missing_epos_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_epos(tmp_path / "nope.epos")

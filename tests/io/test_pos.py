"""POS reader/writer: truth from struct-packed bytes (an independent encoder)."""

from __future__ import annotations

import mmap
import struct
import tracemalloc

import numpy as np
import pytest

from liprobe.data import IonTable
from liprobe.errors import FormatError, MissingFileError
from liprobe.io.pos import read_pos, write_pos


def _is_memory_mapped(array: np.ndarray) -> bool:
    base = array
    while base is not None:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return True
        base = getattr(base, "base", None)
    return False


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def test_read_pos_decodes_big_endian_records(tmp_path):
    rows = [(1.5, -2.25, 3.0, 7.016), (0.0, 1e-3, -40.5, 58.93)]
    path = tmp_path / "two.pos"
    path.write_bytes(b"".join(struct.pack(">4f", *row) for row in rows))
    ions = read_pos(path)
    expected = np.array(rows, dtype=np.float32)
    assert ions.n_ions == 2
    np.testing.assert_array_equal(ions.xyz_nm, expected[:, :3])
    np.testing.assert_array_equal(ions.mass_to_charge_da, expected[:, 3])
    assert ions.xyz_nm.dtype == np.dtype(">f4")
    assert ions.mass_to_charge_da.dtype == np.dtype(">f4")


def test_read_pos_is_a_memory_map_without_copies(tmp_path):
    path = tmp_path / "many.pos"
    values = np.arange(4000, dtype=">f4").reshape(-1, 4)
    values.tofile(path)
    ions = read_pos(path)
    assert _is_memory_mapped(ions.xyz_nm) and _is_memory_mapped(ions.mass_to_charge_da)
    # xyz and m/q are interleaved views of one buffer: m/q starts 12 bytes after x
    assert ions.xyz_nm.strides == (16, 4)
    assert ions.mass_to_charge_da.strides == (16,)
    assert _address(ions.mass_to_charge_da) == _address(ions.xyz_nm) + 12
    assert ions.mass_to_charge_da[-1] == 3999.0


def test_read_pos_allocates_almost_nothing(tmp_path):
    path = tmp_path / "big.pos"
    np.zeros((200_000, 4), dtype=">f4").tofile(path)  # 3.2 MB
    tracemalloc.start()
    try:
        ions = read_pos(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ions.n_ions == 200_000
    assert peak < 0.05 * path.stat().st_size


def test_read_pos_without_mmap_gives_same_values(tmp_path):
    path = tmp_path / "a.pos"
    path.write_bytes(struct.pack(">8f", 1, 2, 3, 4, 5, 6, 7, 8))
    ions = read_pos(path, mmap=False)
    assert ions.xyz_nm.tolist() == [[1, 2, 3], [5, 6, 7]]
    assert ions.mass_to_charge_da.tolist() == [4, 8]


def test_write_pos_matches_struct_encoding(tmp_path):
    xyz = np.array([[0.5, -1.0, 2.0]], np.float32)
    mass = np.array([16.0], np.float32)
    path = tmp_path / "w.pos"
    write_pos(path, IonTable(xyz, mass))
    assert path.read_bytes() == struct.pack(">4f", 0.5, -1.0, 2.0, 16.0)


def test_zero_byte_pos_is_zero_ions(tmp_path):
    path = tmp_path / "empty.pos"
    write_pos(path, IonTable(np.zeros((0, 3), np.float32), np.zeros(0, np.float32)))
    assert path.stat().st_size == 0
    ions = read_pos(path)
    assert ions.n_ions == 0
    assert ions.xyz_nm.shape == (0, 3)


def test_size_not_multiple_of_16_suggests_epos(tmp_path):
    path = tmp_path / "really.pos"
    path.write_bytes(bytes(44 * 3))  # 132 B: a 3-ion EPOS
    with pytest.raises(FormatError, match=r"132 bytes.*EPOS"):
        read_pos(path)


def test_size_not_multiple_of_16_without_epos_hint(tmp_path):
    path = tmp_path / "cut.pos"
    path.write_bytes(bytes(17))
    with pytest.raises(FormatError, match="17 bytes") as info:
        read_pos(path)
    assert "EPOS" not in str(info.value)
    assert info.value.offset == 17


def test_missing_pos_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_pos(tmp_path / "nope.pos")

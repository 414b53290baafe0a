"""GPM Rouen ATO reader. Truth: files assembled here with ``struct`` from the published
layout (module notes of liprobe.io.ato), independently of the reader."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from liprobe.errors import FormatError
from liprobe.io import detect_format, read_ions
from liprobe.io.ato import read_ato

XYZ_ANGSTROM = [(10.0, -25.0, 3.5), (0.0, 7.5, -120.0), (42.0, 1.0, 0.25)]
MASS = [7.016, 15.995, 58.93]


def _v3(rows=XYZ_ANGSTROM, masses=MASS) -> bytes:
    out = struct.pack("<II", 0, 3)
    for (x, y, z), m in zip(rows, masses):
        out += struct.pack("<14f", x, y, z, m, *range(10))
    return out


def _v5() -> bytes:
    out = struct.pack("<II", 0, 5).ljust(5000, b"\0")
    for (x, y, z), m in zip(XYZ_ANGSTROM, MASS):
        # x, y as int16 in 0.01 nm: 10 Å = 1 nm = 100
        out += struct.pack("<hhff", round(x * 10), round(y * 10), z, m) + bytes(28)
    return out


@pytest.mark.parametrize("blob", [_v3(), _v5()], ids=["v3", "v5"])
def test_ato_positions_in_nm_and_masses(tmp_path, blob):
    path = tmp_path / "run.ato"
    path.write_bytes(blob)
    ions = read_ions(path)
    assert detect_format(path).name == "ato"
    np.testing.assert_allclose(ions.xyz_nm, np.array(XYZ_ANGSTROM) / 10, rtol=1e-6)
    np.testing.assert_array_equal(ions.mass_to_charge_da, np.float32(MASS))
    assert ions.xyz_nm.dtype == np.float32 and dict(ions.fields) == {}
    assert read_ato(path, mmap=False).n_ions == 3


@pytest.mark.parametrize(("blob", "offset", "message"), [
    (_v3()[:-3], 8 + 2 * 56, "not whole 56-byte records"),
    (_v5()[:4999], 5000, "not whole 40-byte records"),
    (struct.pack("<II", 0, 4) + bytes(56), 4, "version 4"),
    (struct.pack("<II", 0, 7), 4, "version 7"),
    (b"\0\0\0", 0, "8-byte ATO header"),
])
def test_bad_ato_files_name_the_byte(tmp_path, blob, offset, message):
    path = tmp_path / "bad.ato"
    path.write_bytes(blob)
    with pytest.raises(FormatError, match=message) as info:
        read_ato(path)
    assert info.value.offset == offset

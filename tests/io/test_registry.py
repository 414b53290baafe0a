"""The registry entries of the APT formats: detection, dispatch, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.data import IonTable
from liprobe.errors import OverwriteError, UnknownFormatError
from liprobe.io import (
    FORMATS,
    detect_format,
    get_format,
    read_ions,
    read_ranges,
    write_ions,
    write_ranges,
)
from liprobe.io.rrng import read_rrng

MINE = ("pos", "epos", "apt", "rrng", "rng", "env")


def _ions(n: int = 5) -> IonTable:
    rng = np.random.default_rng(7)
    return IonTable(rng.normal(size=(n, 3)).astype(np.float32),
                    rng.uniform(1, 100, n).astype(np.float32))


@pytest.mark.parametrize("name", MINE)
def test_each_format_module_exposes_its_functions(name):
    fmt = get_format(name)
    assert fmt.reader().__name__ == f"read_{name}"
    if fmt.writable:
        assert fmt.writer().__name__ == f"write_{name}"


def test_writable_apt_formats():
    writable = {f.name for f in FORMATS if f.writable and f.name in MINE}
    assert writable == {"pos", "epos", "apt", "rrng"}


def test_apt_detected_by_magic_whatever_the_suffix(tmp_path):
    path = tmp_path / "run.apt"
    write_ions(path, _ions())
    renamed = tmp_path / "run.pos"
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed, kind="ions").name == "apt"
    np.testing.assert_array_equal(read_ions(renamed).mass_to_charge_da,
                                  _ions().mass_to_charge_da)


@pytest.mark.parametrize("suffix", [".pos", ".POS", ".epos", ".apt"])
def test_read_ions_dispatches_on_suffix(tmp_path, suffix):
    path = tmp_path / f"a{suffix}"
    ions = _ions()
    if suffix == ".epos":
        from liprobe.io.epos import write_epos

        write_epos(path, ions, fill_missing=True)
    else:
        write_ions(path, ions, format=suffix.lstrip(".").lower())
    np.testing.assert_array_equal(read_ions(path).xyz_nm, ions.xyz_nm)


def test_write_ions_is_atomic_and_refuses_to_overwrite_its_input(tmp_path):
    src = tmp_path / "in.pos"
    write_ions(src, _ions())
    before = src.read_bytes()
    with pytest.raises(OverwriteError):
        write_ions(src, _ions(3), inputs=(src,))
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.pos"]


def test_atomic_apt_write_records_the_final_name(tmp_path):
    from liprobe.io.apt import read_apt_header

    path = write_ions(tmp_path / "final.apt", _ions())
    assert read_apt_header(path).original_name == "final.apt"


def test_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.epos"
    with pytest.raises(Exception, match="fill_missing"):
        write_ions(target, _ions())
    assert list(tmp_path.iterdir()) == []


def test_ranges_round_trip_through_generic_functions(tmp_path):
    src = tmp_path / "in.rrng"
    src.write_text("[Ranges]\nRange1=6.9 7.1 Vol:0.02 Li:1 Color:FF0000\n")
    table = read_ranges(src)
    out = write_ranges(tmp_path / "out.rrng", table, inputs=(src,))
    assert read_rrng(out).ion_names == ("Li",)


def test_rng_and_env_are_read_only(tmp_path):
    with pytest.raises(UnknownFormatError, match="RNG"):
        get_format("rng").writer()
    with pytest.raises(UnknownFormatError, match="ENV"):
        get_format("env").writer()

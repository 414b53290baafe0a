"""Every reader, fed a hostile file: exit 2 (or the library's FormatError) naming the file
and what it is, before anything blocks or allocates; inputs never change."""

from __future__ import annotations

import os

import numpy as np
import pytest

from liprobe.errors import FormatError, MissingFileError
from tests.robustness._files import RRNG_TEXT, tree_hashes, write_ion_file, write_mini_study
from tests.robustness.conftest import assert_one_line_error, run_cli_subprocess


def test_a_fifo_as_an_ion_file_or_a_manifest_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.pos"
    os.mkfifo(fifo)
    result, _ = run_cli_subprocess("info", fifo, timeout_s=10)
    assert_one_line_error(result, fifo, "FIFO")
    manifest = tmp_path / "study.toml"
    os.mkfifo(manifest)
    result, _ = run_cli_subprocess("study", "check", manifest, timeout_s=10)
    assert_one_line_error(result, manifest, "FIFO")


def test_a_fifo_named_in_a_manifest_is_refused_by_study_check(cli, tmp_path):
    manifest = write_mini_study(tmp_path / "study")
    apt = tmp_path / "study" / "apt" / "s0_r1.pos"
    apt.unlink()
    os.mkfifo(apt)
    assert_one_line_error(cli("study", "check", manifest), "s0_r1.pos", "FIFO", "line")


@pytest.mark.parametrize("command", [("info",), ("ranges",), ("haadf", "analyze"),
                                     ("study", "check")])
def test_a_folder_as_any_input_is_named_as_a_folder(cli, tmp_path, command):
    assert_one_line_error(cli(*command, tmp_path), tmp_path, "folder")


def test_utf16_range_file_is_named_utf16(cli, tmp_path):
    ions = write_ion_file(tmp_path / "run.pos")
    rrng = tmp_path / "u16.rrng"
    rrng.write_bytes(RRNG_TEXT.encode("utf-16"))
    assert_one_line_error(cli("composition", ions, "-r", rrng), rrng, "UTF-16", "UTF-8")


def test_utf8_bom_range_file_is_read(cli, tmp_path):
    rrng = tmp_path / "bom.rrng"
    rrng.write_bytes(b"\xef\xbb\xbf" + RRNG_TEXT.encode())
    result = cli("ranges", rrng, "--json")
    assert result.code == 0 and '"n_ranges": 1' in result.out


def test_utf16_manifest_is_named_utf16(cli, tmp_path):
    manifest = write_mini_study(tmp_path / "study")
    manifest.write_bytes(manifest.read_text().encode("utf-16-le"))
    assert_one_line_error(cli("study", "check", manifest), manifest, "UTF-16")


def test_5000_deep_toml_is_one_line(cli, tmp_path):
    manifest = tmp_path / "deep.toml"
    manifest.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert_one_line_error(cli("study", "check", manifest), manifest, "nested too deeply")


def test_negative_and_huge_npy_shapes_are_format_errors(cli, tmp_path):
    good = tmp_path / "a.npy"
    np.save(good, np.zeros((4, 4), np.float32))
    for name, shape in (("neg.npy", b"(-4, 4)"), ("big.npy", b"(99999999, 99999)")):
        bad = tmp_path / name
        bad.write_bytes(good.read_bytes().replace(b"(4, 4)", shape))
        assert_one_line_error(cli("haadf", "analyze", bad, "--pixel-size-nm", "0.02"), bad)


def test_non_square_tiff_pixels_are_refused_unless_the_size_is_given(tmp_path):
    import tifffile

    from liprobe.io import read_image

    path = tmp_path / "rect.tif"
    tifffile.imwrite(path, np.zeros((32, 32), np.uint16), resolution=(5e7, 2.5e7),
                     resolutionunit="CENTIMETER")
    with pytest.raises(FormatError, match="non-square pixels"):
        read_image(path)
    assert read_image(path, pixel_size_nm=0.02).pixel_size_nm == 0.02


@pytest.mark.parametrize("text, match", [
    ("", "empty ICP-AES table"),
    ("sample,cycles,li_wt_pct\n", "header but no rows"),
    ("sample,cycles,li_wt_pct,ni_wt_pct\nA,2.5,6,44\n", "cycles 2.5 in data row 1"),
    ("sample,cycles,li_wt_pct,ni_wt_pct\nA,1e30,6,44\n", "cycles 1e\\+30 in data row 1"),
    ("sample,cycles,li_wt_pct,ni_wt_pct\nA,100,600,44\n", "outside 0-100"),
])
def test_bad_icp_tables_are_format_errors_naming_the_file(tmp_path, text, match):
    from liprobe.io.icp import read_icp_table

    path = tmp_path / "icp.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=match) as info:
        read_icp_table(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text, match", [
    ("", "empty cycler file"),
    ("   \n\n", "empty cycler file"),
    ("Cycle,Q\n", "header but no data rows"),
    ("Cycle,Q\n2.5,1.0\n", "cycle 2.5 at data row 1"),
    ("Cycle,Q\n1e30,1.0\n", "cycle 1e\\+30"),
])
def test_bad_cycler_csvs_are_format_errors_naming_the_file(tmp_path, text, match):
    from liprobe.io.cycler import read_cycling

    path = tmp_path / "cell.csv"
    path.write_text(text)
    with pytest.raises(FormatError, match=match) as info:
        read_cycling(path, format="csv", columns={"cycle": "Cycle",
                                                  "discharge_capacity_mah": "Q"})
    assert str(path) in str(info.value)


@pytest.mark.parametrize("fmt, suffix", [("csv", ".csv"), ("arbin", ".csv"),
                                         ("neware_csv", ".csv"), ("maccor", ".txt"),
                                         ("biologic_mpt", ".mpt"), ("biologic", ".mpr"),
                                         ("neware", ".nda"), ("arbin_res", ".res")])
def test_every_cycler_reader_names_an_empty_file(tmp_path, fmt, suffix):
    from liprobe.io.cycler import read_cycling

    path = tmp_path / f"cell{suffix}"
    path.write_bytes(b" \r\n\n")
    with pytest.raises(FormatError, match="empty cycler file") as info:
        read_cycling(path, format=fmt)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("fmt, suffix", [("csv", ".csv"), ("arbin", ".csv"),
                                         ("neware_csv", ".csv"), ("maccor", ".txt"),
                                         ("biologic_mpt", ".mpt")])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_every_cycler_text_reader_names_utf16_and_utf32(tmp_path, fmt, suffix, encoding):
    from liprobe.io.cycler import read_cycling

    path = tmp_path / f"cell{suffix}"
    path.write_bytes("Cycle_Index,Voltage,Test_Time\n1,3.7,0\n".encode(encoding))
    with pytest.raises(FormatError, match=encoding[:6].upper()) as info:
        read_cycling(path, format=fmt)
    assert str(path) in str(info.value) and "UTF-8" in str(info.value)


def test_utf8_bom_cycler_csv_is_read(tmp_path):
    from liprobe.io.cycler import read_cycling

    path = tmp_path / "cell.csv"
    path.write_bytes(b"\xef\xbb\xbfcycle,discharge_capacity_mah\n1,2.5\n2,2.4\n")
    frame = read_cycling(path)
    assert frame["cycle"].tolist() == [1, 2]
    assert frame["discharge_capacity_mah"].tolist() == [2.5, 2.4]


def test_missing_input_is_a_missing_file_error(tmp_path):
    from liprobe.io import read_ions

    with pytest.raises(MissingFileError, match="no such"):
        read_ions(tmp_path / "nope.pos")


def test_readers_never_change_their_inputs(cli, tmp_path):
    ions = write_ion_file(tmp_path / "run.pos")
    rrng = tmp_path / "r.rrng"
    rrng.write_text(RRNG_TEXT)
    before = tree_hashes(tmp_path)
    for args in (("info", ions), ("ranges", rrng), ("composition", ions, "-r", rrng),
                 ("qc", ions, "-r", rrng)):
        assert cli(*args).code in (0, 2)
    assert tree_hashes(tmp_path) == before


def test_warnings_are_aggregated_one_line_per_kind(capsys):
    import warnings

    from liprobe.cli import _print_warnings
    from liprobe.errors import LiprobeWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LiprobeWarning)
        for k in range(500):
            warnings.warn(f"x.apt: skipped APT section 'extra{k}' at byte {64 + 48 * k}",
                          LiprobeWarning, stacklevel=1)
        warnings.warn("x.apt: something else", LiprobeWarning, stacklevel=1)
    _print_warnings(caught)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["liprobe: warning: x.apt: skipped APT section 'extra0' at byte 64 "
                     "(and 499 more like it)", "liprobe: warning: x.apt: something else"]

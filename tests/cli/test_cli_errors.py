"""Errors at the command line: one stderr line naming the file, exit code 2, --traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from liprobe.cli import main

OVERLAPPING_RRNG = """\
[Ranges]
Number=2
Range1=15.8 16.2 O:1
Range2=15.9 16.1 O:2
"""
GOOD_RRNG = "[Ranges]\nNumber=1\nRange1=6.8 7.2 Li:1\n"


@pytest.fixture
def pos_file(tmp_path):
    path = tmp_path / "run.pos"
    records = np.zeros((4, 4), ">f4")
    records[:, 3] = [7.0, 16.0, 16.0, 50.0]
    path.write_bytes(records.tobytes())
    return path


def _one_line_error(capsys, argv, *must_contain):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("liprobe: error: ")
    for part in must_contain:
        assert part in err
    return err


def test_truncated_pos_names_the_file(tmp_path, capsys):
    bad = tmp_path / "broken.pos"
    bad.write_bytes(b"\0" * 17)  # not a multiple of 16 bytes
    _one_line_error(capsys, ["info", str(bad)], str(bad), "16")


def test_missing_file(tmp_path, capsys):
    _one_line_error(capsys, ["info", str(tmp_path / "nope.epos")], "nope.epos")


def test_unknown_suffix(tmp_path, capsys):
    odd = tmp_path / "data.xyz"
    odd.write_bytes(b"\0" * 32)
    _one_line_error(capsys, ["info", str(odd)], "data.xyz", ".pos")


def test_info_on_a_damaged_range_file_is_one_line(tmp_path, capsys):
    rrng = tmp_path / "r.rrng"
    rrng.write_text(GOOD_RRNG.replace("[Ranges]", "[Ranges"))
    _one_line_error(capsys, ["info", str(rrng)], "r.rrng", "no closing ']'")


def test_overlapping_ranges_name_file_ranges_and_option(tmp_path, pos_file, capsys):
    rrng = tmp_path / "overlap.rrng"
    rrng.write_text(OVERLAPPING_RRNG)
    _one_line_error(capsys, ["composition", str(pos_file), "--ranges", str(rrng)],
                    "overlap.rrng", "15.8-16.2", "15.9-16.1", "--overlap")
    # the resolving rules run: narrowest gives both 16.0 Da ions to O2 (2 x 2 O atoms)
    assert main(["composition", str(pos_file), "--ranges", str(rrng), "--overlap",
                 "narrowest", "--normalize-to", "O", "--overlap-correction", "none",
                 "--json"]) == 0
    import json

    payload = json.loads(capsys.readouterr().out)
    assert payload["ions"]["O2"]["count"] == 2 and payload["ions"]["O"]["count"] == 0
    assert payload["elements"]["O"]["atoms"] == 4
    assert main(["composition", str(pos_file), "--ranges", str(rrng), "--overlap",
                 "first", "--normalize-to", "O", "--overlap-correction", "none",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ions"]["O"]["count"] == 2 and payload["elements"]["O"]["atoms"] == 2


def test_bad_options(tmp_path, pos_file, capsys):
    rrng = tmp_path / "good.rrng"
    rrng.write_text(GOOD_RRNG)
    _one_line_error(capsys, ["composition", str(pos_file), "--ranges", str(rrng),
                             "--overlap", "last"], "narrowest")
    _one_line_error(capsys, ["composition", str(pos_file), "--ranges", str(rrng),
                             "--normalize-to", "Ni"], "good.rrng", "'Ni'")


def test_traceback_flag_shows_the_trace(tmp_path, capsys):
    bad = tmp_path / "broken.pos"
    bad.write_bytes(b"\0" * 17)
    assert main(["info", str(bad), "--traceback"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "FormatError" in err and err.rstrip().splitlines()[-1].startswith("liprobe: error:")


def test_console_exit_code_through_python_m(tmp_path):
    bad = tmp_path / "broken.epos"
    bad.write_bytes(b"\0" * 45)
    done = subprocess.run([sys.executable, "-m", "liprobe", "info", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "broken.epos" in done.stderr

"""HAADF calibration JSON: round trip and bad files."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.errors import FormatError, MissingFileError
from liprobe.stem.calibration import COLUMNS, HaadfCalibration
from liprobe.workflow.haadf_calibration import read_haadf_calibration, write_haadf_calibration


def test_round_trip(tmp_path):
    table = {c: np.array([1.0, 2.0]) for c in COLUMNS}
    table["thickness_nm"] = np.array([10.0, 20.0])
    cal = HaadfCalibration(table, {"code": "x", "abtem_version": "1.0"})
    path = write_haadf_calibration(tmp_path / "cal.json", cal)
    back = read_haadf_calibration(path)
    assert back.provenance == cal.provenance and back.source == str(path)
    for c in COLUMNS:
        assert np.array_equal(back.table[c], cal.table[c])


def test_bad_files(tmp_path):
    with pytest.raises(MissingFileError, match="haadf calibrate"):
        read_haadf_calibration(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FormatError):
        read_haadf_calibration(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(FormatError, match="rows"):
        read_haadf_calibration(tmp_path / "other.json")

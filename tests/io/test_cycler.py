"""Cycler entry point: column mapping and unit conversion, strict text, format detection,
and FormatError on garbage for every cycler reader."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.cell.cycling import discharge_capacity_from_records
from liprobe.errors import FormatError
from liprobe.io import detect_format
from liprobe.io.cycler import detect_cycling_format, read_cycling, read_cycling_csv
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "cycler"


def test_csv_with_column_mapping_converts_units(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("Cyc;Q_dis (Ah)\n1;0.0025\n2;0.0024\n")
    frame = read_cycling(path, columns={"cycle": "Cyc", "discharge_capacity_ah": "Q_dis (Ah)"})
    assert frame["cycle"].tolist() == [1, 2]
    np.testing.assert_allclose(frame["discharge_capacity_mah"], [2.5, 2.4])
    cycles, cap = discharge_capacity_from_records(frame)
    np.testing.assert_allclose(cap, [2.5, 2.4])


def test_csv_missing_column_names_the_file_and_column(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="'Cycle'.*cell.csv|cell.csv.*'Cycle'"):
        read_cycling_csv(path, columns={"cycle": "Cycle"})


def test_text_in_a_number_column_is_an_error_not_nan(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("cycle,discharge_capacity_mah\n1,2.5\n2,n/a mAh\n")
    with pytest.raises(FormatError, match="line 3.*'n/a mAh'|'n/a mAh'.*line 3"):
        read_cycling(path)


def test_fractional_cycle_is_an_error_not_an_integer(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("cycle,discharge_capacity_mah\n1,2.5\n1.5,2.4\n")
    with pytest.raises(FormatError, match="cycle number"):
        read_cycling(path)


def test_csv_dialects_are_told_apart_by_their_titles(tmp_path):
    assert detect_cycling_format(DATA / "FastCharge_000025_CH8.csv") == "arbin"
    neware = tmp_path / "btsda.csv"
    neware.write_text("DataPoint,Cycle Index,Step Index,Step Type,Time,Cumulative Time,"
                      "Current(A),Voltage(V),Chg. Cap.(Ah),DChg. Cap.(Ah)\n")
    assert detect_cycling_format(neware) == "neware_csv"
    generic = tmp_path / "g.csv"
    generic.write_text("cycle,discharge_capacity_mah\n1,2\n")
    assert detect_cycling_format(generic) == "cycling_csv"


def test_registry_detects_cycler_formats_by_magic(tmp_path):
    cases = {"x.mpr": (b"BIO-LOGIC MODULAR FILE\x1a", "biologic"),
             "x.mpt": (b"EC-Lab ASCII FILE\r\n", "biologic_mpt"),
             "x.041": (b"Today's Date 03/07/2018", "maccor"),
             "x.res": (b"\x00\x01\x00\x00Standard Jet DB\x00", "arbin_res")}
    for name, (head, fmt) in cases.items():
        (tmp_path / name).write_bytes(head + b"\0" * 40)
        assert detect_format(tmp_path / name, kind="cycling").name == fmt
    nda = tmp_path / "x.ndax"
    nda.write_bytes(b"PK")
    assert detect_format(nda, kind="cycling").name == "neware"


@pytest.mark.parametrize("fmt, suffix", [("biologic", ".mpr"), ("biologic_mpt", ".mpt"),
                                         ("neware", ".nda"), ("neware", ".ndax"),
                                         ("neware_csv", ".csv"), ("maccor", ".041"),
                                         ("arbin", ".csv"), ("arbin_res", ".res")])
def test_garbage_raises_format_error(tmp_path, fmt, suffix, rng):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    with pytest.raises(FormatError):
        read_cycling(path, format=fmt)

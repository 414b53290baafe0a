"""Cycler readers: column mapping and unit conversion, vendor readers through their
maintained libraries (record tables stubbed where no vendor file can be committed), and
FormatError on garbage."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.cell.cycling import discharge_capacity_from_records
from liprobe.errors import FormatError
from liprobe.io import detect_format
from liprobe.io.cycler import read_arbin, read_biologic, read_cycling, read_cycling_csv, read_neware


def test_csv_with_column_mapping_converts_units(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("Cyc;Q_dis (Ah)\n1;0.0025\n2;0.0024\n")
    frame = read_cycling(path, columns={"cycle": "Cyc", "discharge_capacity_ah": "Q_dis (Ah)"})
    assert frame["cycle"].tolist() == [1, 2]
    np.testing.assert_allclose(frame["discharge_capacity_mah"], [2.5, 2.4])


def test_csv_missing_column_names_the_file_and_column(tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="'Cycle'.*cell.csv|cell.csv.*'Cycle'"):
        read_cycling_csv(path, columns={"cycle": "Cycle"})


def test_arbin_export(tmp_path):
    path = tmp_path / "arbin.csv"
    path.write_text("Test_Time(s),Cycle_Index,Current(A),Voltage(V),Charge_Capacity(Ah),"
                    "Discharge_Capacity(Ah)\n0,1,0.001,3.7,0,0\n3600,1,-0.001,3.6,0.001,0.0009\n"
                    "7200,2,-0.001,3.5,0,0.0008\n")
    frame = read_arbin(path)
    cycles, cap = discharge_capacity_from_records(frame)
    assert cycles.tolist() == [1, 2]
    np.testing.assert_allclose(cap, [0.9, 0.8])
    np.testing.assert_allclose(frame["current_ma"], [1.0, -1.0, -1.0])


def test_biologic_records_through_galvani(tmp_path, monkeypatch):
    from galvani import BioLogic

    n = 7201
    data = np.zeros(n, dtype=[("time/s", "<f8"), ("I/mA", "<f4"), ("Ewe/V", "<f4"),
                              ("cycle number", "<f8")])
    data["time/s"] = np.arange(n)
    data["I/mA"] = np.where(np.arange(n) < 3600, 1.0, -0.5)  # discharge -0.5 mA for 1 h
    data["cycle number"] = 0

    class FakeMPR:
        def __init__(self, fh):
            self.data = data

    path = tmp_path / "cell.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a")
    monkeypatch.setattr(BioLogic, "MPRfile", FakeMPR)
    frame = read_biologic(path)
    cycles, cap = discharge_capacity_from_records(frame)
    assert cycles.tolist() == [0]
    assert cap[0] == pytest.approx(0.5, rel=1e-3)


def test_neware_records_through_newarenda(tmp_path, monkeypatch):
    import NewareNDA
    import pandas as pd

    frame = pd.DataFrame({"Cycle": [1, 1, 2], "Time": [0.0, 10.0, 20.0],
                          "Current(mA)": [-1.0, -1.0, -1.0], "Voltage": [3.9, 3.8, 3.7],
                          "Charge_Capacity(mAh)": [0.0, 0.0, 0.0],
                          "Discharge_Capacity(mAh)": [0.1, 1.7, 1.6]})
    monkeypatch.setattr(NewareNDA, "read", lambda *a, **k: frame)
    path = tmp_path / "cell.nda"
    path.write_bytes(b"NEWARE")
    cycles, cap = discharge_capacity_from_records(read_neware(path))
    assert cap.tolist() == [1.7, 1.6]


@pytest.mark.parametrize("suffix,reader", [(".mpr", read_biologic), (".nda", read_neware),
                                           (".ndax", read_neware)])
def test_vendor_garbage_raises_format_error(tmp_path, suffix, reader, rng):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    with pytest.raises(FormatError):
        reader(path)


def test_registry_detects_cycler_formats(tmp_path):
    mpr = tmp_path / "x.mpr"
    mpr.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a" + b"\0" * 10)
    assert detect_format(mpr, kind="cycling").name == "biologic"
    nda = tmp_path / "x.ndax"
    nda.write_bytes(b"PK")
    assert detect_format(nda, kind="cycling").name == "neware"

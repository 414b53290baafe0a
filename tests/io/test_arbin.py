"""Arbin CSV exports with and without unit suffixes, their metadata, and the .res reader's
dependency message."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from liprobe.cell.cycle_summary import summarize_cycles
from liprobe.errors import DependencyError
from liprobe.io.arbin import read_arbin, read_arbin_res
from liprobe.io.cycler import read_cycling
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "cycler"


def test_export_without_unit_suffixes_and_its_metadata():
    path = DATA / "FastCharge_000025_CH8.csv"
    records = read_cycling(path)
    raw = pd.read_csv(path)
    assert records.attrs["format"] == "arbin"
    assert len(records) == len(raw)
    np.testing.assert_allclose(records["voltage_v"], raw["Voltage"])
    np.testing.assert_allclose(records["current_ma"], raw["Current"] * 1e3)
    np.testing.assert_allclose(records["time_s"], raw["Test_Time"])
    assert records.attrs["metadata"]["test_id"] == "153"
    assert records.attrs["metadata"]["schedule_file_name"].endswith("4_4C.SDU")


def test_export_with_unit_suffixes(tmp_path):
    path = tmp_path / "arbin.csv"
    path.write_text("Test_Time(s),Cycle_Index,Step_Index,Current(A),Voltage(V),"
                    "Charge_Capacity(Ah),Discharge_Capacity(Ah)\n"
                    "0,1,1,0.001,3.7,0,0\n3600,1,1,0.001,4.1,0.001,0\n"
                    "3601,1,2,-0.001,3.9,0.001,0.0001\n7200,1,2,-0.001,3.6,0.001,0.0009\n"
                    "7201,2,1,0.001,3.7,0.0001,0\n")
    records = read_arbin(path)
    np.testing.assert_allclose(records["current_ma"], [1, 1, -1, -1, 1])
    summary = summarize_cycles(records)
    np.testing.assert_allclose(summary.discharge_capacity_mah, [0.9, 0.0], atol=1e-12)
    np.testing.assert_allclose(summary.charge_capacity_mah, [1.0, 0.1], atol=1e-12)


def test_res_without_access_parser_names_the_package(tmp_path, monkeypatch):
    path = tmp_path / "x.res"
    path.write_bytes(b"\x00\x01\x00\x00Standard Jet DB\x00" + b"\0" * 100)
    monkeypatch.setitem(sys.modules, "access_parser", None)
    with pytest.raises(DependencyError, match="pip install access-parser"):
        read_arbin_res(path)

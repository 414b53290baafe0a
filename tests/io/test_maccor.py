"""Maccor text exports: a real numbered raw export (.041, an EIS procedure) and the
C/D/R state layout of a cycling export."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.cell.cycle_summary import summarize_cycles
from liprobe.io.cycler import read_cycling
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "cycler"


def test_numbered_raw_export_reads_with_its_impedance_records():
    path = DATA / "maccor_test_file_4267-66-6519.041"
    records = read_cycling(path)
    text = path.read_text(encoding="latin-1").splitlines()
    states = [line.split("\t")[9] for line in text[2:] if line.strip()]
    assert records.attrs["format"] == "maccor"
    assert len(records) == len(states)
    assert int(records["impedance"].sum()) == states.count("FRA")
    assert records["time_s"].iloc[1] == pytest.approx(1.0)  # "  0d 00:00:01.0000"
    assert np.all(np.diff(records["time_s"]) >= 0)
    assert "Date of Test" in records.attrs["header"]


def test_state_gives_the_sign_and_steps_are_summed(tmp_path):
    head = ("Today's Date:\t14 December 2020\tDate of Test:\t11 December 2020\n"
            "Rec#\tCyc#\tStep\tTestTime\tStepTime\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\n")
    rows = ["1\t0\t1\t  0d 00:00:0\t  0d 00:00:0\t0\t0\t0\t3.4\tR",
            "2\t0\t2\t  0d 00:00:5\t  0d 00:00:0\t0.0010\t0.0042\t0.5\t4.0\tC",
            "3\t0\t3\t  0d 00:01:0.5\t  0d 00:00:0\t0.0005\t0.0021\t0.1\t4.2\tC",
            "4\t0\t4\t  1d 00:00:0\t  0d 00:00:0\t0.0020\t0.0070\t0.5\t3.5\tD"]
    path = tmp_path / "cell.txt"
    path.write_text(head + "\n".join(rows) + "\n")
    records = read_cycling(path)
    np.testing.assert_allclose(records["current_ma"], [0, 500, 100, -500])
    np.testing.assert_allclose(records["time_s"], [0, 5, 60.5, 86400])
    summary = summarize_cycles(records, restart_at_steps=True)
    assert summary.charge_capacity_mah[0] == pytest.approx(1.5)
    assert summary.discharge_capacity_mah[0] == pytest.approx(2.0)
    assert summary.discharge_energy_mwh[0] == pytest.approx(7.0)

"""Neware .nda/.ndax through NewareNDA against NewareNDA's own reference output (.ftr) of
the same files, and the BTSDA CSV layout (capacity restarting at each step, text times)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liprobe.cell.cycle_summary import summarize_cycles
from liprobe.errors import FormatError
from liprobe.io.cycler import read_cycling
from liprobe.io.neware import read_neware, read_neware_csv
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "cycler"
FILES = ["new_nda_file.nda", "TestFile.nda", "123456789012_Unit27_Example_Data_File.ndax"]


@pytest.mark.parametrize("name", FILES)
def test_records_equal_the_reference_output(name):
    records = read_neware(DATA / name)
    ref = pd.read_feather(DATA / (name.rsplit(".", 1)[0] + ".ftr"))
    assert len(records) == len(ref)
    np.testing.assert_array_equal(records["cycle"], ref["Cycle"])
    np.testing.assert_allclose(records["voltage_v"], ref["Voltage"], rtol=1e-7)
    np.testing.assert_allclose(records["current_ma"], ref["Current(mA)"], rtol=1e-7)
    np.testing.assert_allclose(records["step_time_s"], ref["Time"], rtol=1e-7)
    # test time: step times end to end; never decreasing, ends at the sum of step lengths
    assert np.all(np.diff(records["time_s"]) >= 0)
    total = ref.groupby("Step", sort=False)["Time"].last().sum()
    assert records["time_s"].iloc[-1] == pytest.approx(total, rel=1e-6)


@pytest.mark.parametrize("name", FILES)
def test_per_cycle_capacity_equals_the_reference_steps_summed(name):
    records = read_neware(DATA / name)
    ref = pd.read_feather(DATA / (name.rsplit(".", 1)[0] + ".ftr"))
    steps = ref.groupby(["Cycle", "Step"])[["Charge_Capacity(mAh)",
                                             "Discharge_Capacity(mAh)"]].max()
    truth = steps.groupby(level=0).sum()
    summary = summarize_cycles(records, restart_at_steps=records.attrs[
        "capacity_restarts_at_steps"])
    np.testing.assert_array_equal(summary.cycle, truth.index.to_numpy())
    np.testing.assert_allclose(summary.discharge_capacity_mah,
                               truth["Discharge_Capacity(mAh)"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(summary.charge_capacity_mah,
                               truth["Charge_Capacity(mAh)"], rtol=1e-6, atol=1e-9)
    energy = ref.groupby(["Cycle", "Step"])["Discharge_Energy(mWh)"].max().groupby(level=0).sum()
    np.testing.assert_allclose(summary.discharge_energy_mwh, energy, rtol=1e-6, atol=1e-9)


def _btsda(tmp_path, times=("00:00:00", "00:01:00", '"1 day, 02:03:04"')):
    header = ("DataPoint,Cycle Index,Step Index,Step Type,Time,Cumulative Time,Current(A),"
              "Voltage(V),Chg. Cap.(Ah),DChg. Cap.(Ah)\n")
    rows = [  # one cycle: discharge in two steps (1.0 + 0.5 mAh), then a charge of 1.2 mAh
        (1, 1, 1, "CC DChg", times[0], "00:00:00", -0.001, 3.8, 0, 0.0005),
        (2, 1, 1, "CC DChg", times[1], "00:01:00", -0.001, 3.7, 0, 0.0010),
        (3, 1, 2, "CC DChg", "00:00:30", "00:01:30", -0.0005, 3.6, 0, 0.0002),
        (4, 1, 2, "CC DChg", "00:01:00", "00:02:00", -0.0005, 3.5, 0, 0.0005),
        (5, 1, 3, "CC Chg", times[2], "26:03:04", 0.001, 4.1, 0.0012, 0),
    ]
    path = tmp_path / "btsda.csv"
    path.write_text(header + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_btsda_csv_sums_the_discharge_steps_and_parses_text_times(tmp_path):
    records = read_cycling(_btsda(tmp_path))
    assert records.attrs["format"] == "neware_csv"
    np.testing.assert_allclose(records["step_time_s"], [0, 60, 30, 60, 93784])
    np.testing.assert_allclose(records["time_s"], [0, 60, 90, 120, 93784])
    summary = summarize_cycles(records, restart_at_steps=True)
    assert summary.discharge_capacity_mah[0] == pytest.approx(1.5)
    assert summary.charge_capacity_mah[0] == pytest.approx(1.2)


def test_btsda_csv_unparseable_time_is_an_error(tmp_path):
    with pytest.raises(FormatError, match="'Time'.*'soon'.*line 3|line 3.*'soon'"):
        read_neware_csv(_btsda(tmp_path, times=("00:00:00", "soon", "00:00:01")))

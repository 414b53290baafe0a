"""Every cycler reader over the real corpus files, against the truths the corpus states:
EC-Lab's own text export of the same run, NewareNDA's reference output, cellpy's goldens."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liprobe.cell.cycle_summary import summarize_cycles
from liprobe.io.cycler import read_cycling
from tests.corpus.conftest import CORPUS, corpus_file

BIOLOGIC = ["ca", "coc.issue_185", "cp", "cv.issue_217", "cv", "gcpl.issue_149",
            "gcpl.issue_226.I", "gcpl.pr_182.1", "geis.issue_149", "lsv", "mb.issue_149",
            "mb.issue_223", "mb.issue_95", "ocv", "peis.issue_149", "wait", "zir"]


def _summary(records):
    return summarize_cycles(records, restart_at_steps=records.attrs["capacity_restarts_at_steps"])


def _mpt_q_discharge(path):
    """EC-Lab's own per-cycle 'Q discharge/mA.h' (maximum over each cycle) of a .mpt."""
    lines = path.read_text(encoding="latin-1").splitlines()
    n = int(lines[1].split()[-1])
    if len(lines) <= n:
        return None
    frame = pd.read_csv(path, sep="\t", skiprows=n - 1, encoding="latin-1",
                        decimal="," if "," in lines[n] and "." not in lines[n] else ".")
    if "Q discharge/mA.h" not in frame or "cycle number" not in frame:
        return None
    return frame.groupby("cycle number")["Q discharge/mA.h"].max()


@pytest.mark.parametrize("stem", [pytest.param(s, marks=pytest.mark.slow)
                                  if s in ("ca", "cv.issue_217") else s for s in BIOLOGIC])
def test_biologic_mpr_against_its_mpt(stem, corpus_row):
    mpr = corpus_file(f"cycler/biologic/{stem}.mpr")
    mpt = CORPUS / "cycler" / "biologic" / f"{stem}.mpt"
    records = read_cycling(mpr)
    text = read_cycling(mpt)
    rel = f"cycler/biologic/{stem}.mpr"
    assert len(records) == len(text) or (len(text) == 0 and len(records) <= 1)
    same = len(records) == len(text) and all(
        np.allclose(records[c], text[c], rtol=1e-6, atol=1e-9)
        for c in ("time_s", "voltage_v") if c in records and c in text)
    assert same or len(text) == 0
    truth = _mpt_q_discharge(mpt)
    has_charge = "discharge_capacity_mah" in records and len(records) > 1
    if truth is None or not has_charge:
        corpus_row(rel, f"{len(records)} records ({records.attrs.get('reader')})",
                   "record count, time and Ewe of every record",
                   f".mpt of the same run: {len(text)} records, same time and Ewe", True)
        return
    summary = _summary(records)
    got = dict(zip(summary.cycle.tolist(), summary.discharge_capacity_mah.tolist()))
    want = truth.to_dict()
    if summary.n_impedance_records:
        # EC-Lab counts the DC charge of impedance sweeps; liprobe excludes those records
        ok = summary.n_impedance_records == int(_freq_records(mpt))
        corpus_row(rel, f"{len(records)} records, {summary.n_impedance_records} impedance",
                   "impedance records excluded from capacity",
                   f".mpt: {int(_freq_records(mpt))} records with freq > 0; EC-Lab Q discharge "
                   f"{max(want.values()):.4g} mAh includes them", ok)
        assert ok
        return
    worst = max(abs(got.get(int(c), np.nan) - q) / max(q, 1e-12) if q > 1e-9 else
                abs(got.get(int(c), np.nan) - q) for c, q in want.items())
    ok = bool(worst < 0.005)
    shown = ", ".join(f"{got[int(c)]:.4g}" for c in want)
    corpus_row(rel, f"{len(records)} records ({records.attrs.get('reader')}, cycle from "
               f"{records.attrs['cycle_source']})", f"Q discharge per cycle {shown} mAh",
               ".mpt: " + ", ".join(f"{q:.4g}" for q in want.values()) + " mAh (< 0.5 %)", ok)
    assert ok


def _freq_records(mpt):
    lines = mpt.read_text(encoding="latin-1").splitlines()
    n = int(lines[1].split()[-1])
    frame = pd.read_csv(mpt, sep="\t", skiprows=n - 1, encoding="latin-1",
                        decimal="," if "," in lines[n] and "." not in lines[n] else ".")
    return (pd.to_numeric(frame["freq/Hz"], errors="coerce") > 0).sum()


def test_cellpy_biologic_mpr(corpus_row):
    records = read_cycling(corpus_file("cycler/biologic/cellpy_biol.mpr"))
    golden = pd.read_parquet(corpus_file("truth/cellpy_goldens/loader_biologics_mpr.raw.parquet"))
    summary = _summary(records)
    charge = float(summary.charge_capacity_mah.sum())
    q_golden = float(golden["QChargeDischarge"].max())  # cellpy's copy of EC-Lab's counter
    ok = (len(records) == 23561 == len(golden) and abs(charge - 4.977) < 0.005 * 4.977
          and abs(charge - q_golden) < 0.005 * q_golden
          and float(summary.discharge_capacity_mah.sum()) == 0.0)
    corpus_row("cycler/biologic/cellpy_biol.mpr", f"{len(records)} records "
               f"({records.attrs['reader']}; {summary.n_impedance_records} impedance)",
               f"Q charge 0 -> {charge:.4f} mAh, no discharge", "23,561 rows; one charge "
               f"half-cycle, Q charge 0 -> 4.977 mAh (cellpy golden {q_golden:.4f})", ok)
    assert ok


@pytest.mark.parametrize("name", ["TestFile.nda", "new_nda_file.nda", "test_2.ndax",
                                  "123456789012_Unit27_Example_Data_File.ndax"])
def test_neware_against_reference_ftr(name, corpus_row):
    records = read_cycling(corpus_file(f"cycler/neware/{name}"))
    ref = pd.read_feather(CORPUS / "cycler" / "neware" / (name.rsplit(".", 1)[0] + ".ftr"))
    truth = ref.groupby(["Cycle", "Step"])["Discharge_Capacity(mAh)"].max().groupby(level=0).sum()
    summary = _summary(records)
    ok = (len(records) == len(ref) and np.array_equal(summary.cycle, truth.index.to_numpy())
          and np.allclose(records["step_time_s"], ref["Time"], rtol=1e-7)
          and np.allclose(summary.discharge_capacity_mah, truth.to_numpy(), rtol=1e-6,
                          atol=1e-9))
    corpus_row(f"cycler/neware/{name}", f"{len(records)} records, {summary.n_cycles} cycles",
               "discharge capacity per cycle (steps summed); step time = .ftr Time",
               ".ftr (NewareNDA's output) steps summed", ok)
    assert ok


def test_neware_btsda_csv(corpus_row):
    records = read_cycling(corpus_file("cycler/neware/cellpy_neware_uio.csv"))
    golden = pd.read_parquet(corpus_file("truth/cellpy_goldens/loader_neware_txt.raw.parquet"))
    summary = _summary(records)
    want = [5.086, 4.368, 7.974, 3.315]
    got = summary.discharge_capacity_mah
    ok = (np.allclose(got, want, atol=0.0006) and
          np.allclose(records["time_s"], golden["test_time"]) and
          np.allclose(records["step_time_s"], golden["step_time"]))
    corpus_row("cycler/neware/cellpy_neware_uio.csv", f"{len(records)} records",
               "discharge per cycle " + ", ".join(f"{v:.3f}" for v in got) + " mAh; text times",
               "5.086, 4.368, 7.974, 3.315 mAh; cellpy test/step time", ok)
    assert ok


def test_maccor_txt_against_cellpy(corpus_row):
    records = read_cycling(corpus_file("cycler/maccor/maccor_001.txt"))
    golden = pd.read_parquet(corpus_file("truth/cellpy_goldens/loader_maccor_txt.raw.parquet"))
    counting = golden["State"].str.strip().isin(["C", "D"]).to_numpy()
    # cellpy carries the charge over consecutive charge steps; liprobe keeps Maccor's own
    # per-step Amp-hr, checked against the file's column read independently
    raw = pd.read_csv(CORPUS / "cycler/maccor/maccor_001.txt", sep="\t", skiprows=3,
                      usecols=range(12), encoding="latin-1")
    amp_hr = raw["Amp-hr"].to_numpy()
    charging = (raw["State"].str.strip() == "C").to_numpy()
    ok = (len(records) == len(golden)
          and np.allclose(records["time_s"], golden["test_time"])
          and np.allclose(records["current_ma"] / 1e3, golden["current"])
          and np.allclose(records["voltage_v"], golden["voltage"])
          and np.allclose(records["charge_capacity_mah"][charging] / 1e3, amp_hr[charging])
          and np.allclose(records["discharge_capacity_mah"][counting] / 1e3,
                          golden["discharge_capacity"][counting]))
    corpus_row("cycler/maccor/maccor_001.txt", f"{len(records)} records",
               "test time, signed current, voltage, discharge and charge capacities",
               "cellpy golden (charge: the file's per-step Amp-hr)", ok)
    assert ok


def test_maccor_numbered_export(corpus_row):
    records = read_cycling(corpus_file("cycler/maccor/maccor_test_file_4267-66-6519.041"))
    ok = len(records) == 74 and int(records["impedance"].sum()) == 61
    corpus_row("cycler/maccor/maccor_test_file_4267-66-6519.041", f"{len(records)} records",
               f"{int(records['impedance'].sum())} FRA records flagged impedance",
               "74 records, 61 in state FRA (file text)", ok)
    assert ok


def test_arbin_csv(corpus_row):
    records = read_cycling(corpus_file("cycler/arbin/FastCharge_000025_CH8.csv"))
    ok = len(records) == 248 and records.attrs["metadata"].get("test_id") == "153"
    corpus_row("cycler/arbin/FastCharge_000025_CH8.csv", f"{len(records)} records",
               "rows and metadata test_id", "248 rows; _Metadata.csv test_id 153", ok)
    assert ok


@pytest.mark.slow
def test_arbin_res_against_mdbtools(corpus_row, tmp_path):
    import shutil
    import subprocess

    path = corpus_file("cycler/arbin/20160805_test001_45_cc_01.res")
    records = read_cycling(path)
    if shutil.which("mdb-export") is None:
        pytest.skip("mdb-export (Debian package mdbtools) not installed: no independent reader")
    out = subprocess.run(["mdb-export", str(path), "Channel_Normal_Table"], check=True,
                         capture_output=True, text=True).stdout
    (tmp_path / "t.csv").write_text(out)
    ref = pd.read_csv(tmp_path / "t.csv").sort_values("Data_Point")
    ok = (len(records) == len(ref)
          and np.allclose(records["voltage_v"], ref["Voltage"], rtol=1e-6)
          and np.allclose(records["discharge_capacity_mah"], ref["Discharge_Capacity"] * 1e3,
                          rtol=1e-6))
    corpus_row("cycler/arbin/20160805_test001_45_cc_01.res", f"{len(records)} records "
               "(access-parser)", "voltage and discharge capacity of every record",
               "mdbtools' mdb-export of Channel_Normal_Table", ok)
    assert ok


@pytest.mark.parametrize("stem", ["gcpl.pr_182.1", "gcpl.issue_149", "gcpl.issue_226.I"])
def test_gcpl_mpr_current_equals_ec_lab_export(stem, corpus_row):
    """A GCPL .mpr stores no current: liprobe's dq/dt must equal EC-Lab's exported <I>."""
    records = read_cycling(corpus_file(f"cycler/biologic/{stem}.mpr"))
    mpt = CORPUS / "cycler" / "biologic" / f"{stem}.mpt"
    lines = mpt.read_text(encoding="latin-1").splitlines()
    n = int(lines[1].split()[-1])
    frame = pd.read_csv(mpt, sep="\t", skiprows=n - 1, encoding="latin-1",
                        decimal="," if "," in lines[n] and "." not in lines[n] else ".")
    want = frame["<I>/mA"].to_numpy(np.float64)
    got = records["current_ma"].to_numpy()
    scale = np.abs(want).max()
    worst = float(np.abs(got - want).max() / scale)
    ok = records.attrs["current_source"] == "dq/dt" and worst < 1e-3
    corpus_row(f"cycler/biologic/{stem}.mpr", f"current from {records.attrs['current_source']}",
               f"current of every record, max deviation {worst:.1e} of |I|max",
               ".mpt <I>/mA (EC-Lab's export)", ok)
    assert ok

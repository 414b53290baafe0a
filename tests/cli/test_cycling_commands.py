"""``liprobe cycling`` and ``liprobe info`` on real cycler files (NewareNDA's test files, with
NewareNDA's reference output) and on images."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from liprobe.cli import main
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "cycler"


def test_cycling_json_has_the_documented_fields(capsys):
    path = DATA / "TestFile.nda"
    assert main(["cycling", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["format"] == "neware" and payload["n_records"] == 6670
    ref = pd.read_feather(DATA / "TestFile.ftr")
    steps = ref.groupby(["Cycle", "Step"])[["Charge_Capacity(mAh)",
                                             "Discharge_Capacity(mAh)"]].max()
    truth = steps.groupby(level=0).sum()
    rows = payload["cycles"]
    assert [r["cycle"] for r in rows] == truth.index.tolist()
    for row, (_, want) in zip(rows, truth.iterrows()):
        assert set(row) == {"cycle", "charge_capacity_mah", "discharge_capacity_mah",
                            "coulombic_efficiency", "discharge_energy_mwh",
                            "mean_discharge_voltage_v"}
        assert row["discharge_capacity_mah"] == pytest.approx(want["Discharge_Capacity(mAh)"],
                                                              rel=1e-6)
        assert row["charge_capacity_mah"] == pytest.approx(want["Charge_Capacity(mAh)"],
                                                           rel=1e-6)
        if want["Charge_Capacity(mAh)"] > 0:
            assert row["coulombic_efficiency"] == pytest.approx(
                want["Discharge_Capacity(mAh)"] / want["Charge_Capacity(mAh)"], rel=1e-6)


def test_cycling_figure_and_text(tmp_path, capsys):
    figure = tmp_path / "cycling.svg"
    assert main(["cycling", str(DATA / "TestFile.nda"), "--figure", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "discharge mAh" in out and "6670 records" in out
    assert figure.stat().st_size > 1000 and figure.read_text().lstrip().startswith("<?xml")


def test_info_on_a_cycler_file(capsys):
    assert main(["info", str(DATA / "new_nda_file.nda"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    ref = pd.read_feather(DATA / "new_nda_file.ftr")
    assert payload["kind"] == "cycling" and payload["format"] == "neware"
    assert payload["n_records"] == len(ref) and payload["n_cycles"] == ref["Cycle"].nunique()


def test_info_on_an_image(tmp_path, capsys):
    import numpy as np

    from liprobe.data import Image
    from liprobe.io import write_image

    path = write_image(tmp_path / "a.tif", Image(np.zeros((20, 30), np.uint16), 0.0125))
    assert main(["info", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["kind"] == "image" and payload["shape"] == [20, 30]
    assert payload["pixel_size_nm"] == 0.0125


def test_cycling_on_an_unreadable_file_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "junk.nda"
    path.write_bytes(b"\x00" * 64)
    assert main(["cycling", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "junk.nda" in err[0]


def test_haadf_analyze_without_a_haadf_signal_lists_the_signals(capsys):
    from tests.io.test_images import _hyperspy_file

    path = _hyperspy_file("emd_files/fei_example_dpc_titles.emd")
    assert main(["haadf", "analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert "none is a HAADF" in err and "'iDPC'" in err and "--signal" in err
    assert main(["haadf", "analyze", str(path), "--signal", "nothing"]) == 2
    assert "no signal 'nothing'" in capsys.readouterr().err


def test_info_on_a_multi_signal_file_lists_the_signals(capsys):
    from tests.io.test_images import _hyperspy_file

    path = _hyperspy_file("emd_files/fei_example_dpc_titles.emd")
    assert main(["info", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["kind"] == "image" and payload["signal"] is None
    assert {"iDPC", "DF4-A", "B-D"} <= set(payload["signals"])

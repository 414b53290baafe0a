"""``liprobe haadf simulate`` then ``liprobe haadf analyze`` end to end, in tmp_path."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.io import read_image


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("haadf")
    image = folder / "sim.tif"
    truth = folder / "truth.csv"
    code = main(["haadf", "simulate", "-o", str(image), "--size", "256x448",
                 "--rotation-deg", "15", "--profile", "0:0.5:rock-salt,3:0.1:layered",
                 "--surface-depth-nm", "3.9", "--truth", str(truth), "--seed", "5", "--json"])
    assert code == 0
    return folder, image, truth


def test_simulate_writes_a_calibrated_tiff_and_truth(simulated, capsys):
    folder, image, truth = simulated
    loaded = read_image(image)
    assert loaded.pixels.shape == (256, 448)
    assert loaded.pixel_size_nm == 0.02
    with open(truth) as fh:
        rows = list(csv.DictReader(fh))
    sites = {r["site"] for r in rows}
    assert sites == {"TM", "Li", "O"}
    depths = np.array([float(r["depth_nm"]) for r in rows])
    assert depths.min() >= 0.0


def test_analyze_json_shape_and_values(simulated, capsys):
    folder, image, _ = simulated
    capsys.readouterr()
    out = folder / "out"
    code = main(["haadf", "analyze", str(image), "--simulate-reference", "--json",
                 "-o", str(out)])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert abs(payload["d003_nm"] - 1.419 / 3) < 0.005
    assert abs(payload["orientation_deg"] - 15.0) < 0.5
    assert payload["model"] == "exchange"
    windows = payload["windows"]
    shallow = [w for w in windows if w["depth_nm"] < 2.5]
    deep = [w for w in windows if w["depth_nm"] > 3.5]
    assert shallow and deep
    assert all(w["phase"] == "rock-salt" for w in shallow)
    assert all(w["phase"] == "layered" for w in deep)
    assert np.median([w["f"] for w in deep]) == pytest.approx(0.1, abs=0.03)
    for name in ("haadf.json", "windows.csv", "profile.csv", "depth_profile.png",
                 "plane_profile.png", "sites.png"):
        assert (out / name).stat().st_size > 0
    assert json.loads((out / "haadf.json").read_text())["R0"] == payload["R0"]


def test_errors_are_one_line_with_exit_code_2(simulated, tmp_path, capsys):
    folder, image, _ = simulated
    np.save(tmp_path / "raw.npy", read_image(image).pixels)
    capsys.readouterr()
    assert main(["haadf", "analyze", str(tmp_path / "raw.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--pixel-size-nm" in err[0]
    assert main(["haadf", "analyze", str(image), "--reference", str(image),
                 "--simulate-reference"]) == 2
    assert main(["haadf", "simulate", "-o", str(tmp_path / "x.tif"), "--profile",
                 "0:0.5"]) == 2


def test_analyze_with_the_multislice_calibration(simulated, capsys):
    folder, image, _ = simulated
    code = main(["haadf", "analyze", str(image), "--kv", "200", "--convergence-mrad", "25",
                 "--detector-mrad", "70,160", "--thickness-nm", "20", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reference"] == "calibration"
    cal = out["calibration"]
    assert cal["kv"] == 200 and cal["detector_mrad"] == [70, 160]
    assert cal["thickness_sigma_nm"] == pytest.approx(2.0)  # default: 10 % of the thickness
    assert out["k"] == pytest.approx(cal["k"]) and "multislice" in out["interval_note"]


def test_analyze_with_incomplete_optics_says_what_is_missing(simulated, capsys):
    _, image, _ = simulated
    code = main(["haadf", "analyze", str(image), "--kv", "200", "--thickness-nm", "20"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--convergence-mrad" in err and "--detector-mrad" in err


def test_analyze_outside_the_calibration_names_the_fix(simulated, capsys):
    _, image, _ = simulated
    code = main(["haadf", "analyze", str(image), "--kv", "120", "--convergence-mrad", "25",
                 "--detector-mrad", "70,160", "--thickness-nm", "20"])
    assert code == 2
    assert "liprobe haadf calibrate" in capsys.readouterr().err


@pytest.mark.slow
def test_calibrate_writes_a_table_with_provenance(tmp_path, capsys):
    pytest.importorskip("abtem", reason="abTEM not installed (pip install liprobe[simulate])")
    out = tmp_path / "cal.json"
    code = main(["haadf", "calibrate", "-o", str(out), "--kv", "200", "--convergence-mrad", "25",
                 "--detector-mrad", "70,160", "--thickness-nm", "2,3", "--configs", "1",
                 "--quiet", "--json"])
    assert code == 0
    from liprobe.workflow.haadf_calibration import read_haadf_calibration

    cal = read_haadf_calibration(out)
    assert cal.n_rows == 2 and cal.provenance["frozen_phonon_configs"] == 1
    assert cal.provenance["abtem_version"]
    assert np.all(cal.table["R0"] < 0.1)

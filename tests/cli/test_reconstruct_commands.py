"""``liprobe detector synth``, ``reconstruct``, ``mass-calibrate``, ``tip-profile``, ``detector``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.io import read_ions


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("detector") / "run.epos"
    assert main(["detector", "synth", "-o", str(out), "--n-ions", "60000", "--seed", "2",
                 "--voltage-offset-kv", "0.05", "--bowl-error", "0.5",
                 "--dissociation-fraction", "0.5", "--dead-time"]) == 0
    return out


def test_reconstruct_writes_pos_and_reports(run_file, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "run.pos"
    truth = json.loads(run_file.with_suffix(".truth.json").read_text())
    g = truth["generating_parameters"]
    args = ["reconstruct", str(run_file), "-o", str(out), "--json",
            "--atomic-volume-nm3", str(g["atomic_volume_nm3"]), "--area-model", "projected-cap"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["protocol"] == "bas" and payload["n_ions"] == truth["n_ions"]
    # dead time removed ions and dissociation added fragments: scale by detected per evaporated
    events = truth["n_ions"] + truth["n_lost_dead_time"] - truth["n_fragments"] // 2
    expected = truth["final_apex_depth_nm"] * truth["n_ions"] / events
    # atoms moved onto planes shift the first and last apex depths: within one spacing
    assert payload["depth_nm"] == pytest.approx(expected, abs=0.473)
    ions, rebuilt = read_ions(run_file), read_ions(out)
    np.testing.assert_array_equal(rebuilt.mass_to_charge_da, ions.mass_to_charge_da)
    before = out.read_bytes()
    assert main(args) == 2  # exists: refused without --force
    assert "--force" in capsys.readouterr().err and out.read_bytes() == before
    assert main([*args, "--force", "--protocol", "shank", "--initial-radius-nm", "25",
                 "--shank-angle-deg", "5"]) == 0


def test_reconstruct_with_calibration_and_tip_profile(run_file, tmp_path, capsys):
    capsys.readouterr()
    csv = tmp_path / "tip.csv"
    csv.write_text("depth_nm,radius_nm\n0,25\n200,46\n")
    fig = tmp_path / "sdm.svg"
    assert main(["reconstruct", str(run_file), "-o", str(tmp_path / "a.pos"), "--json",
                 "--calibrate", "field-factor", "--figure", str(fig)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["calibration"]["parameter"] == "field_factor"
    assert 'data-kind="z-sdm"' in fig.read_text()
    assert main(["reconstruct", str(run_file), "-o", str(tmp_path / "b.pos"),
                 "--protocol", "tip-profile", "--tip-profile", str(csv)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("depth_nm,radius_nm\n0,25\nten,46\n")
    assert main(["reconstruct", str(run_file), "-o", str(tmp_path / "c.pos"),
                 "--protocol", "tip-profile", "--tip-profile", str(bad)]) == 2
    assert "line 3" in capsys.readouterr().err


def test_mass_calibrate_improves_resolving_power(run_file, tmp_path, capsys):
    capsys.readouterr()
    fig = tmp_path / "cal.svg"
    assert main(["mass-calibrate", str(run_file), "-o", str(tmp_path / "cal.epos"), "--json",
                 "--figure", str(fig)]) == 0
    payload = json.loads(capsys.readouterr().out)
    rp = payload["resolving_power"]
    assert rp["after"]["mrp_fwhm"] > 5 * rp["before"]["mrp_fwhm"]
    assert "after" in payload["overlap_deconvolution"]
    assert 'data-kind="mass-calibration"' in fig.read_text()


def test_detector_analyses_write_figures(run_file, tmp_path, capsys):
    for command, kind in (("map", "detector-map"), ("voltage", "voltage-curve"),
                          ("correlation", "correlation-histogram")):
        capsys.readouterr()
        fig = tmp_path / f"{command}.svg"
        assert main(["detector", command, str(run_file), "--json", "--figure", str(fig)]) == 0
        json.loads(capsys.readouterr().out)
        assert f'data-kind="{kind}"' in fig.read_text()
    pos = tmp_path / "plain.pos"
    from liprobe.io import write_ions

    write_ions(pos, read_ions(run_file))
    assert main(["detector", "map", str(pos)]) == 2
    assert "EPOS" in capsys.readouterr().err


def test_tip_profile_from_a_tiff(tmp_path, capsys):
    from liprobe.io import write_image
    from liprobe.synth.tip_image import needle_image

    img, _ = needle_image(apex_radius_nm=30, shank_angle_deg=6, pixel_size_nm=0.8,
                          rng=np.random.default_rng(4))
    path = tmp_path / "tip.tif"
    write_image(path, img)
    capsys.readouterr()
    assert main(["tip-profile", str(path), "--json", "--figure", str(tmp_path / "t.svg")]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["apex_radius_nm"] == pytest.approx(30, rel=0.1)
    assert abs(payload["shank_angle_deg"] - 6) < 1

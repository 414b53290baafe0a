"""``liprobe spectrum / profile / fda / features / qc`` on generated EPOS + RRNG files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.io import write_ions, write_ranges
from liprobe.synth import DeadTime, LineFeature, generate_specimen, get_preset, ncm_ranges


def _write(tmp_path, name, params, seed):
    ions, truth = generate_specimen(params, rng=np.random.default_rng(seed))
    epos = write_ions(tmp_path / f"{name}.epos", ions)
    rrng = write_ranges(tmp_path / f"{name}.rrng", ncm_ranges(params))
    return epos, rrng, truth


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def lines_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apt_cli")
    lines = (LineFeature((-5.0, -5.0, 0.0), (-5.0, -4.0, 30.0), 1.5, 3.0),
             LineFeature((5.0, 4.0, 0.0), (6.0, 4.0, 30.0), 1.5, 3.0))
    params = get_preset("ncm-homogeneous", apex_radius_nm=12.0, shank_angle_deg=3.0,
                        line_features=lines, n_ions=250_000)
    return _write(tmp, "lines", params, 8)


def test_profile_json_has_the_issue_shape(lines_files, capsys, tmp_path):
    epos, rrng, truth = lines_files
    fig = tmp_path / "profile.png"
    bins = _json(capsys, ["profile", str(epos), "-r", str(rrng), "--bin-nm", "4", "--json"])[
        "bins"]
    out = _json(capsys, ["profile", str(epos), "-r", str(rrng), "--bin-nm", "4", "--json",
                         "--figure", str(fig)])
    bins = out["bins"]
    assert bins[0]["start_nm"] == 0.0 and bins[0]["end_nm"] == 4.0
    assert set(bins[0]) >= {"start_nm", "end_nm", "n_atoms", "fractions", "sigmas"}
    # every ion's atoms are counted once: total atoms = generator's detected atoms in range
    assert sum(b["n_atoms"] for b in bins) == pytest.approx(
        sum(truth.composition.total_atom_counts().values()), rel=0.05)
    assert fig.stat().st_size > 5_000
    out = _json(capsys, ["profile", str(epos), "-r", str(rrng), "--bin-ions", "50000",
                         "--json"])
    counts = [sum(b["fractions"].values()) for b in out["bins"]]
    along = _json(capsys, ["profile", str(epos), "-r", str(rrng), "--axis", "0,0,1",
                           "--bin-nm", "4", "--json"])
    # the same ions measured along the vector (0, 0, 1) from the minimum z
    assert sum(b["n_atoms"] for b in along["bins"]) == sum(b["n_atoms"] for b in bins)
    assert len(out["bins"]) == pytest.approx(250_000 * 0.8 / 50_000, abs=1.5)
    assert counts == pytest.approx([1.0] * len(counts))


def test_fda_json_shape_and_li_segregation(lines_files, capsys):
    epos, rrng, _ = lines_files
    out = _json(capsys, ["fda", str(epos), "-r", str(rrng), "--block-ions", "100",
                         "--species", "Li,Co", "--json"])
    assert set(out["species"]) == {"Li", "Co"}
    li = out["species"]["Li"]
    assert set(li) >= {"chi2", "dof", "p_value", "mu", "n_blocks", "block_ions"}
    assert li["block_ions"] == 100
    # two thin Li lines: Li is non-random (small p), Co stays random
    assert li["p_value"] < 1e-6 < out["species"]["Co"]["p_value"]
    assert li["mu"] > out["species"]["Co"]["mu"]
    assert out["conventions"]["dof"] == "bins-2"


def test_features_json_finds_the_two_lines(lines_files, capsys, tmp_path):
    epos, rrng, truth = lines_files
    out = _json(capsys, ["features", str(epos), "-r", str(rrng), "--json",
                         "--figure", str(tmp_path / "prox.png")])
    assert len(out["features"]) == 2
    for f in out["features"]:
        assert set(f) >= {"length_nm", "direction", "centroid_nm", "enrichment"}
        x, y = f["centroid_nm"][:2]
        assert min(np.hypot(x - lf.start_nm[0], y - lf.start_nm[1]) for lf in
                   truth.line_features) < 2.5
    assert (tmp_path / "prox.png").exists()


def test_qc_flags_dead_time_and_text_output(tmp_path, capsys):
    params = get_preset("ncm-homogeneous", apex_radius_nm=12.0, n_ions=150_000,
                        dead_time=DeadTime(enabled=True))
    epos, rrng, _ = _write(tmp_path, "dead", params, 3)
    out = _json(capsys, ["qc", str(epos), "-r", str(rrng), "--json"])
    assert out["verdict"] == "warn"
    verdicts = {c["name"]: c["verdict"] for c in out["checks"]}
    assert verdicts["li_same_species_multihits"] == "warn"
    assert main(["qc", str(epos), "-r", str(rrng)]) == 0
    assert "WARN" in capsys.readouterr().out


def test_spectrum_proposes_ranges_and_deconvolves(lines_files, capsys, tmp_path):
    epos, _, _ = lines_files
    out = _json(capsys, ["spectrum", str(epos), "--json", "--deconvolve",
                         "--propose", str(tmp_path / "proposed.rrng"),
                         "--figure", str(tmp_path / "spectrum.png")])
    ions = {r["ion"] for r in out["proposed_ranges"]}
    assert {"Li", "O", "O2", "Ni", "Co", "Mn"} <= ions
    assert out["overlaps"]["species"]["O2 2+"]["count"] > 0
    assert (tmp_path / "proposed.rrng").read_text().startswith("[Ions]")


def test_bad_option_is_one_line_error(lines_files, capsys):
    epos, rrng, _ = lines_files
    assert main(["fda", str(epos), "-r", str(rrng), "--species", "Fe"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Fe" in err[0]

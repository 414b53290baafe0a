"""``liprobe info / ranges / composition / convert`` on small files built in tmp_path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.data import IonTable
from liprobe.io import read_ions, read_ranges, write_ions

#: A hand-written RRNG: species, bounds and atoms are known from this text.
RRNG_TEXT = """\
[Ions]
Number=7
Ion1=Li
Ion2=O
Ion3=O2
Ion4=NiO2
Ion5=Ni
Ion6=Co
Ion7=Mn
[Ranges]
Number=7
Range1=6.8 7.2 Vol:0.01 Li:1 Color:FF0000
Range2=15.8 16.2 O:1
Range3=31.8 32.2 O:2
Range4=90.7 91.2 Ni:1 O:2
Range5=28.8 29.2 Ni:1
Range6=29.3 29.6 Co:1
Range7=27.3 27.6 Mn:1
"""
#: (m/q in Da, number of ions) of the test data set; 50 Da is in no range.
PEAKS = [(7.0, 30), (16.0, 20), (32.0, 25), (91.0, 5), (29.0, 16), (29.5, 3), (27.5, 1),
         (50.0, 10)]
N_IONS, N_RANGED = 110, 100
ATOMS = {"Li": 30, "O": 20 + 2 * 25 + 2 * 5, "Ni": 5 + 16, "Co": 3, "Mn": 1}
BBOX = {"x": [-3.0, 4.0], "y": [-1.0, 2.0], "z": [0.0, 10.0]}


def _ions(rng) -> IonTable:
    mass = np.repeat([m for m, _ in PEAKS], [n for _, n in PEAKS]).astype(np.float32)
    mass = mass[rng.permutation(mass.size)]
    xyz = np.column_stack([rng.uniform(lo, hi, mass.size) for lo, hi in BBOX.values()])
    xyz[0] = [lo for lo, _ in BBOX.values()]
    xyz[1] = [hi for _, hi in BBOX.values()]
    n = mass.size
    fields = {
        "tof_ns": rng.uniform(100, 900, n).astype(np.float32),
        "dc_voltage_kv": np.full(n, 5.0, np.float32),
        "pulse_voltage_kv": np.zeros(n, np.float32),
        "detector_x_mm": rng.uniform(-40, 40, n).astype(np.float32),
        "detector_y_mm": rng.uniform(-40, 40, n).astype(np.float32),
        "pulses_since_last": rng.integers(1, 50, n).astype(np.int32),
        "ions_per_pulse": np.ones(n, np.int32),
    }
    return IonTable(xyz.astype(np.float32), mass, fields)


@pytest.fixture
def files(tmp_path, rng) -> dict[str, Path]:
    ions = _ions(rng)
    paths = {"rrng": tmp_path / "ranges.rrng"}
    paths["rrng"].write_text(RRNG_TEXT)
    for suffix in ("pos", "epos", "apt"):
        paths[suffix] = write_ions(tmp_path / f"run.{suffix}", ions)
    return paths


def _run_json(capsys, *argv: str) -> dict:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("fmt", ["pos", "epos", "apt"])
def test_info_json(files, capsys, fmt):
    payload = _run_json(capsys, "info", str(files[fmt]))
    assert payload["format"] == fmt
    assert payload["n_ions"] == N_IONS
    assert payload["fields"][:4] == ["x_nm", "y_nm", "z_nm", "mass_to_charge_da"]
    if fmt == "pos":
        assert len(payload["fields"]) == 4
    if fmt == "epos":
        assert "ions_per_pulse" in payload["fields"] and len(payload["fields"]) == 11
    assert payload["bbox_nm"] == BBOX


def test_info_dispatches_on_the_kind_of_file(files, capsys):
    payload = _run_json(capsys, "info", str(files["rrng"]))
    assert (payload["kind"], payload["format"]) == ("ranges", "rrng")
    assert (payload["n_ions"], payload["n_ranges"]) == (7, 7)
    assert payload["elements"] == ["Li", "O", "Ni", "Co", "Mn"]
    assert payload["mass_range_da"] == [6.8, 91.2]
    assert _run_json(capsys, "info", str(files["epos"]))["kind"] == "ions"
    assert main(["info", str(files["rrng"])]) == 0
    assert "ranges    7 (6.800 .. 91.200 Da)" in capsys.readouterr().out


def test_info_text(files, capsys):
    assert main(["info", str(files["pos"])]) == 0
    out = capsys.readouterr().out
    assert "POS" in out and str(N_IONS) in out and "-3.00 .. 4.00" in out


def test_ranges_json(files, capsys):
    payload = _run_json(capsys, "ranges", str(files["rrng"]))
    assert payload["n_ions"] == 7 and payload["n_ranges"] == 7
    assert payload["ions"] == ["Li", "O", "O2", "NiO2", "Ni", "Co", "Mn"]
    assert payload["ranges"][0] == {"low_da": 6.8, "high_da": 7.2, "ion": "Li",
                                    "atoms": {"Li": 1}}
    assert payload["ranges"][3] == {"low_da": 90.7, "high_da": 91.2, "ion": "NiO2",
                                    "atoms": {"Ni": 1, "O": 2}}
    assert main(["ranges", str(files["rrng"])]) == 0
    assert "NiO2" in capsys.readouterr().out


def test_composition_json(files, capsys):
    payload = _run_json(capsys, "composition", str(files["epos"]), "--ranges",
                        str(files["rrng"]), "--normalize-to", "Ni,Co,Mn",
                        "--overlap-correction", "none")
    assert payload["overlap_correction"] == "none"
    assert payload["n_ions"] == N_IONS and payload["n_ranged"] == N_RANGED
    assert payload["unranged_fraction"] == pytest.approx(10 / 110, rel=1e-12)
    assert payload["normalized_to"] == ["Ni", "Co", "Mn"]
    assert payload["ions"]["O2"] == {"count": 25, "fraction": pytest.approx(0.25)}
    assert payload["ions"]["NiO2"]["count"] == 5
    n_atoms = sum(ATOMS.values())
    metals = ATOMS["Ni"] + ATOMS["Co"] + ATOMS["Mn"]
    # σ by resampling the ions multinomially (O2 and NiO2 move several atoms at once)
    ions = {"Li": (30, {"Li": 1}), "O": (20, {"O": 1}), "O2": (25, {"O": 2}),
            "NiO2": (5, {"Ni": 1, "O": 2}), "Ni": (16, {"Ni": 1}), "Co": (3, {"Co": 1}),
            "Mn": (1, {"Mn": 1})}
    counts = np.array([n for n, _ in ions.values()])
    draws = np.random.default_rng(5).multinomial(counts.sum(), counts / counts.sum(), 200_000)
    atoms_of = {el: draws @ np.array([a.get(el, 0) for _, a in ions.values()])
                for el in ATOMS}
    total = sum(atoms_of.values())
    metal_draws = atoms_of["Ni"] + atoms_of["Co"] + atoms_of["Mn"]
    for element, atoms in ATOMS.items():
        entry = payload["elements"][element]
        p = atoms / n_atoms
        assert entry["atoms"] == atoms
        assert entry["fraction"] == pytest.approx(p, rel=1e-12)
        assert entry["fraction_sigma"] == pytest.approx(
            (atoms_of[element] / total).std(), rel=0.03)
        assert entry["ratio"] == pytest.approx(atoms / metals, rel=1e-12)
    # Li (monatomic, outside the set): sqrt(a/b^2 + a^2/b^3) with a = 30, b = 25
    assert payload["elements"]["Li"]["ratio_sigma"] == pytest.approx(
        math.sqrt(30 / 25**2 + 30**2 / 25**3))
    # Ni is inside: sqrt(r (1 - r) / 25) with r = 21/25
    assert payload["elements"]["Ni"]["ratio_sigma"] == pytest.approx(
        math.sqrt(0.84 * 0.16 / 25))
    ok = metal_draws > 0
    assert payload["elements"]["O"]["ratio_sigma"] == pytest.approx(
        (atoms_of["O"][ok] / metal_draws[ok]).std(), rel=0.1)  # small counts: 10 %


def test_composition_text_default_normalisation(files, capsys):
    assert main(["composition", str(files["pos"]), "--ranges", str(files["rrng"]),
                 "--overlap-correction", "none"]) == 0
    out = capsys.readouterr().out
    assert "ratio to Ni+Co+Mn" in out and "1.20" in out  # Li: 30 / 25 ± 0.33
    # σ is printed to two significant digits, never rounded to 0.000
    assert " 0.000 " not in out and "0.32" in out


def test_same_composition_from_pos_epos_apt(files, capsys):
    payloads = [
        _run_json(capsys, "composition", str(files[fmt]), "--ranges", str(files["rrng"]),
                  "--overlap-correction", "none")
        for fmt in ("pos", "epos", "apt")
    ]
    # POS has no multi-hit field: the dead-time estimate is reported for EPOS and APT only
    assert "dead_time" not in payloads[0]["systematics"]
    assert payloads[1]["systematics"].pop("dead_time") == payloads[2]["systematics"].pop(
        "dead_time")
    assert payloads[0] == payloads[1] == payloads[2]
    assert {el: v["atoms"] for el, v in payloads[0]["elements"].items()} == ATOMS


@pytest.mark.parametrize(("src", "dst"), [("epos", "pos"), ("pos", "apt"), ("apt", "pos")])
def test_convert_ion_files(files, capsys, tmp_path, src, dst):
    target = tmp_path / f"converted.{dst}"
    assert main(["convert", str(files[src]), str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    back = read_ions(target)
    original = read_ions(files[src])
    np.testing.assert_array_equal(back.mass_to_charge_da, original.mass_to_charge_da)
    np.testing.assert_array_equal(back.xyz_nm, original.xyz_nm)
    assert not list(tmp_path.glob("*.part"))  # no temporary file left behind


def test_convert_range_files(tmp_path, capsys):
    rng_file = tmp_path / "two.rng"
    rng_file.write_text(
        "2 3\nLi\nLi 1.0 0.0 0.0\nO\nO 0.0 0.0 1.0\n"
        "------------------- Li O\n. 6.8 7.2 1 0\n. 15.8 16.2 0 1\n. 31.8 32.2 0 2\n"
    )
    env_file = tmp_path / "two.env"
    env_file.write_text("# two species\n2 2\nLi 1.0 0.0 0.0\nO 0.0 0.0 1.0\n"
                        "Li 6.8 7.2 1.0 1.0\nO 15.8 16.2 1.0 1.0\n")
    for source, n_ranges in ((rng_file, 3), (env_file, 2)):
        target = tmp_path / f"{source.stem}_{source.suffix[1:]}.rrng"
        assert main(["convert", str(source), str(target)]) == 0
        capsys.readouterr()
        table = read_ranges(target)
        assert table.n_ranges == n_ranges
        assert table.low_da.tolist()[:2] == [6.8, 15.8]
        assert table.high_da.tolist()[:2] == [7.2, 16.2]
        payload = _run_json(capsys, "ranges", str(target))
        assert payload["ranges"][0]["atoms"] == {"Li": 1}


def test_convert_refuses_to_overwrite_its_input(files, capsys):
    before = files["pos"].read_bytes()
    assert main(["convert", str(files["pos"]), str(files["pos"])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to overwrite" in err and "run.pos" in err
    assert files["pos"].read_bytes() == before


def test_convert_existing_output_needs_force(files, capsys, tmp_path):
    target = tmp_path / "exists.pos"
    target.write_bytes(b"keep me!" * 2)
    assert main(["convert", str(files["epos"]), str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me!" * 2
    assert main(["convert", str(files["epos"]), str(target), "--force"]) == 0
    assert read_ions(target).n_ions == N_IONS


def test_convert_is_atomic_when_the_writer_fails(files, capsys, tmp_path, monkeypatch):
    import liprobe.io.pos as pos_module
    from liprobe.errors import FormatError

    def broken_writer(path, ions):
        Path(path).write_bytes(b"\0" * 16)  # half-written, then the disk "fails"
        raise FormatError("disk full", path=path)

    monkeypatch.setattr(pos_module, "write_pos", broken_writer)
    target = tmp_path / "old.pos"
    target.write_bytes(b"previous content")
    assert main(["convert", str(files["epos"]), str(target), "--force"]) == 2
    assert "disk full" in capsys.readouterr().err
    assert target.read_bytes() == b"previous content"
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".old.pos*"))


def test_cli_and_study_give_one_composition_for_one_file(tmp_path, capsys):
    """One file, one answer: the CLI's default overlap correction is the study's."""
    from liprobe.study.manifest import SpecimenSpec, StudySettings, parse_depth
    from liprobe.synth import generate_specimen, get_preset, ncm_ranges, write_specimen
    from liprobe.workflow.pipeline import analyze_specimen

    params = get_preset("ncm-homogeneous", n_ions=40_000, apex_radius_nm=10.0)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(4))
    paths = write_specimen(tmp_path / "one.epos", ions, ncm_ranges(params))
    payload = _run_json(capsys, "composition", str(paths["ions"]), "--ranges",
                        str(paths["ranges"]))
    assert payload["overlap_correction"] == "isotopes"
    spec = SpecimenSpec("one", "S", 0, parse_depth("bulk"), "1", paths["ions"],
                        paths["ranges"])
    result = analyze_specimen(spec, StudySettings(fda_block_ions=50))
    for element in ("Li", "Ni", "Co", "Mn", "O"):
        entry = payload["elements"][element]
        assert entry["atoms"] == result.counts[element], element
        assert entry["ratio"] == pytest.approx(result.ratios[element], rel=1e-12)
        assert entry["ratio_sigma"] == pytest.approx(result.ratio_sigmas[element], rel=1e-9)
    # the correction is what makes O right: the uncorrected O/metal is ~8 % low
    plain = _run_json(capsys, "composition", str(paths["ions"]), "--ranges",
                      str(paths["ranges"]), "--overlap-correction", "none")
    o_true = params.profile.o[0]
    corrected, sigma = payload["elements"]["O"]["ratio"], payload["elements"]["O"]["ratio_sigma"]
    assert abs(corrected - o_true) < 3 * sigma
    assert plain["elements"]["O"]["ratio"] < o_true - 3 * plain["elements"]["O"]["ratio_sigma"]
    # systematic losses are reported beside σ, and put back only when asked
    li_window = payload["systematics"]["window"]["Li"]["lost_fraction"]
    assert 0.001 < li_window < 0.02 and "dead_time" in payload["systematics"]
    assert payload["losses_corrected"] is False
    fixed = _run_json(capsys, "composition", str(paths["ions"]), "--ranges",
                      str(paths["ranges"]), "--correct-losses")
    assert fixed["losses_corrected"] is True
    assert fixed["elements"]["Li"]["atoms"] > payload["elements"]["Li"]["atoms"]
    assert main(["composition", str(paths["ions"]), "--ranges", str(paths["ranges"])]) == 0
    assert "window loss (systematic, not corrected)" in capsys.readouterr().out

"""The command-line defects found by a new user, each pinned by a test that failed before.

The data are the hand-written fixture of ``test_files_commands`` (atom counts known from
its construction) and small synthetic specimens whose truth the generator states.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.data import IonTable
from liprobe.io import write_ions
from tests.cli.test_files_commands import ATOMS, RRNG_TEXT, files  # noqa: F401 (fixture)


def _out(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_flag_prints_the_package_version(capsys):
    from liprobe import __version__

    code, out, _ = _out(capsys, "--version")
    assert code == 0 and out.strip() == f"liprobe {__version__}"


def test_profile_text_prints_ratios_when_normalised(files, capsys):  # noqa: F811
    # one bin holding every ion: Li ratio = 30 / (21 + 3 + 1) atoms by construction
    code, out, _ = _out(capsys, "profile", str(files["pos"]), "-r", str(files["rrng"]),
                        "--bin-nm", "20", "--normalize-to", "Ni,Co,Mn")
    assert code == 0
    header, row = out.splitlines()[1:3]
    columns = header.split()
    li = float(row.split()[columns.index("Li")])
    assert li == pytest.approx(ATOMS["Li"] / (ATOMS["Ni"] + ATOMS["Co"] + ATOMS["Mn"]),
                               abs=1e-4)
    assert "ratio to Ni+Co+Mn" in out.splitlines()[0]


def test_composition_sigma_never_prints_as_zero(tmp_path, capsys):
    # 2 M ions: the Ni ratio σ (~0.001) printed with 3 decimals was 0.000 / 0.001
    rng = np.random.default_rng(4)
    n = 2_000_000
    mass = rng.choice(np.array([7.0, 16.0, 29.0, 29.5, 27.5], np.float32), n,
                      p=[0.3, 0.4, 0.24, 0.04, 0.02])
    xyz = rng.uniform(0, 10, (n, 3)).astype(np.float32)
    pos = write_ions(tmp_path / "big.pos", IonTable(xyz, mass))
    rrng = tmp_path / "r.rrng"
    rrng.write_text(RRNG_TEXT)
    code, out, _ = _out(capsys, "composition", str(pos), "-r", str(rrng))
    assert code == 0
    rows = [line for line in out.splitlines()[3:]
            if line.split() and line.split()[0] in ("Li", "O", "Ni", "Co", "Mn")]
    assert len(rows) == 5, out  # the table rows (systematics lines follow them)
    for line in rows:
        sigmas = [float(v) for v in line.split()[3::2]]
        assert all(s > 0 for s in sigmas), line


def test_fda_scan_prints_the_scan(files, capsys):  # noqa: F811
    code, out, _ = _out(capsys, "fda", str(files["pos"]), "-r", str(files["rrng"]),
                        "--block-ions", "10", "--scan", "5,10", "--species", "Li,O")
    assert code == 0
    assert "Pearson μ against block size" in out
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s+(5|10)\s", line)]
    assert [r[0] for r in rows] == ["5", "10"] and all(len(r) == 5 for r in rows)


def test_fda_figure_draws_every_species(files, tmp_path, capsys):  # noqa: F811
    from liprobe.cli.apt_commands import fda_payload

    payload = fda_payload(files["pos"], files["rrng"], block_ions=10, species="Li,O,Ni")
    from liprobe.apt.frequency import frequency_distribution
    from liprobe.io import read_ions, read_ranges
    from liprobe.report.apt_figures import plot_fda_all

    result = frequency_distribution(read_ions(files["pos"]), read_ranges(files["rrng"]),
                                    block_ions=10, elements=["Li", "O", "Ni"])
    fig = plot_fda_all(result)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [t.split(":")[0] for t in titles] == list(payload["species"]) == ["Li", "O", "Ni"]
    code, _, _ = _out(capsys, "fda", str(files["pos"]), "-r", str(files["rrng"]),
                      "--block-ions", "10", "--figure", str(tmp_path / "fda.png"))
    assert code == 0 and (tmp_path / "fda.png").stat().st_size > 1000


def test_spectrum_states_peaks_and_ranges_consistently(tmp_path, capsys):
    code, _, _ = _out(capsys, "synth", "specimen", "-o", str(tmp_path / "s.epos"),
                      "--n-ions", "20000")
    assert code == 0
    code, out, _ = _out(capsys, "spectrum", str(tmp_path / "s.epos"))
    payload = json.loads(_out(capsys, "spectrum", str(tmp_path / "s.epos"), "--json")[1])
    n_ranges = sum(1 for line in out.splitlines() if line.endswith(" Da"))
    summary = out.splitlines()[1]
    assert f"{len(payload['peaks'])} significant peaks" in summary
    assert f"{n_ranges} proposed ranges" in summary
    assert n_ranges == len(payload["proposed_ranges"])


def test_profile_figure_marks_the_partial_last_bin(tmp_path):
    from liprobe.apt.profiles import concentration_profile
    from liprobe.io import read_ranges
    from liprobe.report.apt_figures import plot_profile

    # 900 Li/Ni ions evenly along z 0-9 nm in evaporation order: 4 nm bins are 0-4, 4-8
    # and a last bin 8-12 holding only the ions of 8-9 nm (a quarter of a full bin)
    n = 900
    z = np.linspace(0.0, 9.0, n, dtype=np.float32)
    xyz = np.column_stack([np.zeros(n), np.zeros(n), z]).astype(np.float32)
    mass = np.where(np.arange(n) % 2 == 0, 7.0, 29.0).astype(np.float32)
    rrng = tmp_path / "r.rrng"
    rrng.write_text(RRNG_TEXT)
    profile = concentration_profile(IonTable(xyz, mass), read_ranges(rrng), bin_nm=4.0)
    assert profile.n_bins == 3 and profile.n_atoms[-1] < 0.5 * profile.n_atoms[0]
    fig = plot_profile(profile, elements=("Li",))
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert any("partial" in label for label in labels)
    # the full bins are drawn as steps over their whole extent (0-8 nm)
    steps = [p for p in fig.axes[0].patches if p.get_label() == "Li"]
    assert steps and max(float(np.max(p.get_path().vertices[:, 0])) for p in steps) >= 8.0


def test_help_shows_no_bool_type_on_flags(capsys):
    code, out, _ = _out(capsys, "synth", "specimen", "--help")
    assert code == 0 and "--json" in out
    assert "<bool>" not in out and "BOOLEAN" not in out


def test_errors_name_cli_wording_not_python_keywords(tmp_path, capsys):
    odd = tmp_path / "run.xyz"
    odd.write_bytes(b"\x00" * 64)
    code, _, err = _out(capsys, "info", str(odd))
    assert code == 2 and "format=" not in err and "rename the file" in err
    bad = tmp_path / "bad.rrng"
    bad.write_text(RRNG_TEXT.replace("Range1=6.8 7.2 Vol:0.01 Li:1", "Range1=6.8 7.2 Xq:1"))
    code, _, err = _out(capsys, "ranges", str(bad))
    assert code == 2 and "check_elements" not in err and "range file" in err


def test_manifest_without_specimens_is_invalid(tmp_path, capsys):
    manifest = tmp_path / "study.toml"
    manifest.write_text('[study]\nname = "x"\n[[samples]]\nname = "A"\ncycles = 0\n')
    code, _, err = _out(capsys, "study", "check", str(manifest))
    assert code == 2 and "no [[specimens]] entry" in err and "study init" in err


def test_info_on_a_text_file_says_text_not_cycling_csv(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    code, _, err = _out(capsys, "info", str(text))
    assert code == 2 and "CYCLING_CSV" not in err and "text" in err

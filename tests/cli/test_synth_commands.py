"""``liprobe synth specimen`` / ``synth presets``."""

from __future__ import annotations

import json

import numpy as np

from liprobe.cli import main
from liprobe.io import read_ions, read_ranges


def test_synth_specimen_writes_ions_and_ranges(tmp_path, capsys):
    out = tmp_path / "surface.epos"
    code = main(["synth", "specimen", "--preset", "ncm-300cycles-surface", "-o", str(out),
                 "--n-ions", "20000", "--seed", "3", "--truth", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    ions = read_ions(out)
    assert ions.n_ions == payload["n_ions"] == 20_000
    ranges = read_ranges(tmp_path / "surface.rrng")
    assert "Li" in ranges.ion_names and "O2" in ranges.ion_names
    assert (tmp_path / "surface.truth.json").is_file()
    # the surface specimen of 300 cycles: Li-depleted to ~0.03 per total metal
    assert abs(payload["true_ratios"]["Li"] - 0.03) < 0.01
    # same seed through the CLI, same bytes
    again = tmp_path / "again.epos"
    assert main(["synth", "specimen", "--preset", "ncm-300cycles-surface", "-o", str(again),
                 "--n-ions", "20000", "--seed", "3"]) == 0
    assert again.read_bytes() == out.read_bytes()
    assert np.array_equal(read_ions(again).mass_to_charge_da, ions.mass_to_charge_da)


def test_synth_no_overlaps_and_pos_output(tmp_path, capsys):
    out = tmp_path / "h.pos"
    assert main(["synth", "specimen", "-o", str(out), "--n-ions", "5000", "--no-overlaps"]) == 0
    text = capsys.readouterr().out
    assert "wrote" in text and "h.rrng" in text
    ranges = read_ranges(tmp_path / "h.rrng")
    assert "O2" not in ranges.ion_names
    assert out.stat().st_size == 16 * 5000


def test_synth_unknown_preset_is_one_error_line(tmp_path, capsys):
    code = main(["synth", "specimen", "--preset", "ncm-300cycle-surface", "-o",
                 str(tmp_path / "x.epos")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ncm-300cycles-surface" in err[0]
    assert not (tmp_path / "x.epos").exists()


def test_synth_presets_lists_table_rows(capsys):
    assert main(["synth", "presets", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)["presets"]
    assert payload["ncm-300cycles-30nm"]["published_li"] == 0.37
    assert payload["ncm-300cycles-30nm"]["specimen_depth_nm"] == 30.0

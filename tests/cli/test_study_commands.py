"""``liprobe study``: check, run, paper; manifest errors as one line with exit code 2."""

from __future__ import annotations

import json

import numpy as np

from liprobe.cli import main
from tests.conftest import PUBLISHED
from tests.study.tiny_study import write_tiny_study


def test_check_summarises_a_valid_study(tmp_path, capsys):
    path = write_tiny_study(tmp_path, np.random.default_rng(1))
    assert main(["study", "check", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_specimens"] == 16
    assert payload["replicates_by_sample_and_depth"]["NCM-300"]["surface"] == 2


def test_manifest_error_is_one_line_naming_the_place(tmp_path, capsys):
    path = write_tiny_study(tmp_path, np.random.default_rng(1), extra="[[samples]]\nnme = 'x'\n")
    assert main(["study", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    line = len(path.read_text().splitlines())
    assert f"study.toml, line {line}: [[samples]] #4: unknown key 'nme'; did you mean 'name'?" in err


def test_paper_prints_alpha_comparison_and_particle_integral(capsys):
    reference = PUBLISHED
    assert main(["study", "paper", "--reference", str(reference), "--model", "exponential",
                 "--model", "erf"]) == 0
    out = capsys.readouterr().out
    assert "Li 1.038  Ni 0.804  Co 0.149  Mn 0.048" in out
    assert "Growth law, depth ∝ N^α" in out and "95% CI" in out
    assert "alpha=0.5" in out and "alpha=1" in out
    assert "predicted Li" in out and "ICP 0.829" in out
    assert "logistic" not in out


def test_paper_rejects_an_unknown_shape(capsys):
    assert main(["study", "paper", "--model", "cubic"]) == 2
    assert "unknown gradient model 'cubic'" in capsys.readouterr().err


def test_run_writes_the_output_folder(tmp_path, capsys):
    path = write_tiny_study(tmp_path, np.random.default_rng(2))
    assert main(["study", "run", str(path), "-o", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "16 specimens analysed" in capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["study"]["n_specimens"] == 16


def test_run_quiet_prints_one_line(tmp_path, capsys):
    path = write_tiny_study(tmp_path, np.random.default_rng(2))
    assert main(["study", "run", str(path), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines() == [
        f"16 specimens analysed; results in {tmp_path / 'out'}"]
    assert (tmp_path / "out" / "tables" / "table2.csv").is_file()

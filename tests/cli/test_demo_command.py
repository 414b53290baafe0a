"""``liprobe demo``: generate (or reuse) the demo study, run it, write the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

from liprobe.cli import main
from liprobe.synth.example_study import study_is_complete


def test_demo_runs_study_writes_report_and_caches(tmp_path: Path, capsys) -> None:
    cache = tmp_path / "cache"
    args = ["demo", "--out", str(tmp_path / "out"), "--report", str(tmp_path / "report"),
            "--cache", str(cache), "--n-ions", "3000", "--quiet", "--specimen-groups", "1"]
    assert main(args) == 0
    text = capsys.readouterr().out
    index = tmp_path / "report" / "index.html"
    assert f"report: {index.resolve()}" in text
    assert "(generated," in text and re.search(r"Li \d+/14", text)
    html = index.read_text(encoding="utf-8")
    assert '<section id="growth">' in html and 'id="table-truth_recovery"' in html
    assert html.index('<section id="key-results">') < html.index('<section id="growth">')
    recovery = (tmp_path / "out" / "tables" / "truth_recovery.csv").read_text().splitlines()
    assert len(recovery) == 1 + 14 * 5  # header + (sample, depth) x element
    # the generated study is complete, carries its truth, and is what a rerun reuses
    truth = json.loads((cache / "truth.json").read_text())
    assert truth["complete"] and truth["n_ions_per_specimen"] == 3000
    assert len(truth["specimens"]) == 70
    assert study_is_complete(cache, scale="demo", seed=2021, n_ions=3000)
    assert not study_is_complete(cache, scale="demo", seed=2022, n_ions=3000)
    assert not study_is_complete(cache, scale="demo", seed=2021, n_ions=40_000)

"""``liprobe study init`` -> edit -> ``study check`` -> ``study run --report``, from a folder
of files written by ``liprobe synth`` (no manifest), and ``liprobe report``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from liprobe.cli import main

#: (preset, file stem, depth to write in place of the TODO): names say nothing of depth.
FILES = (("ncm-pristine", "needle_a", "bulk"), ("ncm-300cycles-surface", "needle_b", "surface"),
         ("ncm-300cycles-30nm", "needle_c", "30 nm"), ("ncm-300cycles-350nm", "needle_d",
                                                        "350 nm"))


def _synth_folder(root: Path) -> Path:
    folder = root / "my-study"
    for i, (preset, stem, _) in enumerate(FILES):
        assert main(["synth", "specimen", "-p", preset, "-o", str(folder / f"{stem}.epos"),
                     "--n-ions", "120000", "--seed", str(i)]) == 0
    return folder


def _fill_todos(manifest: Path) -> None:
    text = manifest.read_text(encoding="utf-8")
    depths = {stem: depth for _, stem, depth in FILES}
    blocks = text.split("[[specimens]]")
    for k in range(1, len(blocks)):
        stem = re.search(r'name = "([^"]+)"', blocks[k])[1]
        blocks[k] = blocks[k].replace('depth = "TODO"', f'depth = "{depths[stem]}"', 1)
    text = "[[specimens]]".join(blocks).replace('cycles = "TODO"', "cycles = 300")
    manifest.write_text(text, encoding="utf-8")


def build_synth_study_report(root: Path, capsys=None) -> Path:
    """synth files -> study init -> fill the TODOs -> study run --report; return index.html."""
    folder = _synth_folder(root)
    assert main(["study", "init", str(folder)]) == 0
    _fill_todos(folder / "study.toml")
    assert main(["study", "check", str(folder / "study.toml")]) == 0
    report = root / "report"
    assert main(["study", "run", str(folder / "study.toml"), "-o", str(root / "results"),
                 "--report", str(report), "--quiet"]) == 0
    return report / "index.html"


def test_init_writes_todos_that_check_explains(tmp_path, capsys):
    folder = _synth_folder(tmp_path)
    capsys.readouterr()
    assert main(["study", "init", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "4 APT specimens" in out and "4 range files" in out
    text = (folder / "study.toml").read_text(encoding="utf-8")
    # each specimen found with its own range file (same stem, as liprobe synth writes them)
    for _, stem, _ in FILES:
        assert f'apt = "{stem}.epos"' in text and f'ranges = "{stem}.rrng"' in text
    assert text.count('depth = "TODO"') == 4 and 'cycles = "TODO"' in text
    code = main(["study", "check", str(folder / "study.toml")])
    out, err = capsys.readouterr()
    assert code == 2
    assert "5 value(s) still TODO" in out
    assert re.search(r"line \d+: \[\[specimens\]\] #1 depth: depth below the particle surface",
                     out)
    assert "line" in err and "fill them in" in err
    assert main(["study", "init", str(folder)]) == 2  # exists: needs --force
    assert "--force" in capsys.readouterr().err


def test_init_infers_depths_and_cycles_from_names(tmp_path, capsys):
    folder = tmp_path / "named"
    for i, (preset, name) in enumerate((("ncm-pristine", "ncm_pristine_bulk"),
                                        ("ncm-300cycles-30nm", "ncm300_0030nm_r1"))):
        assert main(["synth", "specimen", "-p", preset, "-o", str(folder / f"{name}.pos"),
                     "--n-ions", "2000", "--seed", str(i)]) == 0
    (folder / "icp.csv").write_text("specimen,cycles,li_wt_pct,ni_wt_pct\nA,0,7.0,44.0\n")
    (folder / "cell.csv").write_text("Cycle,Discharge Capacity (mAh)\n1,2.0\n2,1.9\n")
    assert main(["study", "init", str(folder)]) == 0
    text = (folder / "study.toml").read_text(encoding="utf-8")
    assert 'depth = "30 nm"' in text and 'depth = "bulk"' in text
    assert "cycles = 300" in text and "cycles = 0" in text
    assert '[icp]\nfile = "icp.csv"' in text
    assert 'file = "cell.csv"' in text and 'cycle = "Cycle"' in text
    assert 'discharge_capacity_mah = "Discharge Capacity (mAh)"' in text
    capsys.readouterr()
    assert main(["study", "check", str(folder / "study.toml")]) == 0


def test_init_on_a_folder_without_ion_files_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["study", "init", str(tmp_path / "empty")]) == 2
    assert "no APT ion file" in capsys.readouterr().err


def test_schema_command_prints_the_reference(capsys):
    assert main(["study", "schema"]) == 0
    out = capsys.readouterr().out
    assert "## `[[specimens]]`" in out and "`depth_nm`" in out


def test_schema_command_prints_the_results_reference(tmp_path, capsys):
    from liprobe.workflow.results_schema import results_markdown
    from liprobe.workflow.results_tables import RESULTS_SCHEMA

    assert main(["study", "schema", "--results", "-o", str(tmp_path / "results.md")]) == 0
    assert (tmp_path / "results.md").read_text() == results_markdown(RESULTS_SCHEMA) + "\n"
    capsys.readouterr()
    assert main(["study", "schema", "--results", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in payload["tables"]] == [t.name for t in RESULTS_SCHEMA.tables]


def test_report_command_needs_a_results_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path / "none"), "-o", str(tmp_path / "r")]) == 2
    assert "no such study folder" in capsys.readouterr().err

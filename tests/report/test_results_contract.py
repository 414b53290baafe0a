"""The report reads a results folder through its results-schema.json: a renamed table, a
removed column or summary key in a finished folder is an error naming the file; each
section lists the tables and keys the schema gives it; an absent optional table is shown.

The folders are copies of the small example study's output (the session fixture of
tests/report/conftest.py), altered and re-sealed (liprobe-complete.json rewritten) so that
only the schema check can catch the change.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from liprobe.errors import ResultsSchemaError
from liprobe.io.output_policy import COMPLETE_NAME, file_sha256
from liprobe.report.html import write_report
from liprobe.workflow.results_schema import SCHEMA_FILE, check_table, read_results_schema
from liprobe.workflow.results_tables import RESULTS_SCHEMA


@pytest.fixture(scope="module")
def finished(small_study_report) -> Path:
    """The study output folder the report fixture was written from."""
    return small_study_report.parent.parent / "out"


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(folder, target)
    return target


def _reseal(folder: Path) -> None:
    """Rewrite the completeness manifest so that it lists the altered files."""
    body = json.loads((folder / COMPLETE_NAME).read_text())
    body["files"] = {p.relative_to(folder).as_posix(): file_sha256(p)
                     for p in sorted(folder.rglob("*"))
                     if p.is_file() and p.name != COMPLETE_NAME}
    (folder / COMPLETE_NAME).write_text(json.dumps(body))


def _report(folder: Path, tmp_path: Path) -> Path:
    return write_report(folder, tmp_path / "report", with_specimens=False, max_haadf_images=0)


def test_a_renamed_table_makes_the_report_fail_naming_it(finished, tmp_path):
    out = _copy(finished, tmp_path)
    for suffix in (".csv", ".parquet"):
        (out / "tables" / f"table2{suffix}").rename(out / "tables" / f"table_2{suffix}")
    _reseal(out)
    with pytest.raises(ResultsSchemaError, match=r"table2\.csv: required table 'table2'.*"
                       r"is missing"):
        _report(out, tmp_path)


def test_a_removed_column_makes_the_report_fail_naming_it(finished, tmp_path):
    out = _copy(finished, tmp_path)
    path = out / "tables" / "gradient_fits.csv"
    pd.read_csv(path).drop(columns="half_recovery_depth_nm").to_csv(path, index=False)
    _reseal(out)
    with pytest.raises(ResultsSchemaError, match=r"gradient_fits\.csv: table 'gradient_fits' "
                       r"lacks the required column\(s\) 'half_recovery_depth_nm'"):
        _report(out, tmp_path)


def test_a_removed_summary_key_makes_the_report_fail_naming_it(finished, tmp_path):
    out = _copy(finished, tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    del summary["provenance"]
    (out / "summary.json").write_text(json.dumps(summary))
    _reseal(out)
    with pytest.raises(ResultsSchemaError, match=r"summary\.json: lacks the required key "
                       r"'provenance'"):
        _report(out, tmp_path)


def test_a_folder_without_its_schema_is_refused(finished, tmp_path):
    out = _copy(finished, tmp_path)
    (out / SCHEMA_FILE).unlink()
    _reseal(out)
    with pytest.raises(ResultsSchemaError, match=rf"{SCHEMA_FILE}: not found"):
        _report(out, tmp_path)


def test_the_folder_holds_the_schema_of_its_run_and_every_table_declared(finished):
    assert read_results_schema(finished) == RESULTS_SCHEMA
    for path in sorted((finished / "tables").glob("*.parquet")):
        check_table(pd.read_parquet(path), RESULTS_SCHEMA.table(path.stem), where=str(path))


def test_each_section_lists_what_it_draws_from_the_schema(small_study_report):
    text = small_study_report.read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)"', text)
    listed = dict(re.findall(r'id="sources-([^"]+)" data-tables="([^"]*)"', text))
    for ident in sections:
        tables = RESULTS_SCHEMA.tables_of(ident)
        keys = RESULTS_SCHEMA.summary_of(ident)
        if not tables and not keys:
            continue
        assert listed[ident].split() == [t.name for t in tables], ident
        body = text[text.index(f'<section id="{ident}"'):]
        body = body[:body.index("</section>")]
        for t in tables:
            if (small_study_report.parent.parent / "out" / "tables" / f"{t.name}.csv"
                    ).is_file():
                assert f'href="tables/{t.name}.csv"' in body, (ident, t.name)
                assert (small_study_report.parent / "tables" / f"{t.name}.csv").is_file()


def test_an_absent_optional_table_is_stated_not_silent(small_study_report):
    # the example study run (not the demo) writes no truth_recovery table
    text = small_study_report.read_text(encoding="utf-8")
    line = re.search(r'id="sources-depth-profiles".*?</p>', text)[0]
    assert "not in this run (optional): truth_recovery" in line

"""The results schema: declared once, checked when a table is written, written with the
results, round-tripping through JSON, and rendered as docs/results.md without drift.

The run-derived tests list what a real (tiny) study run wrote on disk and compare it with
the declaration, so a table or column added to the run but not to the schema, or declared
but never written, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liprobe.errors import ResultsSchemaError
from liprobe.workflow.assemble import write_table
from liprobe.workflow.results_schema import (
    SCHEMA_FILE,
    ColumnSpec,
    ResultsSchema,
    TableSpec,
    check_schema,
    check_summary,
    check_table,
    read_results_schema,
    results_markdown,
    units_in_name,
    write_results_schema,
)
from liprobe.workflow.results_tables import PAPER_RESULTS_SCHEMA, RESULTS_SCHEMA, SECTIONS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "results.md"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny study run (no HAADF, ICP or cycling: those tables are written empty)."""
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study
    from tests.study.tiny_study import write_tiny_study

    folder = tmp_path_factory.mktemp("schema-run")
    manifest = read_manifest(write_tiny_study(folder, np.random.default_rng(5)))
    run_study(manifest, folder / "out", progress=False)
    return folder / "out"


def test_both_schemas_are_consistent():
    check_schema(RESULTS_SCHEMA)
    check_schema(PAPER_RESULTS_SCHEMA)
    assert {t.section for t in RESULTS_SCHEMA.tables} <= {s for s, _ in SECTIONS}


def test_schema_round_trips_through_json(tmp_path):
    data = json.loads(json.dumps(RESULTS_SCHEMA.to_dict()))
    assert ResultsSchema.from_dict(data) == RESULTS_SCHEMA
    write_results_schema(tmp_path, PAPER_RESULTS_SCHEMA)
    assert read_results_schema(tmp_path) == PAPER_RESULTS_SCHEMA


def test_a_newer_or_foreign_schema_file_is_refused(tmp_path):
    data = RESULTS_SCHEMA.to_dict()
    (tmp_path / SCHEMA_FILE).write_text(json.dumps({**data, "version": data["version"] + 1}))
    with pytest.raises(ResultsSchemaError, match="newer than this liprobe"):
        read_results_schema(tmp_path)
    (tmp_path / SCHEMA_FILE).write_text(json.dumps({"tables": []}))
    with pytest.raises(ResultsSchemaError, match=f"{SCHEMA_FILE}: not a liprobe results"):
        read_results_schema(tmp_path)
    with pytest.raises(ResultsSchemaError, match="not found"):
        read_results_schema(tmp_path / "elsewhere")


def test_every_table_the_run_wrote_is_declared_and_every_required_one_written(run):
    written = {p.stem for p in (run / "tables").glob("*.parquet")}
    assert written == {p.stem for p in (run / "tables").glob("*.csv")}
    declared = {t.name for t in RESULTS_SCHEMA.tables}
    assert written <= declared, f"undeclared: {sorted(written - declared)}"
    required = {t.name for t in RESULTS_SCHEMA.tables if t.required}
    assert required <= written, f"declared required but not written: {required - written}"


def test_every_column_the_run_wrote_is_declared_with_its_dtype(run):
    for path in sorted((run / "tables").glob("*.parquet")):
        spec = RESULTS_SCHEMA.table(path.stem)
        frame = pd.read_parquet(path)
        for column in frame.columns:
            assert spec.column_for(column) is not None, f"{path.stem}.{column} undeclared"
        check_table(frame, spec, where=str(path))


def test_the_run_writes_its_schema_inside_the_completeness_manifest(run):
    files = json.loads((run / "liprobe-complete.json").read_text())["files"]
    assert SCHEMA_FILE in files
    assert read_results_schema(run) == RESULTS_SCHEMA
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary) == {k.name for k in RESULTS_SCHEMA.summary}
    check_summary(summary, RESULTS_SCHEMA, where="summary.json")


def test_an_undeclared_table_is_an_error_at_write_time(tmp_path):
    with pytest.raises(ResultsSchemaError, match=r"table 'table_2' is not declared.*"
                       r"results_tables\.py"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path, "table_2")
    assert not any(tmp_path.iterdir())


def test_an_undeclared_or_missing_column_is_an_error_at_write_time(tmp_path):
    frame = pd.DataFrame({"li_level": [0.5], "cycles": [100.0], "depth_nm": [30.0],
                          "depth_nm_ci_low": [20.0], "depth_nm_ci_high": [40.0],
                          "alpha": [0.5], "alpha_se": [0.1], "alpha_ci_low": [0.3],
                          "alpha_ci_high": [0.7]})
    write_table(frame, tmp_path, "growth_levels")  # as declared: written
    with pytest.raises(ResultsSchemaError, match=r"growth_levels\.csv: table 'growth_levels' "
                       r"has column\(s\) 'layer_thickness_nm' that the results schema does "
                       r"not declare; declare each as a ColumnSpec"):
        write_table(frame.assign(layer_thickness_nm=1.0), tmp_path / "x", "growth_levels")
    with pytest.raises(ResultsSchemaError, match="lacks the required column.*'depth_nm'"):
        write_table(frame.drop(columns="depth_nm"), tmp_path / "x", "growth_levels")
    with pytest.raises(ResultsSchemaError, match="'depth_nm' holds object values, declared "
                       "float"):
        write_table(frame.assign(depth_nm="30 nm"), tmp_path / "x", "growth_levels")
    assert not (tmp_path / "x").exists()


def test_an_empty_table_has_its_declared_columns(run):
    fits = pd.read_csv(run / "tables" / "haadf_windows.csv")
    assert len(fits) == 0
    assert list(fits.columns) == RESULTS_SCHEMA.table("haadf_windows").fixed_columns()


@pytest.mark.parametrize(("name", "units"), [
    ("depth_nm", ("nm",)), ("half_recovery_depth_nm_se", ("nm",)),
    ("specific_capacity_mah_g", ("mAh/g",)), ("discharge_capacity_mah", ("mAh",)),
    ("Li_wt_pct", ("wt%",)), ("mass_to_charge_da", ("Da",)), ("share_16.0da_O2_2+", ()),
    ("particle_radius_um", ("µm",)), ("fast_share", ()), ("n_atoms", ())])
def test_units_are_read_from_names(name, units):
    assert units_in_name(name) == units


@pytest.mark.parametrize(("column", "message"), [
    (ColumnSpec("depth", "nm", "float", "x"), "unit nm is not in its name"),
    (ColumnSpec("depth_nm", "µm", "float", "x"), "carries the unit nm but it is declared"),
    (ColumnSpec("depth_nm", "furlong", "float", "x"), "unknown unit 'furlong'"),
    (ColumnSpec("{isotope}_share", "1", "float", "x"), "unknown placeholder"),
    (ColumnSpec("depth_nm", "nm", "double", "x"), "unknown dtype 'double'"),
])
def test_a_declaration_whose_unit_and_name_disagree_is_refused(column, message):
    schema = ResultsSchema(1, SECTIONS, (TableSpec("t", "growth", "x", (column,)),), ())
    with pytest.raises(ResultsSchemaError, match=message):
        check_schema(schema)


def test_families_match_their_columns_only():
    spec = RESULTS_SCHEMA.table("specimens")
    assert spec.column_for("Li_sigma").name == "{element}_sigma"
    assert spec.column_for("share_16.0da_O2_2+").name == "share_{centre_da}da_{species}"
    assert spec.column_for("share_16.0da_O2_2+_sigma").name.endswith("_sigma")
    assert spec.column_for("Lithium_sigma") is None


def test_summary_keys_are_checked():
    summary = {k.name: None for k in RESULTS_SCHEMA.summary}
    with pytest.raises(ResultsSchemaError, match="summary.json: key 'study' is null"):
        check_summary(summary, RESULTS_SCHEMA, where="summary.json")
    with pytest.raises(ResultsSchemaError, match="'headline' not declared"):
        check_summary({"headline": 1}, RESULTS_SCHEMA, where="summary.json")
    with pytest.raises(ResultsSchemaError, match="lacks the required key 'study'"):
        check_summary({}, RESULTS_SCHEMA, where="summary.json")


def test_docs_page_is_the_generated_reference():
    """docs/results.md is what 'liprobe study schema --results -o docs/results.md' writes."""
    assert DOCS.is_file(), "run: liprobe study schema --results -o docs/results.md"
    assert DOCS.read_text(encoding="utf-8") == results_markdown(RESULTS_SCHEMA) + "\n", (
        "docs/results.md drifted from the code; regenerate it with "
        "'liprobe study schema --results -o docs/results.md'")

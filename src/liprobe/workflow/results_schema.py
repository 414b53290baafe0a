"""The contract between a study run and its report: every table and summary key, typed.

A study run (:func:`liprobe.workflow.pipeline.run_study`) writes its tables through
:func:`check_table` and its ``summary.json`` through :func:`check_summary`, against
:data:`liprobe.workflow.results_tables.RESULTS_SCHEMA`, and writes that schema into the
folder as ``results-schema.json`` (listed, like every file, in ``liprobe-complete.json``).
The report reads the schema back from the folder (:func:`read_results_schema`), checks the
folder against it (:func:`liprobe.workflow.results_folder.read_results_folder`) and takes
each section's tables from it. A table or column that the schema does not declare is an
error when it is written; a required table, column or key that a folder lacks is an error
when it is read; an optional one that is absent is a visible note of the report.

Column names may hold placeholders, ``{element}`` (``Li_mean``), ``{element_lower}``
(``li``), ``{centre_da}`` and ``{species}`` (``share_16.0da_O2_2+``): one declaration for a
family of columns (:data:`PLACEHOLDERS`). Units are written into names (``depth_nm``,
``specific_capacity_mah_g``); :func:`units_in_name` reads them back, and a column whose name
and unit disagree is an error. The reference page is :func:`results_markdown`
(``liprobe study schema --results``, ``docs/results.md``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from liprobe.errors import ResultsSchemaError

__all__ = ["ColumnSpec", "TableSpec", "SummaryKeySpec", "ResultsSchema", "SCHEMA_VERSION",
           "SCHEMA_FILE", "PLACEHOLDERS", "UNITS", "DTYPES", "units_in_name", "check_schema",
           "check_table", "check_summary", "write_results_schema", "read_results_schema",
           "results_markdown"]

#: Version of the schema format and content; a folder written by a newer one is refused.
SCHEMA_VERSION = 1
#: The schema file written into every results folder.
SCHEMA_FILE = "results-schema.json"
#: Where to declare a new table, column or summary key.
DECLARED_IN = "liprobe/workflow/results_tables.py"

#: Placeholders of column names and what each matches.
PLACEHOLDERS = {
    "element": (r"[A-Z][a-z]?", "an element symbol of the settings (Li, Ni, ...)"),
    "element_lower": (r"[a-z]{1,2}", "an element symbol in lower case (li, ni, ...)"),
    "centre_da": (r"[0-9]+(?:\.[0-9]+)?", "the centre of an overlapping peak, Da"),
    "species": (r"[A-Za-z0-9_+-]+", "an ion species, spaces as _ (O2_2+, Ni2+)"),
}
#: Every unit a column may carry: those with a dimension must appear in the column's name.
UNITS = {
    "": "none: text, label or flag",
    "1": "dimensionless: ratio to the denominator, fraction, statistic, p-value",
    "count": "number of ions, atoms, specimens or points",
    "cycle": "charge-discharge cycles",
    "nm": "nanometre",
    "µm": "micrometre",
    "Da": "dalton (mass-to-charge)",
    "mAh": "milliampere-hour",
    "mAh/g": "milliampere-hour per gram of active material",
    "wt%": "weight percent",
}
#: Unit tokens of column names (lower case, between underscores) and their units.
_NAME_UNITS = {("mah", "g"): "mAh/g", ("wt", "pct"): "wt%", ("nm",): "nm", ("um",): "µm",
               ("da",): "Da", ("mah",): "mAh"}
#: Column dtypes: what a written column may hold.
DTYPES = {"str": "text", "int": "integer", "float": "number (integers accepted)",
          "bool": "true/false"}
_SUMMARY_TYPES = {"object": dict, "array": list, "string": str, "number": (int, float),
                  "boolean": bool}


def units_in_name(name: str) -> tuple[str, ...]:
    """The units a column name carries (``"depth_nm_se"`` -> ``("nm",)``)."""
    parts = name.lower().split("_")
    found, i = [], 0
    while i < len(parts):
        for token, unit in _NAME_UNITS.items():
            if tuple(parts[i:i + len(token)]) == token:
                found.append(unit)
                i += len(token)
                break
        else:
            i += 1
    return tuple(found)


@dataclass(frozen=True)
class ColumnSpec:
    """One column (or, with placeholders in ``name``, a family of columns) of a table.

    ``required``: present in every written table (a family: at least one of its columns
    when the table has rows); optional columns depend on the data (e.g. the parameters of
    the profile shapes fitted).
    """

    name: str
    unit: str
    dtype: str
    description: str
    required: bool = True

    @property
    def is_family(self) -> bool:
        """Whether ``name`` holds a placeholder."""
        return "{" in self.name

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The regular expression of the column names this spec declares."""
        out, pos = [], 0
        for m in re.finditer(r"\{(\w+)\}", self.name):
            out.append(re.escape(self.name[pos:m.start()]))
            out.append(f"(?:{PLACEHOLDERS[m[1]][0]})")
            pos = m.end()
        out.append(re.escape(self.name[pos:]))
        return re.compile("".join(out))

    def matches(self, column: str) -> bool:
        """Whether ``column`` is this column or one of its family."""
        return column == self.name if not self.is_family else bool(
            self.pattern.fullmatch(column))


@dataclass(frozen=True)
class TableSpec:
    """One table of a results folder (``tables/<name>.csv`` and ``.parquet``).

    ``section``: the report section that shows it (``ResultsSchema.sections``);
    ``required``: written by every run (else it may be absent, e.g. written by the demo).
    """

    name: str
    section: str
    description: str
    columns: tuple[ColumnSpec, ...]
    required: bool = True

    def column_for(self, column: str) -> ColumnSpec | None:
        """The spec declaring ``column`` (exact names before families), or None."""
        for spec in self.columns:
            if not spec.is_family and spec.name == column:
                return spec
        return next((s for s in self.columns if s.is_family and s.matches(column)), None)

    def fixed_columns(self) -> list[str]:
        """The required columns without placeholders: the columns of an empty table."""
        return [c.name for c in self.columns if c.required and not c.is_family]


@dataclass(frozen=True)
class SummaryKeySpec:
    """One top-level key of ``summary.json``; ``keys``: sub-keys it always holds."""

    name: str
    type: str
    section: str
    description: str
    required: bool = True
    nullable: bool = False
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResultsSchema:
    """Every table and summary key of a results folder, and the report sections."""

    version: int
    sections: tuple[tuple[str, str], ...]
    tables: tuple[TableSpec, ...]
    summary: tuple[SummaryKeySpec, ...]

    def table(self, name: str) -> TableSpec:
        """The spec of table ``name``; an error naming the declared tables otherwise."""
        for spec in self.tables:
            if spec.name == name:
                return spec
        raise ResultsSchemaError(
            f"table {name!r} is not declared in the results schema (declared: "
            f"{', '.join(t.name for t in self.tables)}); declare it as a TableSpec in "
            f"{DECLARED_IN}")

    def tables_of(self, section: str) -> tuple[TableSpec, ...]:
        """The tables shown in report section ``section``."""
        return tuple(t for t in self.tables if t.section == section)

    def summary_of(self, section: str) -> tuple[SummaryKeySpec, ...]:
        """The summary keys drawn by report section ``section``."""
        return tuple(k for k in self.summary if k.section == section)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the content of ``results-schema.json``)."""
        return {"format": "liprobe results schema", "version": self.version,
                "sections": [{"id": i, "title": t} for i, t in self.sections],
                "tables": [{"name": t.name, "section": t.section, "description": t.description,
                            "required": t.required,
                            "columns": [{"name": c.name, "unit": c.unit, "dtype": c.dtype,
                                         "description": c.description,
                                         "required": c.required} for c in t.columns]}
                           for t in self.tables],
                "summary": [{"name": k.name, "type": k.type, "section": k.section,
                             "description": k.description, "required": k.required,
                             "nullable": k.nullable, "keys": list(k.keys)}
                            for k in self.summary]}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = SCHEMA_FILE) -> ResultsSchema:
        """The schema of :meth:`to_dict`; an error naming ``source`` if it is not one."""
        try:
            if data.get("format") != "liprobe results schema":
                raise KeyError("format")
            version = int(data["version"])
            if version > SCHEMA_VERSION:
                raise ResultsSchemaError(
                    f"{source}: results schema version {version} is newer than this "
                    f"liprobe's ({SCHEMA_VERSION}); upgrade liprobe to read this folder")
            tables = tuple(TableSpec(
                t["name"], t["section"], t["description"],
                tuple(ColumnSpec(c["name"], c["unit"], c["dtype"], c["description"],
                                 bool(c["required"])) for c in t["columns"]),
                bool(t["required"])) for t in data["tables"])
            summary = tuple(SummaryKeySpec(k["name"], k["type"], k["section"],
                                           k["description"], bool(k["required"]),
                                           bool(k["nullable"]), tuple(k["keys"]))
                            for k in data["summary"])
            sections = tuple((s["id"], s["title"]) for s in data["sections"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, ResultsSchemaError):
                raise
            raise ResultsSchemaError(f"{source}: not a liprobe results schema (bad or missing "
                                     f"entry {exc}); run the study again") from None
        return cls(version, sections, tables, summary)


def check_schema(schema: ResultsSchema) -> None:
    """Check the declaration itself: known sections, units, dtypes and placeholders,
    units consistent with names, no name declared twice."""
    sections = {s for s, _ in schema.sections}
    problems = []
    names = [t.name for t in schema.tables]
    problems += [f"table {n!r} is declared twice" for n in sorted(set(names))
                 if names.count(n) > 1]
    for t in schema.tables:
        if t.section not in sections:
            problems.append(f"table {t.name!r}: unknown section {t.section!r}")
        cols = [c.name for c in t.columns]
        problems += [f"table {t.name!r}: column {n!r} declared twice"
                     for n in sorted(set(cols)) if cols.count(n) > 1]
        for c in t.columns:
            where = f"table {t.name!r}, column {c.name!r}"
            if c.unit not in UNITS:
                problems.append(f"{where}: unknown unit {c.unit!r} (units: {', '.join(UNITS)})")
            if c.dtype not in DTYPES:
                problems.append(f"{where}: unknown dtype {c.dtype!r}")
            unknown = set(re.findall(r"\{(\w+)\}", c.name)) - set(PLACEHOLDERS)
            if unknown:
                problems.append(f"{where}: unknown placeholder(s) {sorted(unknown)}")
            elif (bad := _unit_problem(c.name, c.unit)):
                problems.append(f"{where}: {bad}")
    for k in schema.summary:
        if k.section not in sections:
            problems.append(f"summary key {k.name!r}: unknown section {k.section!r}")
        if k.type not in _SUMMARY_TYPES:
            problems.append(f"summary key {k.name!r}: unknown type {k.type!r}")
    if problems:
        raise ResultsSchemaError(f"the results schema in {DECLARED_IN} is inconsistent: "
                                 + "; ".join(problems))


def _unit_problem(name: str, unit: str) -> str:
    in_name = units_in_name(name)
    dimensional = unit not in ("", "1", "count", "cycle")
    if in_name and in_name[-1] != unit:
        return (f"its name carries the unit {in_name[-1]} but it is declared in "
                f"{unit or 'no unit'!r}; correct the name or the unit")
    if dimensional and not in_name:
        return (f"unit {unit} is not in its name; name it with the unit (e.g. "
                f"{name}_{unit.lower().replace('/', '_').replace('µ', 'u')})")
    return ""


def _dtype_ok(series: Any, dtype: str) -> bool:
    import pandas as pd

    values = series.dropna()
    if len(values) == 0:
        return True
    kind = series.dtype.kind
    if dtype == "float":
        return kind in "fiu"
    if dtype == "int":
        return kind in "iu"
    if dtype == "bool":
        return kind == "b" or (kind == "O" and all(isinstance(v, bool) for v in values))
    return kind in "OSU" and all(isinstance(v, str) for v in values) or isinstance(
        series.dtype, pd.StringDtype)


def check_table(frame: Any, spec: TableSpec, *, where: str, dtypes: bool = True) -> None:
    """Check a table against its spec: every column declared, with a unit consistent with
    its name and (``dtypes``) a value type of its dtype; every required column present.

    Raises
    ------
    ResultsSchemaError
        Naming ``where`` (the file), the table, the columns and the fix.
    """
    columns = [str(c) for c in frame.columns]
    undeclared = [c for c in columns if spec.column_for(c) is None]
    if undeclared:
        raise ResultsSchemaError(
            f"{where}: table {spec.name!r} has column(s) {', '.join(map(repr, undeclared))} "
            f"that the results schema does not declare; declare each as a ColumnSpec(name, "
            f"unit, dtype, description) of the {spec.name!r} TableSpec in {DECLARED_IN}")
    missing = [c for c in spec.fixed_columns() if c not in columns]
    if len(frame):
        missing += [c.name for c in spec.columns if c.required and c.is_family
                    and not any(c.matches(col) for col in columns)]
    if missing:
        raise ResultsSchemaError(
            f"{where}: table {spec.name!r} lacks the required column(s) "
            f"{', '.join(map(repr, missing))} (results schema version {SCHEMA_VERSION}); "
            "the folder was not written by this schema's study run: run the study again")
    for column in columns:
        col = spec.column_for(column)
        if col is None:  # not reached: every column is declared (checked above)
            continue
        if (bad := _unit_problem(column, col.unit)):
            raise ResultsSchemaError(f"{where}: table {spec.name!r}, column {column!r}: {bad} "
                                     f"in {DECLARED_IN}")
        if dtypes and not _dtype_ok(frame[column], col.dtype):
            raise ResultsSchemaError(
                f"{where}: table {spec.name!r}, column {column!r} holds {frame[column].dtype} "
                f"values, declared {col.dtype} ({DTYPES[col.dtype]}); convert the values where "
                f"the table is built or correct the dtype in {DECLARED_IN}")


def check_summary(summary: Any, schema: ResultsSchema, *, where: str) -> None:
    """Check ``summary.json`` content: every declared required key present with its type
    and sub-keys, no undeclared key.

    Raises
    ------
    ResultsSchemaError
        Naming ``where`` and the key.
    """
    if not isinstance(summary, dict):
        raise ResultsSchemaError(f"{where}: not a JSON object; run the study again")
    declared = {k.name: k for k in schema.summary}
    undeclared = [k for k in summary if k not in declared]
    if undeclared:
        raise ResultsSchemaError(
            f"{where}: key(s) {', '.join(map(repr, undeclared))} not declared in the results "
            f"schema; declare each as a SummaryKeySpec in {DECLARED_IN}")
    for key in schema.summary:
        if key.name not in summary:
            if key.required:
                raise ResultsSchemaError(
                    f"{where}: lacks the required key {key.name!r} ({key.description}); the "
                    "folder was not written by this schema's study run: run the study again")
            continue
        value = summary[key.name]
        if value is None:
            if key.nullable:
                continue
            raise ResultsSchemaError(f"{where}: key {key.name!r} is null; declared a "
                                     f"{key.type} (not nullable)")
        kind = _SUMMARY_TYPES[key.type]
        if not isinstance(value, kind) or (key.type == "number" and isinstance(value, bool)):
            raise ResultsSchemaError(f"{where}: key {key.name!r} holds a "
                                     f"{type(value).__name__}, declared a {key.type}")
        lacking = [k for k in key.keys if k not in value]
        if lacking:
            raise ResultsSchemaError(f"{where}: key {key.name!r} lacks the sub-key(s) "
                                     f"{', '.join(map(repr, lacking))}; run the study again")


def write_results_schema(folder: Path, schema: ResultsSchema) -> Path:
    """Write ``folder/results-schema.json`` (atomically) after checking the schema."""
    from liprobe.io.atomic import atomic_path

    check_schema(schema)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SCHEMA_FILE
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(schema.to_dict(), indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    return target


def read_results_schema(folder: Path) -> ResultsSchema:
    """The schema a results folder was written with.

    Raises
    ------
    ResultsSchemaError
        No ``results-schema.json`` (not a study results folder, or written before the
        schema), an unreadable one, or one of a newer liprobe.
    """
    path = Path(folder) / SCHEMA_FILE
    if not path.is_file():
        raise ResultsSchemaError(
            f"{path}: not found; {folder} is not a folder written by 'liprobe study run' "
            "(or it was written by a liprobe without a results schema): run the study again")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsSchemaError(f"{path}: unreadable ({exc}); run the study again") from None
    return ResultsSchema.from_dict(data, source=str(path))


def results_markdown(schema: ResultsSchema) -> str:
    """The results reference page (Markdown), generated from ``schema``."""
    out = ["# Study results reference", "",
           "<!-- generated by `liprobe study schema --results` from "
           "liprobe.workflow.results_tables; do not edit by hand "
           "(tests/workflow/test_results_schema.py fails on drift) -->", "",
           f"Results schema version {schema.version}. `liprobe study run` writes every table "
           "below as `tables/<name>.csv` and `.parquet`, the key results as `summary.json`, "
           f"and this schema as `{SCHEMA_FILE}`; `liprobe-complete.json` lists every file "
           "with its SHA-256. The report reads the schema back: a required table, column or "
           "key that is missing is an error naming the file; an optional one that is absent "
           "is a note in the report. Placeholders in column names: "
           + "; ".join(f"`{{{k}}}` {v[1]}" for k, v in PLACEHOLDERS.items()) + ".", ""]
    for ident, title in schema.sections:
        tables, keys = schema.tables_of(ident), schema.summary_of(ident)
        if not tables and not keys:
            continue
        out += [f"## {title} (`#{ident}`)", ""]
        for t in tables:
            need = "" if t.required else " (optional)"
            out += [f"### `tables/{t.name}`{need}", "", t.description, "",
                    "| column | unit | type | meaning |", "|---|---|---|---|"]
            for c in t.columns:
                opt = "" if c.required else " (optional)"
                out.append(f"| `{c.name}`{opt} | {c.unit} | {c.dtype} | {c.description} |")
            out.append("")
        if keys:
            out += ["`summary.json` keys:", "", "| key | type | meaning |", "|---|---|---|"]
            for k in keys:
                kind = k.type + (" or null" if k.nullable else "")
                sub = f" (holds {', '.join(f'`{s}`' for s in k.keys)})" if k.keys else ""
                opt = "" if k.required else " (optional)"
                out.append(f"| `{k.name}`{opt} | {kind} | {k.description}{sub} |")
            out.append("")
    return "\n".join(out).rstrip("\n")

"""Read a study results folder through the schema it was written with.

:func:`read_results_folder` is what a reader of a results folder (the report) calls after
:func:`liprobe.io.output_policy.verify_output_folder`: it reads ``results-schema.json``, then
``summary.json`` and every declared table, and checks each against its declaration. A
required table, column or key that is missing is a
:class:`~liprobe.errors.ResultsSchemaError` naming the file and what is missing; an optional
table that is absent, or a table file the schema does not declare, is a note to show.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liprobe.errors import ResultsSchemaError
from liprobe.workflow.results_schema import (
    ResultsSchema,
    check_schema,
    check_summary,
    check_table,
    read_results_schema,
)

__all__ = ["ResultsFolder", "read_results_folder"]


@dataclass(frozen=True)
class ResultsFolder:
    """A checked results folder: its schema, tables (by name), summary and notes.

    ``absent``: the optional tables of the schema this folder does not hold.
    """

    path: Path
    schema: ResultsSchema
    tables: dict[str, Any]
    summary: dict[str, Any]
    absent: tuple[str, ...]
    notes: tuple[str, ...]

    def table_path(self, name: str) -> Path:
        """Where table ``name`` lies (CSV)."""
        return self.path / "tables" / f"{name}.csv"


def _read_csv(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as exc:
        raise ResultsSchemaError(f"{path}: unreadable table ({exc}); run the study "
                                 "again") from None


def read_results_folder(folder: str | os.PathLike) -> ResultsFolder:
    """Read and check every table and summary key a results folder's schema declares.

    Raises
    ------
    ResultsSchemaError
        No or an unreadable ``results-schema.json``; ``summary.json`` missing, unreadable,
        or lacking a required key; a required table missing; a table lacking a required
        column or holding an undeclared one. The message names the file.
    """
    folder = Path(folder)
    schema = read_results_schema(folder)
    check_schema(schema)
    summary: dict[str, Any] = {}
    summary_path = folder / "summary.json"
    if schema.summary:
        if not summary_path.is_file():
            raise ResultsSchemaError(f"{summary_path}: not found (the results schema declares "
                                     f"{len(schema.summary)} summary keys); run the study "
                                     "again")
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResultsSchemaError(f"{summary_path}: unreadable ({exc}); run the study "
                                     "again") from None
        check_summary(summary, schema, where=str(summary_path))
    tables: dict[str, Any] = {}
    absent, notes = [], []
    for spec in schema.tables:
        path = folder / "tables" / f"{spec.name}.csv"
        if not path.is_file():
            if spec.required:
                raise ResultsSchemaError(
                    f"{path}: required table {spec.name!r} ({spec.description}) is missing "
                    f"from the folder; its {folder / 'results-schema.json'} declares it. A "
                    "renamed or removed table: run the study again")
            absent.append(spec.name)
            continue
        frame = _read_csv(path)
        # CSV does not keep dtypes: names, units and presence are checked
        check_table(frame, spec, where=str(path), dtypes=False)
        tables[spec.name] = frame
    declared = {t.name for t in schema.tables}
    extra = sorted(p.name for p in (folder / "tables").glob("*.csv") if p.stem not in declared)
    if extra:
        notes.append(f"table file(s) {', '.join(extra)} in {folder / 'tables'} are not declared "
                     "in the folder's results-schema.json and are not shown")
    return ResultsFolder(folder, schema, tables, summary, tuple(absent), tuple(notes))

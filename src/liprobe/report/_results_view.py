"""The report's view of a checked results folder: tables by their schema declaration, and
what each section draws from the schema (:mod:`liprobe.workflow.results_schema`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from liprobe.report._html_parts import escape, render_data_table, render_note

__all__ = ["table_html", "sources_html"]


def table_html(results: Any, name: str, caption: str | None = None,
               columns: Sequence[str] | None = None, collapse_over: int = 15) -> str:
    """Table ``name`` of ``results`` (a :class:`~liprobe.workflow.results_folder.ResultsFolder`)
    as HTML, captioned by its declaration unless ``caption``; an optional table the folder
    lacks is a visible note. A name the schema does not declare is an error (a report bug)."""
    spec = results.schema.table(name)
    caption = caption or spec.description
    frame = results.tables.get(name)
    if frame is None:
        return render_note(f"{caption}: not in this run (optional table tables/{name}.csv: "
                           f"{spec.description})")
    return render_data_table(frame, table_id=f"table-{name}", caption=caption,
                             download=f"tables/{name}.csv", columns=columns,
                             collapse_over=collapse_over)


def sources_html(results: Any, section: str, *, also: Sequence[str] = ()) -> str:
    """The tables and summary keys the schema assigns to report section ``section``: one
    line with a download link per table, absent optional tables named; ``also``: tables of
    other sections the section draws on (each must be declared)."""
    if results is None:
        return ""
    specs, keys = results.schema.tables_of(section), results.schema.summary_of(section)
    others = [results.schema.table(name) for name in also]
    if not specs and not keys and not others:
        return ""
    parts = []
    present = [t for t in specs if t.name in results.tables]
    if present:
        parts.append("tables " + ", ".join(
            f'<a href="tables/{escape(t.name)}.csv" download title="{escape(t.description)}">'
            f"{escape(t.name)}</a>" for t in present))
    absent = [t.name for t in specs if t.name not in results.tables]
    if absent:
        parts.append("not in this run (optional): " + ", ".join(escape(n) for n in absent))
    if keys:
        parts.append("summary.json " + ", ".join(escape(k.name) for k in keys))
    if others:
        parts.append("and, from the sections below, " + ", ".join(
            f"{escape(t.name)} ({escape(t.section)})" for t in others))
    return (f'<p class="muted sources" id="sources-{escape(section)}" '
            f'data-tables="{escape(" ".join(t.name for t in specs))}" '
            f'data-also="{escape(" ".join(t.name for t in others))}" '
            f'data-summary-keys="{escape(" ".join(k.name for k in keys))}">'
            f"Drawn from the results schema: {'; '.join(parts)}.</p>")

"""The study report: one self-contained HTML file plus its tables and figures.

:func:`write_report` reads a study output folder (written by
:func:`liprobe.study.pipeline.run_study`)::

    study_dir/
      tables/<name>.csv    (and .parquet)
      figures/<name>.png   (and/or .svg)
      summary.json         headline numbers, QC warnings, provenance

and writes ``out_dir/index.html`` (figures embedded as base64 PNG or inline SVG, tables as
HTML, styles inline, no external URL: it works offline and can be mailed as one file),
with copies of the tables and figures in ``out_dir/tables`` and ``out_dir/figures``.

Sections follow the argument of Chae et al. (Nat. Commun., "Evolution and expansion of Li
concentration gradient during charge-discharge cycling"): capacity fade, ICP-AES, the
Table 2 analogue, Li and each element vs depth (Fig. 1c-d), within-specimen profiles,
frequency distribution analysis, HAADF disorder and phase vs depth, Li vs disorder,
gradient fits and the growth law, QC warnings, provenance. Each section has a stable
``id``; an input that is missing gives a visible "not available" note in its section,
never a crash.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from liprobe.errors import MissingFileError, ParameterError
from liprobe.report._html_parts import (
    CSS,
    escape,
    render_figure,
    render_list,
    render_mapping,
    render_note,
    render_table,
)
from liprobe.report._sections import REPORT_SECTIONS, ReportSection, assign_to_sections
from liprobe.report._statements import growth_law_statement, li_site_model_statement
from liprobe.report._table_figures import draw_fallback_figures

__all__ = ["ReportSection", "REPORT_SECTIONS", "write_report", "growth_law_statement"]


def _read_table(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path)


def _collect(study_dir: Path) -> tuple[dict[str, Path], dict[str, tuple[Path | None, Path | None]]]:
    tables: dict[str, Path] = {}
    tables_dir = study_dir / "tables"
    if tables_dir.is_dir():
        for path in sorted(tables_dir.glob("*.csv")):
            tables[path.stem] = path
    figures: dict[str, tuple[Path | None, Path | None]] = {}
    figures_dir = study_dir / "figures"
    if figures_dir.is_dir():
        stems = sorted({p.stem for p in figures_dir.iterdir() if p.suffix in (".png", ".svg")})
        for stem in stems:
            png, svg = figures_dir / f"{stem}.png", figures_dir / f"{stem}.svg"
            figures[stem] = (png if png.is_file() else None, svg if svg.is_file() else None)
    return tables, figures


def _copy_outputs(study_dir: Path, out_dir: Path) -> None:
    if study_dir.resolve() == out_dir.resolve():
        return
    for sub, suffixes in (("tables", (".csv", ".parquet")), ("figures", (".png", ".svg"))):
        source = study_dir / sub
        if not source.is_dir():
            continue
        target = out_dir / sub
        target.mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():
            if path.suffix in suffixes and path.is_file():
                shutil.copy2(path, target / path.name)
    if (study_dir / "summary.json").is_file():
        shutil.copy2(study_dir / "summary.json", out_dir / "summary.json")


def _section_body(section: ReportSection, summary: Mapping[str, Any], tables: dict[str, Path],
                  figures: dict[str, tuple[Path | None, Path | None]], table_names: list[str],
                  figure_names: list[str], summary_note: str | None) -> str:
    parts = [f'<p class="muted">{escape(section.intro)}</p>']
    if section.id == "growth-law":
        statement = growth_law_statement(summary)
        parts.append(f'<p class="headline" id="growth-law-statement">{escape(statement)}</p>'
                     if statement else render_note(
                         "Growth law not available: summary.json holds no growth exponent "
                         "alpha (the study needs at least three cycle counts with a fitted "
                         "depleted depth)."))
    if section.id == "li-vs-f":
        model = summary.get("li_site_model")
        if isinstance(model, Mapping) and model.get("k") is not None:
            statement = escape(li_site_model_statement(model))
            parts.append(f'<p class="headline" id="li-site-model">{statement}</p>')
    if section.id == "qc":
        warnings = summary.get("qc_warnings", summary.get("warnings"))
        if warnings is None:
            parts.append(render_note("QC warnings not available: " + (
                summary_note or "summary.json has no 'qc_warnings' entry.")))
        elif len(warnings) == 0:
            parts.append('<p class="headline" id="qc-none">No QC warnings.</p>')
        else:
            shown = [w if isinstance(w, str) else json.dumps(w, default=str, sort_keys=True)
                     for w in warnings]
            parts.append(f'<div id="qc-warnings">{render_list(shown, css_class="warning")}</div>')
        notes = summary.get("notes")
        if isinstance(notes, list) and notes:
            parts.append('<h3>Analysis notes</h3><ul id="analysis-notes">'
                         + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    if section.id == "provenance":
        provenance = summary.get("provenance")
        if not isinstance(provenance, Mapping):
            parts.append(render_note("Provenance not available: " + (
                summary_note or "summary.json has no 'provenance' entry.")))
        else:
            for key, value in provenance.items():
                parts.append(f"<h3>{escape(key)}</h3>")
                parts.append(render_mapping(value, dl_id=f"provenance-{key}")
                             if isinstance(value, Mapping) else
                             f"<p>{escape(json.dumps(value, default=str))}</p>")
    for name in figure_names:
        png, svg = figures[name]
        parts.append(render_figure(png, svg, figure_id=f"figure-{name}",
                                   caption=name.replace("_", " ")))
    for name in table_names:
        try:
            frame = _read_table(tables[name])
        except Exception as exc:  # noqa: BLE001 - a broken table must not sink the report
            parts.append(render_note(f"table {name} not available: {tables[name]} could not "
                                     f"be read ({exc.__class__.__name__}: {exc})"))
            continue
        parts.append(render_table(frame, table_id=f"table-{name}",
                                  caption=f"{name.replace('_', ' ')} ({name}.csv)"))
        if frame.shape[0] == 0:
            parts.append(render_note(f"table {name} has no rows: the study had no data for "
                                     "this step (see the notes and QC sections)."))
    has_content = table_names or figure_names or section.id in ("growth-law", "qc", "provenance")
    if not has_content:
        if section.id == "other-results":
            return ""
        parts.append(render_note(
            f"{section.title} not available: the study folder has no table or figure matching "
            f"{', '.join(section.tables + section.figures) or 'this section'} (the inputs for "
            "this step were missing or the step was not run)."))
    return "".join(parts)


def write_report(study_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                 title: str = "liprobe study report") -> Path:
    """Render a study output folder as one self-contained HTML report.

    Parameters
    ----------
    study_dir : path-like
        Folder written by the study pipeline (``tables/``, ``figures/``, ``summary.json``).
    out_dir : path-like
        Folder for ``index.html`` and copies of the tables and figures (created).
    title : str, optional
        Page title.

    Returns
    -------
    Path
        The path of ``index.html``.

    Raises
    ------
    MissingFileError
        ``study_dir`` does not exist.
    ParameterError
        ``out_dir`` is an existing file.
    IncompleteOutputError
        ``study_dir`` is incomplete (a killed or running study), altered since its run, or
        holds files its run did not write
        (:func:`liprobe.io._output_policy.verify_output_folder`).

    Examples
    --------
    >>> write_report("study_output", "report")  # doctest: +SKIP
    PosixPath('report/index.html')
    """
    study_dir, out_dir = Path(study_dir), Path(out_dir)
    if not study_dir.is_dir():
        raise MissingFileError(f"{study_dir}: no such study folder; run 'liprobe study run' first")
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"{out_dir}: exists and is not a folder; choose another --out")
    from liprobe.io._output_policy import verify_output_folder

    # a folder marked incomplete, altered since its run, or holding files its run did not
    # write is refused: no stale or mixed content reaches a report
    verify_output_folder(study_dir, subfolders=("tables", "figures"))
    summary: dict[str, Any] = {}
    summary_note = None
    summary_path = study_dir / "summary.json"
    if summary_path.is_file():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            summary_note = f"summary.json could not be read ({exc}); headline numbers missing"
    else:
        summary_note = f"{summary_path} not found; headline numbers, QC and provenance missing"
    tables, figures = _collect(study_dir)
    placed_tables = assign_to_sections(list(tables), "tables")
    placed_figures = assign_to_sections(list(figures), "figures")
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_outputs(study_dir, out_dir)
    drawn = draw_fallback_figures(tables, out_dir / "figures", placed_figures)
    for name, section in drawn.items():
        figures[name] = (out_dir / "figures" / f"{name}.png", None)
        placed_figures[section].append(name)

    body = [f"<h1>{escape(title)}</h1>",
            f'<p class="muted">Study folder: {escape(study_dir.name)}. Generated by liprobe '
            f'{escape(_version())}.</p>']
    study = summary.get("study")
    if isinstance(study, Mapping) and study:
        body.append('<section id="study"><h2>Study</h2>'
                    + render_mapping(study, dl_id="study-facts") + "</section>")
    headline = summary.get("headline")
    if isinstance(headline, Mapping) and headline:
        body.append('<section id="headline"><h2>Headline numbers</h2>'
                    + render_mapping(headline, dl_id="headline-numbers") + "</section>")
    elif summary_note:
        body.append(render_note(summary_note))
    toc, sections = [], []
    for section in REPORT_SECTIONS:
        content = _section_body(section, summary, tables, figures,
                                placed_tables[section.id], placed_figures[section.id],
                                summary_note)
        if not content:
            continue
        toc.append(f'<li><a href="#{section.id}">{escape(section.title)}</a></li>')
        sections.append(f'<section id="{section.id}"><h2>{escape(section.title)}</h2>'
                        f"{content}</section>")
    body.append(f"<nav><ol>{''.join(toc)}</ol></nav>")
    body.extend(sections)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")

    index = out_dir / "index.html"
    tmp = out_dir / ".index.html.part"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, index)
    return index


def _version() -> str:
    from liprobe import __version__

    return __version__

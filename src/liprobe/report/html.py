"""The study report: one self-contained HTML page that reads top-down.

:func:`write_report` reads a study output folder (written by
:func:`liprobe.workflow.pipeline.run_study`: ``tables/*.csv``, ``summary.json``) and, through
the manifest named in its provenance, the specimens' own files, and writes
``out_dir/index.html`` with copies of the tables beside it (``out_dir/tables``, the
download links of the collapsed tables). The page works offline: figures are embedded PNG,
the interactive 3-D atom maps use plotly.js inlined once in the page head.

Order (the paper's argument, Chae et al., Nat. Commun. 2021): key results (each claim
with its number, interval, verdict and caveat), Li and every element vs depth (Fig. 1c-d,
published values overlaid when the study is the published one), capacity and ICP-AES,
gradient depth and growth law, HAADF per image (Fig. 2c-e, 3b-c, 4), Li vs disorder,
then per specimen the atom maps (2-D and 3-D, Fig. 2b, 6), mass spectrum (Supp. 14),
within-specimen profile (Fig. 3a) and FDA (Supp. 7/12); quality control and provenance
last, collapsed. Every figure is a ``<figure data-kind=...>`` whose caption says what is
shown and what to conclude.

The folder is read through its own ``results-schema.json``
(:func:`liprobe.workflow.results_folder.read_results_folder`): a required table, column or
``summary.json`` key that is missing is an error naming the file; each section takes its
tables by name from the schema and ends with the list of tables and keys the schema assigns
to it (download links; optional tables not in the run are named there). Missing inputs of
the figures (a manifest or image not found) give a visible note, never a crash.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from liprobe.errors import LiprobeError, MissingFileError, ParameterError
from liprobe.report._html_parts import (
    CSS,
    details,
    escape,
    figure_html,
    render_data_table,
    render_mapping,
    render_note,
)
from liprobe.report._results_view import sources_html, table_html
from liprobe.report._statements import growth_law_statement, li_site_model_statement
from liprobe.report.canvas import png_base64

__all__ = ["write_report", "growth_law_statement", "li_site_model_statement", "FIGURE_KINDS"]

#: The data-kind of every figure the report can hold.
FIGURE_KINDS = ("atom-map", "atom-map-3d", "mass-spectrum", "specimen-profile",
                "fda-histogram", "haadf-image", "plane-profile", "haadf-windows", "li-vs-depth",
                "elements-vs-depth", "capacity", "li-vs-disorder", "growth", "haadf-depth",
                "profiles-overview", "proxigram", "detector-map", "voltage-curve",
                "correlation-histogram", "concentration-map", "isosurface", "clusters",
                "nn-distribution")
_PAPER_CYCLES = {0, 2, 100, 300}


class _Page:
    """Collects figures with unique ids; renders matplotlib figures as embedded PNG."""

    def __init__(self, dpi: int) -> None:
        self.dpi = dpi
        self.count = 0
        self.has_3d = False

    def figure(self, kind: str, fig: Any, caption: str) -> str:
        self.count += 1
        ident = f"fig-{self.count}-{kind}"
        if isinstance(fig, str):
            self.has_3d = self.has_3d or kind in ("atom-map-3d", "isosurface")
            body = f'<div class="report-figure plotly-figure">{fig}</div>'
        else:
            body = (f'<img class="report-figure" alt="{escape(caption)}" '
                    f'src="data:image/png;base64,{png_base64(fig, dpi=self.dpi)}">')
        return figure_html(kind, body, caption, figure_id=ident)


def _relative(path: str, root: Path | None) -> str:
    if root is None:
        return Path(path).name
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _manifest_of(summary: Mapping[str, Any], manifest: Any) -> tuple[Any, str | None]:
    from liprobe.study.manifest import Manifest
    from liprobe.workflow.manifest_file import read_manifest

    if isinstance(manifest, Manifest):
        return manifest, None
    path = manifest or (summary.get("provenance") or {}).get("manifest")
    if not path:
        return None, "the study's manifest is not named in summary.json"
    try:
        return read_manifest(path), None
    except LiprobeError as exc:
        return None, f"the study's manifest could not be read ({exc})"


def _claims_html(claims: list[Any]) -> str:
    if not claims:
        return render_note("No key result available: the study tables hold no depth profile, "
                           "fit or HAADF result.")
    rows = "".join(
        f"<tr><td>{escape(c.claim)}</td><td>{escape(c.number)}</td><td>{escape(c.interval)}</td>"
        f'<td class="verdict-{c.verdict.replace(" ", "-")}">{escape(c.verdict)}</td>'
        f"<td>{escape(c.caveat)}</td></tr>" for c in claims)
    return ('<div class="table-wrap"><table id="key-results-table" class="claims">'
            "<thead><tr><th class=\"text\">claim</th><th class=\"text\">number</th>"
            "<th class=\"text\">95 % interval</th><th class=\"text\">verdict</th>"
            "<th class=\"text\">model adequacy / caveat</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")


#: Tables a section draws on beyond those the results schema assigns to it.
_ALSO_DRAWS = {"key-results": ("table2", "gradient_fits", "particle_integral", "haadf_windows"),
               "depth-profiles": ("specimens",), "specimens": ("profiles",)}


def _section(ident: str, title: str, parts: list[str], intro: str = "", *,
             results: Any = None) -> str:
    head = f'<p class="muted">{escape(intro)}</p>' if intro else ""
    return (f'<section id="{ident}"><h2>{escape(title)}</h2>{head}{"".join(parts)}'
            f"{sources_html(results, ident, also=_ALSO_DRAWS.get(ident, ()))}</section>")


def _bulk_li(table2: Any) -> float | None:
    import numpy as np

    if table2 is None or table2.empty or "Li_mean" not in table2:
        return None
    bulk = table2[~np.isfinite(table2["depth_nm"].to_numpy(np.float64))]
    if bulk.empty:
        return float(table2["Li_mean"].max())
    return float(bulk[bulk["cycles"] == bulk["cycles"].min()]["Li_mean"].mean())


def _specimen_sections(page: _Page, manifest: Any, tables: dict[str, Any], bulk: float | None,
                       *, with_3d: bool, progress: Callable[[int, int], None] | None,
                       max_groups: int | None = None) -> str:
    from liprobe.report.specimen_views import specimen_figures, specimen_view

    groups: dict[tuple[str, str], list[Any]] = {}
    for spec in manifest.specimens:
        groups.setdefault((spec.sample, spec.depth.label), []).append(spec)
    if max_groups is not None and len(groups) > max_groups:
        # the most-cycled surface first: where the phenomena are
        chosen = sorted(groups, key=lambda g: (-groups[g][0].cycles,
                                               groups[g][0].depth.depth_nm
                                               if math.isfinite(groups[g][0].depth.depth_nm)
                                               else math.inf))[:max_groups]
        groups = {g: groups[g] for g in groups if g in chosen}
    specimens = tables.get("specimens")
    parts = []
    for i, ((sample, label), specs) in enumerate(groups.items()):
        rep = max(specs, key=lambda s: s.apt.stat().st_size if s.apt.is_file() else 0)
        try:
            view = specimen_view(rep, manifest.settings, seed=manifest.settings.seed)
        except LiprobeError as exc:
            parts.append(render_note(f"specimen {rep.name}: figures not available ({exc})"))
            continue
        figures = "".join(page.figure(kind, fig, caption) for kind, fig, caption in
                          specimen_figures(view, bulk_li=bulk, with_3d=with_3d))
        from liprobe.report.detector_views import detector_note

        note = detector_note(view.detector, name=rep.name)
        figures += render_note(note) if note else ""
        others = [s.name for s in specs if s is not rep]
        rest = ""
        if others and specimens is not None:
            rows = specimens[specimens["specimen"].isin(others)]
            cols = ["specimen", "replicate", "n_ions", "Li", "Li_sigma", "Ni", "Co", "Mn", "O"]
            rest = details(f"the other {len(others)} specimen(s) at this depth",
                           render_data_table(rows, table_id=f"table-replicates-{i}",
                                             caption=f"{sample}, {label}: replicates",
                                             columns=cols, collapse_over=10_000)
                           + _replicate_profiles(page, tables, others, bulk))
        ident = "specimen-" + "".join(c if c.isalnum() else "-" for c in rep.name)
        lines = " · Li-rich line features found" if view.features is not None else ""
        parts.append(f'<div class="specimen" id="{ident}"><h3>{escape(sample)}, '
                     f"{escape(label)}: {escape(rep.name)}</h3><p class=\"muted\">"
                     f"{view.n_ions} ions; representative of {len(specs)} specimen(s) at this "
                     f"depth{lines}</p>{figures}{rest}</div>")
        if progress is not None:
            progress(i + 1, len(groups))
    return "".join(parts)


def _replicate_profiles(page: _Page, tables: dict[str, Any], names: list[str],
                        bulk: float | None) -> str:
    from liprobe.report.specimen_views import profile_overview

    drawn = profile_overview(tables.get("profiles"), tables.get("specimens"), bulk, names)
    return "" if drawn is None else page.figure("profiles-overview", *drawn)


def write_report(study_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                 title: str = "liprobe study report", manifest: Any = None,
                 with_specimens: bool = True, with_3d: bool = True, dpi: int = 80,
                 max_specimen_groups: int | None = None, max_haadf_images: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Render a study output folder as one self-contained HTML report.

    Parameters
    ----------
    study_dir : path-like
        Folder written by the study pipeline (``tables/``, ``summary.json``).
    out_dir : path-like
        Folder for ``index.html`` and copies of the tables (created).
    title : str, optional
        Page title.
    manifest : Manifest or path-like, optional
        The study's manifest (default: the one named in ``summary.json``); its specimen
        and image files give the per-specimen and per-image figures.
    with_specimens, with_3d : bool, optional
        Draw the per-specimen sections, and their interactive 3-D maps (needs plotly).
    dpi : int, optional
        Resolution of the embedded PNG figures.
    max_specimen_groups, max_haadf_images : int, optional
        Draw only this many (sample, depth) groups (the most-cycled, shallowest first) and
        HAADF images (shallowest first); default all. For quick looks at large studies.
    progress : callable, optional
        ``progress(done, total)`` after each specimen group.

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
        (:func:`liprobe.io.output_policy.verify_output_folder`).
    ResultsSchemaError
        ``study_dir`` has no ``results-schema.json``, or lacks a table, column or
        ``summary.json`` key that its schema requires
        (:func:`liprobe.workflow.results_folder.read_results_folder`); each section takes
        its tables from that schema and lists them.

    Examples
    --------
    >>> write_report("study_output", "report")  # doctest: +SKIP
    PosixPath('report/index.html')
    """
    from liprobe.report import report_figures as rf
    from liprobe.report._summary import key_results
    from liprobe.report.atom_map_3d import have_plotly, plotly_script

    study_dir, out_dir = Path(study_dir), Path(out_dir)
    if not study_dir.is_dir():
        raise MissingFileError(f"{study_dir}: no such study folder; run 'liprobe study run' first")
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"{out_dir}: exists and is not a folder; choose another --out")
    from liprobe.io.output_policy import verify_output_folder

    # a folder marked incomplete, altered since its run, or holding files its run did not
    # write is refused: no stale or mixed content reaches a report
    verify_output_folder(study_dir, subfolders=("tables", "figures"))
    from liprobe.workflow.results_folder import read_results_folder

    # the folder's own results-schema.json says which tables and keys it holds: a required
    # one missing is an error naming the file, an optional one absent a note in its section
    results = read_results_folder(study_dir)
    notes: list[str] = list(results.notes)
    section = functools.partial(_section, results=results)  # each lists its schema sources
    table = functools.partial(table_html, results)  # captioned, or noted when absent
    summary, tables = results.summary, results.tables
    summary_path = study_dir / "summary.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    if study_dir.resolve() != out_dir.resolve():
        (out_dir / "tables").mkdir(exist_ok=True)
        for name in tables:
            shutil.copy2(results.table_path(name), out_dir / "tables" / f"{name}.csv")
        if summary_path.is_file():
            shutil.copy2(summary_path, out_dir / "summary.json")
    parsed, manifest_note = _manifest_of(summary, manifest)
    if manifest_note:
        notes.append(manifest_note + ": per-specimen and per-image figures are missing")
    root = parsed.path.parent if parsed is not None else None
    with_3d = with_3d and have_plotly()
    page = _Page(dpi)
    table2 = tables.get("table2")
    cycles_present = set(int(c) for c in table2["cycles"]) if table2 is not None else set()
    published = (rf.published_points() if cycles_present and cycles_present <= _PAPER_CYCLES
                 and cycles_present & {100, 300} else None)
    bulk = _bulk_li(table2)
    cycles_of = (summary.get("study") or {}).get("samples") or {}

    sections = []
    claims = key_results(tables, summary)
    qc = summary.get("qc_warnings") or []
    sections.append(section("key-results", "Key results", [
        _claims_html(claims),
        f'<p class="muted">Verdicts: supported = the 95 % interval excludes the alternative; '
        f"not determined = it holds both; contradicted = it excludes the claim. "
        f"{len(qc)} quality-control warning(s), listed under Quality control.</p>"]))

    depth_parts = []
    for kind, drawn in (("li-vs-depth", rf.li_vs_depth(table2, fits=tables.get("gradient_fits"),
                                                        published=published)),
                        ("elements-vs-depth", rf.elements_vs_depth(table2, published=published))):
        if drawn is not None:
            depth_parts.append(page.figure(kind, *drawn))
    if tables.get("profiles") is not None and tables.get("specimens") is not None:
        drawn = __import__("liprobe.report.specimen_views", fromlist=["x"]).profile_overview(
            tables["profiles"], tables["specimens"], bulk, list(tables["specimens"]["specimen"]))
        if drawn is not None:
            depth_parts.append(page.figure("profiles-overview", *drawn))
    depth_parts.append(table("table2_layout", "Table 2 analogue: ratio to Ni+Co+Mn, "
                              "mean ± SD over the specimens at each depth"))
    depth_parts.append(table("table2", "Per depth, every statistic",
                              ["sample", "cycles", "depth_label", "n", "Li_mean", "Li_sd",
                               "Li_se", "Li_counting_se", "O_mean", "O_sd"], collapse_over=0))
    if "truth_recovery" in tables:  # optional: absent is noted in the section's sources
        depth_parts.append(table("truth_recovery", "Synthetic study: recovery of the "
                                  "generating truth", collapse_over=0))
    sections.append(section("depth-profiles", "Li and every element vs depth", depth_parts,
                             "Depth below the secondary-particle surface: surface at 0 (marked),"
                             " linear to 10 nm then logarithmic; bulk specimens at 'bulk'."))

    cell_parts = []
    drawn = rf.capacity(tables.get("cycling"), cycles_of=cycles_of)
    cell_parts.append(page.figure("capacity", *drawn) if drawn else render_note(
        "Capacity not available: the manifest names no [[cycling]] file."))
    cell_parts.append(table("icp", "ICP-AES: weight % and ratios to Ni+Co+Mn"))
    if published is not None:
        from liprobe.study.paper import published_tables

        table1 = published_tables()[0]
        cell_parts.append(render_data_table(table1, table_id="table-published-table1",
                                            caption="Published Table 1 (Chae et al. 2021)"))
    sections.append(section("capacity", "Capacity fade and bulk composition", cell_parts))

    growth_parts = []
    drawn = rf.growth(tables.get("gradient_fits"), summary,
                      definition=((summary.get("provenance") or {}).get("settings") or {}).get(
                          "depth_definition", "half_recovery"))
    if drawn is not None:
        growth_parts.append(page.figure("growth", *drawn))
    statement = growth_law_statement(summary)
    if statement:
        growth_parts.append('<p class="headline" id="growth-law-statement">'
                            f"{escape(statement)}</p>")
    growth_parts.append(table("gradient_fits", "Gradient fits per cycle count and shape",
                               ["cycles", "model", "aicc_rank", "n_points", "aicc",
                                "c_surface", "c_bulk", "half_recovery_depth_nm",
                                "half_recovery_depth_nm_se", "message"], collapse_over=0))
    growth_parts.append(table("growth_law", "Growth-law comparison (verdict in the key "
                               "results)", ["shape", "growth_model", "alpha", "aicc",
                                            "delta_aicc", "akaike_weight", "p_value"],
                               collapse_over=0))
    growth_parts.append(table("particle_integral", "Particle integral vs ICP-AES and "
                               "capacity", ["cycles", "model", "predicted_li", "predicted_li_se",
                                            "icp_li", "difference", "inventory_loss",
                                            "icp_inventory_loss", "capacity_loss"]))
    sections.append(section("growth", "Gradient depth and growth law", growth_parts))

    haadf_parts = []
    drawn = rf.haadf_vs_depth(tables.get("haadf_windows"))
    if drawn is not None:
        haadf_parts.append(page.figure("haadf-depth", *drawn))
    if parsed is not None:
        from liprobe.report.haadf_views import haadf_figures, haadf_images_of

        items = sorted(haadf_images_of(parsed), key=lambda it: it["offset"])
        items = items[:max_haadf_images] if max_haadf_images is not None else items
        for j, item in enumerate(items):
            try:
                name, figs = haadf_figures(item, seed=parsed.settings.seed, study_root=root)
            except LiprobeError as exc:
                haadf_parts.append(render_note(f"{item['image']}: not analysed ({exc})"))
                continue
            body = "".join(page.figure(kind, fig, caption) for kind, fig, caption in figs)
            haadf_parts.append(details(f"HAADF image {name}", body, open_=j == 0))
    if len(haadf_parts) == 0:
        haadf_parts.append(render_note("HAADF not available: the manifest names no image."))
    sections.append(section("haadf", "HAADF: cation disorder and phase per image", haadf_parts))

    dis_parts = []
    drawn = rf.li_vs_disorder(tables.get("li_vs_disorder_points"), summary.get("li_site_model"))
    dis_parts.append(page.figure("li-vs-disorder", *drawn) if drawn else render_note(
        "Li vs disorder not available: no HAADF depth matches an APT depth."))
    sections.append(section("li-vs-disorder", "Li vs structural disorder", dis_parts))

    if with_specimens and parsed is not None:
        body = _specimen_sections(page, parsed, tables, bulk, with_3d=with_3d,
                                  progress=progress, max_groups=max_specimen_groups)
        from liprobe.report.spatial_views import spatial_tables_html

        sections.append(section("specimens", "Specimens", [body, spatial_tables_html(tables)],
                                "One representative needle "
                                "per sample and depth (the largest); the others one click "
                                "away below it."))

    qc_parts = []
    if qc:
        items = "".join(f'<div class="warning">{escape(w)}</div>' for w in qc)
        qc_parts.append(details(f"{len(qc)} QC warning(s)", items, open_=len(qc) <= 5))
    else:
        qc_parts.append('<p class="headline" id="qc-none">No QC warnings.</p>')
    if summary.get("notes"):
        qc_parts.append('<h3>Analysis notes</h3><ul id="analysis-notes">'
                        + "".join(f"<li>{escape(n)}</li>" for n in summary["notes"]) + "</ul>")
    qc_parts.append(table("qc", "Quality checks per specimen",
                           ["specimen", "check", "verdict", "value", "message"], collapse_over=0))
    qc_parts.append(table("fda", "FDA per specimen and element",
                           ["specimen", "element", "chi2", "dof", "p_value", "mu"],
                           collapse_over=0))
    sections.append(section("qc", "Quality control", qc_parts))

    provenance = summary.get("provenance") or {}
    prov = []
    inputs = provenance.get("inputs") or {}
    if inputs:
        rows = {_relative(k, root): f"sha256 {v[:16]}…" for k, v in inputs.items()}
        prov.append(details(f"{len(rows)} input files (paths relative to the study folder)",
                            render_mapping(rows, dl_id="provenance-inputs")))
    for key in ("versions", "settings"):
        if isinstance(provenance.get(key), Mapping):
            prov.append(details(key, render_mapping(provenance[key], dl_id=f"provenance-{key}")))
    sections.append(section("provenance", "Provenance", prov or [render_note(
        "Provenance not available: summary.json has no 'provenance' entry.")]))

    study = summary.get("study") or {}
    toc = "".join(f'<li><a href="#{ident}">{escape(t)}</a></li>' for ident, t in (
        ("key-results", "Key results"), ("depth-profiles", "Li and elements vs depth"),
        ("capacity", "Capacity and ICP-AES"), ("growth", "Growth law"), ("haadf", "HAADF"),
        ("li-vs-disorder", "Li vs disorder"), ("specimens", "Specimens"),
        ("qc", "Quality control"), ("provenance", "Provenance")))
    header = (f"<h1>{escape(title)}</h1><p class=\"muted\">Study "
              f"{escape(study.get('name', study_dir.name))}: "
              f"{escape(study.get('description', ''))} "
              f"({study.get('n_specimens', '?')} specimens). liprobe {escape(_version())}."
              "</p>" + "".join(render_note(n) for n in notes))
    script = plotly_script() if page.has_3d else ""
    page_text = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 f"<title>{escape(title)}</title><style>{CSS}</style>{script}</head><body>"
                 f"{header}{sections[0]}<nav><ol>{toc}</ol></nav>"
                 + "\n".join(sections[1:]) + "</body></html>\n")
    index = out_dir / "index.html"
    tmp = out_dir / ".index.html.part"
    tmp.write_text(page_text, encoding="utf-8")
    os.replace(tmp, index)
    return index


def _version() -> str:
    from liprobe import __version__

    return __version__


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False

"""``liprobe study init``, ``liprobe study schema`` and ``liprobe report``: from a folder of
files to a manifest, and from study results to the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit

__all__ = ["register_study", "register", "explain_todos", "write_report_for"]


def explain_todos(manifest: Path) -> None:
    """Raise a ManifestError (after printing the list) while values are still "TODO"."""
    from liprobe.errors import ManifestError
    from liprobe.workflow.init_study import todo_items

    if not manifest.is_file():
        return
    items = todo_items(manifest.read_text(encoding="utf-8", errors="replace"))
    if not items:
        return
    typer.echo(f"{manifest}: {len(items)} value(s) still TODO:")
    for item in items:
        typer.echo(f"  line {item['line']}: {item['table']} {item['key']}: {item['what']}")
    raise ManifestError(f"{manifest}: {len(items)} value(s) still \"TODO\" (listed above, "
                        f"first at line {items[0]['line']}: {items[0]['table']} "
                        f"{items[0]['key']}); fill them in and run 'liprobe study check' again")


def write_report_for(results: Path, report: Path, *, title: str | None = None) -> Path:
    """Write the HTML report of a study results folder; return index.html."""
    from liprobe.report.html import write_report

    return write_report(results, report, title=title or f"liprobe study report: {results.name}")


def register_study(study: typer.Typer) -> None:
    """Add ``init`` and ``schema`` to the ``study`` group."""

    @study.command("init")
    def init(folder: Path = typer.Argument(..., help="Folder holding the study's files."),
             out: Path | None = typer.Option(None, "-o", "--out",
                                             help="Manifest to write (default FOLDER/study.toml)."),
             name: str | None = typer.Option(None, "--name", help="Study name."),
             force: bool = typer.Option(False, "--force", help="Replace an existing manifest."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Write a commented study.toml for the files in FOLDER (TODOs for what only you know)."""
        from liprobe.errors import OverwriteError
        from liprobe.workflow.init_study import manifest_template, scan_folder, todo_items

        target = out or folder / "study.toml"
        if target.exists() and not force:
            raise OverwriteError(f"{target}: already exists; pass --force to replace it or "
                                 "-o to write elsewhere")
        scan = scan_folder(folder)
        text = manifest_template(scan, name=name)
        if out is not None and out.resolve().parent != folder.resolve():
            from liprobe.errors import ParameterError

            raise ParameterError(f"-o {out}: write the manifest into {folder} (its paths are "
                                 "relative to the manifest's folder)")
        target.write_text(text, encoding="utf-8")
        todos = todo_items(text)
        payload: dict[str, Any] = {
            "manifest": str(target), "ion_files": len(scan.ions), "range_files": len(scan.ranges),
            "images": len(scan.images), "icp": list(scan.icp),
            "cycling": [p for p, _ in scan.cycling], "unrecognised": list(scan.unknown),
            "todo": len(todos)}
        lines = [f"wrote {target}: {len(scan.ions)} APT specimens, {len(scan.ranges)} range "
                 f"files, {len(scan.images)} images, {len(scan.icp)} ICP-AES and "
                 f"{len(scan.cycling)} cycler files",
                 f"{len(todos)} value(s) to fill in (marked TODO); then: liprobe study check "
                 f"{target}"]
        if scan.unknown:
            lines.append(f"not recognised: {', '.join(scan.unknown)}")
        emit(payload, as_json=as_json, text="\n".join(lines))

    @study.command("schema")
    def schema(as_json: bool = typer.Option(False, "--json", help="Print JSON."),
               out: Path | None = typer.Option(None, "-o", "--out",
                                               help="Write the Markdown reference here."),
               results: bool = typer.Option(False, "--results", help="The results reference "
                                            "instead: every table, column and summary.json "
                                            "key a study run writes.")) -> None:
        """The manifest reference: every table and key, type, default and meaning."""
        if results:
            from liprobe.workflow.results_schema import results_markdown
            from liprobe.workflow.results_tables import RESULTS_SCHEMA

            text, payload = results_markdown(RESULTS_SCHEMA), RESULTS_SCHEMA.to_dict()
        else:
            from liprobe.study.manifest_schema import schema_dict, schema_markdown

            text, payload = schema_markdown(), schema_dict()
        if out is not None:
            out.write_text(text + "\n", encoding="utf-8")
            typer.echo(f"wrote {out}")
            return
        emit(payload, as_json=as_json, text=text)


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""

    @app.command("report")
    def report(results: Path = typer.Argument(..., help="Folder written by 'liprobe study run'."),
               out: Path = typer.Option(..., "-o", "--out", help="Folder for the HTML report."),
               title: str | None = typer.Option(None, "--title", help="Page title."),
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Write the self-contained HTML report of a study results folder."""
        import time

        start = time.perf_counter()
        index = write_report_for(results, out, title=title)
        seconds = time.perf_counter() - start
        size_mb = index.stat().st_size / 1e6
        emit({"report": str(index), "size_mb": size_mb, "seconds": seconds}, as_json=as_json,
             text=f"report: {index} ({size_mb:.1f} MB, {seconds:.1f} s)")

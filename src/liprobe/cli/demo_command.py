"""``liprobe demo``: the whole method on a synthetic study, in one command.

Generates the demo example study (:func:`liprobe.synth.example_study.example_study`, 70
APT specimens shaped like Chae et al., HAADF images, ICP-AES, a fading cell) into a cache
folder, reused when complete; runs the study (:func:`liprobe.workflow.pipeline.run_study`)
into ``--out``; compares its Table 2 analogue with the generating truth; writes the
self-contained HTML report (:func:`liprobe.report.html.write_report`) to ``--report``
and prints where it is.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

__all__ = ["register", "run_demo"]

#: Where the generated demo study is kept between runs.
DEFAULT_CACHE = Path(".liprobe-cache") / "example-demo"


def _progress_bar(quiet: bool, description: str) -> Any:
    """A context manager yielding ``update(done, total)`` (rich on stderr; silent if quiet)."""
    import contextlib

    @contextlib.contextmanager
    def silent():
        yield lambda done, total: None

    if quiet:
        return silent()

    @contextlib.contextmanager
    def bar():
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task(description, total=None)
            yield lambda done, total: progress.update(task, completed=done, total=total)

    return bar()


def run_demo(out: Path, report: Path, *, cache: Path = DEFAULT_CACHE, seed: int = 2021,
             n_ions: int | None = None, workers: int | None = None, quiet: bool = False,
             regenerate: bool = False, specimen_groups: int | None = None) -> dict[str, Any]:
    """Generate (or reuse) the demo study, run it, write the report; return the facts."""
    import pandas as pd

    from liprobe.report.html import growth_law_statement, write_report
    from liprobe.report.study_figures import write_study_figures
    from liprobe.synth.example_study import (
        SCALES,
        example_study,
        study_is_complete,
        truth_recovery,
    )
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study

    timings: dict[str, float] = {}
    start = time.perf_counter()
    n_ions = SCALES["demo"].n_ions if n_ions is None else int(n_ions)
    reused = not regenerate and study_is_complete(cache, scale="demo", seed=seed,
                                                  n_ions=n_ions)
    if not reused:
        with _progress_bar(quiet, "generating the demo study") as update:
            example_study(cache, scale="demo", rng=seed, n_ions=n_ions, overwrite=True,
                          progress=update)
    timings["generate_s"] = time.perf_counter() - start

    start = time.perf_counter()
    manifest = read_manifest(cache / "study.toml")
    from liprobe.io.output_policy import COMPLETE_NAME, add_output_file

    # the demo replaces an earlier liprobe study output (a folder with its completion
    # manifest), never a folder of other files
    force = (out / COMPLETE_NAME).is_file()
    if workers is not None:
        from liprobe.workflow.scaleout import dask_map

        with _progress_bar(quiet, f"specimens on {workers} dask workers") as update:
            with dask_map(n_workers=workers, progress=update) as pmap:
                output = run_study(manifest, out, map_specimens=pmap, progress=not quiet,
                                   force=force,
                                   write_figures=write_study_figures)
    else:
        output = run_study(manifest, out, progress=not quiet, force=force,
                                   write_figures=write_study_figures)
    timings["study_s"] = time.perf_counter() - start

    recovery = truth_recovery(cache / "truth.json", pd.read_csv(out / "tables" / "table2.csv"))
    from liprobe.workflow.results_schema import check_table
    from liprobe.workflow.results_tables import RESULTS_SCHEMA

    check_table(recovery, RESULTS_SCHEMA.table("truth_recovery"),
                where=str(out / "tables" / "truth_recovery.csv"))
    add_output_file(out, "tables/truth_recovery.csv", recovery.to_csv(index=False).encode())
    start = time.perf_counter()  # report_s: the report alone
    index = write_report(out, report, title="liprobe demo: a synthetic Chae et al. study",
                         max_specimen_groups=specimen_groups)
    timings["report_s"] = time.perf_counter() - start
    within = recovery.groupby("element", sort=False)["within"].agg(["sum", "count"])
    return {
        "report": str(index.resolve()), "study_output": str(out.resolve()),
        "study_input": str(cache.resolve()), "reused_cached_study": reused,
        "n_specimens": len(manifest.specimens),
        "within_2se": {el: f"{int(r['sum'])}/{int(r['count'])}" for el, r in within.iterrows()},
        "growth_law": growth_law_statement(output.summary),
        "report_mb": index.stat().st_size / 1e6,
        "qc_warnings": len(output.summary.get("qc_warnings", [])), **timings,
    }


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("demo_output"), "--out",
                                 help="Folder for the study results (tables, figures)."),
        report: Path = typer.Option(Path("report"), "--report",
                                    help="Folder for the HTML report."),
        cache: Path = typer.Option(DEFAULT_CACHE, "--cache",
                                   help="Where the generated demo study is kept and reused."),
        seed: int = typer.Option(2021, "--seed", help="Seed of the synthetic study."),
        n_ions: int | None = typer.Option(None, "--n-ions",
                                          help="Ions per specimen (default 40 000)."),
        workers: int | None = typer.Option(None, "--workers",
                                           help="Run specimens on N local dask workers."),
        specimen_groups: int | None = typer.Option(
            None, "--specimen-groups", help="Draw only N specimen groups (sample, depth) in "
            "the report, the 300-cycle surface first (default: all 14)."),
        regenerate: bool = typer.Option(False, "--regenerate",
                                        help="Generate the study again even if cached."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Generate the demo study (cached), run it and write the HTML report."""
        from liprobe.cli._output import emit

        facts = run_demo(out, report, cache=cache, seed=seed, n_ions=n_ions, workers=workers,
                         quiet=quiet, regenerate=regenerate, specimen_groups=specimen_groups)
        lines = [
            f"demo study: {facts['n_specimens']} specimens in {facts['study_input']} "
            f"({'reused' if facts['reused_cached_study'] else 'generated'}, "
            f"{facts['generate_s']:.1f} s)",
            f"study run: {facts['study_s']:.1f} s; results in {facts['study_output']}",
            "Table 2 analogue within 2 SE of the generating truth (depths): "
            + ", ".join(f"{el} {v}" for el, v in facts["within_2se"].items()),
            (facts["growth_law"] or "").split(". Growth law")[0].rstrip(".") + "."
            if facts["growth_law"] else "growth law: not available (see the report's notes)",
            f"QC warnings: {facts['qc_warnings']}",
            f"report: {facts['report']} ({facts['report_mb']:.1f} MB, "
            f"{facts['report_s']:.1f} s)",
        ]
        emit(facts, as_json=as_json, text="\n".join(lines))

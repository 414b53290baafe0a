"""``liprobe study``: validate a manifest, run a study, analyse the published tables.

- ``liprobe study check study.toml`` validates the manifest (one error line naming the
  line and key) and summarises the design;
- ``liprobe study run study.toml -o DIR`` writes tables, figures and ``summary.json``
  (layout: :mod:`liprobe.workflow.pipeline`), with ``--workers N`` / ``--scheduler ADDRESS``
  to run the specimens on a dask cluster;
- ``liprobe study paper`` fits the published Table 2 Li profiles of Chae et al. (2021)
  at 100 and 300 cycles, prints the growth exponent α with its interval and the model
  comparison (α = 1, α = 0.5, free), and compares each fitted profile's particle integral
  with Table 1 (ICP-AES).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit

__all__ = ["register", "check_payload", "paper_payload", "paper_text"]


def check_payload(path: Path) -> dict[str, Any]:
    """Validate a manifest and describe the study design."""
    from liprobe.workflow.manifest_file import read_manifest

    manifest = read_manifest(path)
    design: dict[str, dict[str, int]] = {}
    for spec in manifest.specimens:
        design.setdefault(spec.sample, {}).setdefault(spec.depth.label, 0)
        design[spec.sample][spec.depth.label] += 1
    return {"manifest": str(path), "name": manifest.name, "valid": True,
            "samples": manifest.sample_cycles(), "n_specimens": len(manifest.specimens),
            "replicates_by_sample_and_depth": design,
            "icp": str(manifest.icp.file) if manifest.icp else None,
            "cycling": [str(c.file) for c in manifest.cycling],
            "haadf_images": len(manifest.haadf) + sum(len(s.haadf) for s in manifest.specimens),
            "n_input_files": len(manifest.input_files())}


def _fmt(x: float, spec: str = ".3f") -> str:
    return "n/a" if x is None or not math.isfinite(x) else format(x, spec)


def paper_payload(reference: Path | None, bound_depth: str, radius_um: float,
                  models: tuple[str, ...] = ("exponential", "erf", "two_scale", "logistic")
                  ) -> dict[str, Any]:
    """Analysis of the published tables as plain data."""
    from liprobe.study.paper import analyze_published

    result = analyze_published(reference, bound_depth=bound_depth, radius_nm=radius_um * 1000.0,
                               models=models)
    g = result.gradients
    return {
        "bound_depth": bound_depth, "radius_um": radius_um,
        "icp": result.icp.to_dict(orient="records"),
        "gradient_fits": g.fit_rows(), "growth_law": g.growth_rows(),
        "alpha": {m: {**law.alpha.as_dict("alpha"), "verdict": law.verdict, "note": law.note}
                  for m, law in g.growth.items()},
        "best_growth_model": g.best_growth_model, "growth_headline": g.headline,
        "depth_conventions": result.depth_conventions or {},
        "growth_levels": g.levels.rows() if g.levels is not None else [],
        "two_step_alpha": {k: v.as_dict("alpha") for k, v in g.two_step_alpha.items()},
        "particle_integral": [p.as_row() for p in g.particle],
        "notes": list(g.notes), "_result": result,
    }


def paper_text(payload: dict[str, Any]) -> str:
    """Human-readable report of :func:`paper_payload`."""
    lines = ["Published data: Chae et al., Nat. Commun. (2021), Tables 1 and 2",
             "", "Table 1 (ICP-AES) from weight %, standard atomic weights:"]
    for row in payload["icp"]:
        lines.append(f"  {row['sample']:<16} Li {row['Li']:.3f}  Ni {row['Ni']:.3f}  "
                     f"Co {row['Co']:.3f}  Mn {row['Mn']:.3f}")
    lines += ["", "Gradient fits of Li(depth) (unweighted; best AICc first):"]
    for row in payload["gradient_fits"]:
        if not row["success"]:
            lines.append(f"  {row['cycles']:>4} cycles  {row['model']:<12} not fitted: "
                         f"{row['message']}")
            continue
        lines.append(f"  {row['cycles']:>4} cycles  {row['model']:<12} "
                     f"AICc {_fmt(row['aicc'], '7.2f')}"
                     f"  c_surface {_fmt(row['c_surface'])} ± {_fmt(row['c_surface_se'])}"
                     f"  c_bulk {_fmt(row['c_bulk'])} ± {_fmt(row['c_bulk_se'])}"
                     f"  half-recovery {_fmt(row['half_recovery_depth_nm'], '.0f')} ± "
                     f"{_fmt(row['half_recovery_depth_nm_se'], '.0f')} nm"
                     f"  deficit {_fmt(row['deficit_depth_nm'], '.0f')} ± "
                     f"{_fmt(row['deficit_depth_nm_se'], '.0f')} nm")
    lines += ["", payload.get("growth_headline") or "",
              "", "Growth law, depth ∝ N^α, joint fit of 100 and 300 cycles:"]
    for model, info in payload["alpha"].items():
        lines.append(f"  {model:<12} {info['verdict']}")
    lines.append("  model comparison (ΔAICc, Akaike weight, F-test p of the fixed α vs free):")
    for row in payload["growth_law"]:
        lines.append(f"    {row['shape']:<12} {row['growth_model']:<10} ΔAICc "
                     f"{_fmt(row['delta_aicc'], '6.2f')}  "
                     f"weight {_fmt(row['akaike_weight'], '.2f')}"
                     f"  p {_fmt(row['p_value'], '.3f')}")
    if payload["best_growth_model"]:
        lines.append("  shape with the lowest AICc of the free-α fit: "
                     f"{payload['best_growth_model']}")
    for convention, info in payload.get("depth_conventions", {}).items():
        lines.append(f"  '< 100 nm' read as {convention}: "
                     + (info.get("verdict") or info.get("error", "")))
    for definition, est in payload["two_step_alpha"].items():
        lines.append(f"  two-step cross-check ({definition} depth): α = {_fmt(est['alpha'], '.2f')}"
                     f" (95% CI {_fmt(est['alpha_ci_low'], '.2f')} to "
                     f"{_fmt(est['alpha_ci_high'], '.2f')})")
    lines += ["", f"Particle integral over a sphere of radius {payload['radius_um']:g} µm vs "
              "Table 1 (ICP-AES):"]
    for row in payload["particle_integral"]:
        lines.append(f"  {int(row['cycles']):>4} cycles  {row['model']:<12} predicted Li "
                     f"{_fmt(row['predicted_li'])} ± {_fmt(row['predicted_li_se'])}  ICP "
                     f"{_fmt(row['icp_li'])}  diff {_fmt(row['difference'], '+.3f')}  "
                     f"Li inventory lost {_fmt(100 * row['inventory_loss'], '.1f')} % "
                     f"(ICP {_fmt(100 * row['icp_inventory_loss'], '.1f')} %, capacity "
                     f"{_fmt(100 * row['capacity_loss'], '.1f')} %)")
    lines += ["", "Notes:"] + [f"  - {n}" for n in payload["notes"]]
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add the ``study`` sub-command group to ``app``."""
    study = typer.Typer(name="study", help="Multi-specimen studies: manifest, run, published "
                        "tables.", no_args_is_help=True)

    @study.command("check")
    def check(manifest: Path = typer.Argument(..., help="The study manifest (TOML)."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Validate a study manifest and summarise its design (and list any TODO left)."""
        from liprobe.cli.study_workflow import explain_todos

        explain_todos(manifest)
        payload = check_payload(manifest)
        lines = [f"{manifest}: valid study {payload['name']!r}, "
                 f"{payload['n_specimens']} specimens, {payload['n_input_files']} input files"]
        for sample, cycles in payload["samples"].items():
            depths = payload["replicates_by_sample_and_depth"].get(sample, {})
            text = ", ".join(f"{d} (n={n})" for d, n in depths.items()) or "no specimens"
            lines.append(f"  {sample} ({cycles} cycles): {text}")
        emit(payload, as_json=as_json, text="\n".join(lines))

    @study.command("run")
    def run(manifest: Path = typer.Argument(..., help="The study manifest (TOML)."),
            out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
            workers: int | None = typer.Option(None, "--workers",
                                               help="Run specimens on N local dask workers."),
            scheduler: str | None = typer.Option(None, "--scheduler",
                                                 help="Address of a dask scheduler."),
            scheduler_timeout_s: float = typer.Option(
                30.0, "--scheduler-timeout-s", help="How long to try reaching --scheduler."),
            force: bool = typer.Option(False, "--force", help="Replace an existing non-empty "
                                       "OUT (as a whole, once the new run is complete)."),
            report: Path | None = typer.Option(None, "--report",
                                               help="Also write the HTML report to this folder."),
            no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
            quiet: bool = typer.Option(False, "--quiet",
                                       help="No progress bars; print only where the results are."),
            as_json: bool = typer.Option(False, "--json", help="Print summary.json.")) -> None:
        """Analyse every specimen; write tables/, figures/ and summary.json to OUT."""
        from liprobe.io.output_policy import check_output_folder
        from liprobe.report.study_figures import write_study_figures
        from liprobe.workflow.manifest_file import read_manifest
        from liprobe.workflow.pipeline import run_study

        parsed = read_manifest(manifest)
        # the output policy first, before a cluster is started or a file analysed
        check_output_folder(out, inputs=parsed.input_files(), force=force)
        show_progress = not (no_progress or quiet)
        if workers is not None or scheduler is not None:
            from liprobe.workflow.scaleout import dask_map

            with dask_map(n_workers=workers, scheduler=scheduler,
                          connect_timeout_s=scheduler_timeout_s) as pmap:
                output = run_study(parsed, out, map_specimens=pmap, progress=show_progress,
                                   force=force,
                                   write_figures=write_study_figures)
        else:
            output = run_study(parsed, out, progress=show_progress, force=force,
                                   write_figures=write_study_figures)
        summary = output.summary
        lines = [f"{len(parsed.specimens)} specimens analysed; results in {out}"]
        if report is not None:
            from liprobe.cli.study_workflow import write_report_for

            lines[0] += f"; report: {write_report_for(out, report)}"
        if quiet and not as_json:
            typer.echo(lines[0])
            return
        for model, info in summary["alpha"].items():
            lines.append(f"  growth law ({model}): {info['verdict']}")
        for row in summary["particle_integral"]:
            lines.append(f"  {int(row['cycles'])} cycles {row['model']}: particle Li "
                         f"{_fmt(row['predicted_li'])} vs ICP {_fmt(row['icp_li'])}")
        if summary["li_site_model"]:
            k = summary["li_site_model"]
            lines.append(f"  Li = Li0 (1 - k f): k = {_fmt(k['k'])} "
                         f"(95% CI {_fmt(k['k_ci_low'])} to {_fmt(k['k_ci_high'])})")
        lines.append(f"  QC warnings: {len(summary['qc_warnings'])}")
        emit(summary, as_json=as_json, text="\n".join(lines))

    @study.command("paper")
    def paper(reference: Path | None = typer.Option(
                  None, "--reference", help="Folder with table1_icp_aes.csv, table2_apt.csv, "
                  "cell.csv (default: the copies shipped with liprobe)."),
              bound_depth: str = typer.Option("midpoint", "--bound-depth",
                                              help="Depth of '< 100 nm': midpoint or bound."),
              radius_um: float = typer.Option(5.0, "--radius-um", help="Particle radius, µm."),
              model: list[str] = typer.Option(
                  ["exponential", "erf", "two_scale", "logistic"], "--model",
                  help="Profile shape(s) to fit (repeat the option)."),
              out: Path | None = typer.Option(None, "-o", "--out",
                                              help="Also write tables and figures here."),
              force: bool = typer.Option(False, "--force",
                                         help="Replace an existing non-empty OUT."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Gradient fits, growth exponent α and particle integral on the published tables."""
        from liprobe.errors import ParameterError

        if bound_depth not in ("midpoint", "bound"):
            raise ParameterError(f"--bound-depth must be 'midpoint' or 'bound', got "
                                 f"{bound_depth!r}")
        from liprobe.study.shapes import get_shape

        for name in model:
            get_shape(name)
        if out is not None:
            from liprobe.io.output_policy import check_output_folder

            check_output_folder(out, inputs=_reference_files(reference), force=force)
        payload = paper_payload(reference, bound_depth, radius_um, tuple(model))
        result = payload.pop("_result")
        if out is not None:
            _write_paper(out, result, inputs=_reference_files(reference), force=force)
        emit(payload, as_json=as_json, text=paper_text(payload))

    from liprobe.cli.study_workflow import register_study

    register_study(study)
    app.add_typer(study, name="study")


def _reference_files(reference: Path | None) -> tuple[Path, ...]:
    if reference is None:
        return ()
    return tuple(p for p in Path(reference).glob("*") if p.is_file()) if Path(
        reference).is_dir() else (Path(reference),)


def _write_paper(out: Path, result: Any, *, inputs: tuple[Path, ...], force: bool) -> None:
    """Tables and figures of the published-data analysis, as one complete folder."""
    import pandas as pd

    from liprobe.io.output_policy import staged_folder
    from liprobe.report.canvas import save_figure
    from liprobe.report.study_figures import plot_gradient_fits, plot_growth_law
    from liprobe.workflow.assemble import write_table
    from liprobe.workflow.results_schema import write_results_schema
    from liprobe.workflow.results_tables import PAPER_RESULTS_SCHEMA

    g = result.gradients
    tables = {"icp": result.icp, "published_points": result.profile_points,
              "gradient_fits": pd.DataFrame(g.fit_rows()),
              "growth_law": pd.DataFrame(g.growth_rows()),
              "particle_integral": pd.DataFrame([p.as_row() for p in g.particle])}
    with staged_folder(out, inputs=inputs, force=force, extra={"study": "published"}) as stage:
        for name, frame in tables.items():
            write_table(frame, stage / "tables", name, schema=PAPER_RESULTS_SCHEMA)
        write_results_schema(stage, PAPER_RESULTS_SCHEMA)
        (stage / "figures").mkdir(parents=True, exist_ok=True)
        for name, fig in (("gradient_fits", plot_gradient_fits(g)),
                          ("growth_law", plot_growth_law(g))):
            for suffix in (".png", ".svg"):
                save_figure(fig, stage / "figures" / f"{name}{suffix}", dpi=120)

"""Study-level assembly behind :func:`liprobe.workflow.pipeline.run_study`: tables, fits,
figures and ``summary.json`` from the per-specimen results (layout: pipeline docstring)."""

from __future__ import annotations

import json
import math
import platform
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import LiprobeError, SpecimenError

__all__ = ["assemble_study"]

def _frame(rows: list[dict[str, Any]], name: str) -> Any:
    """The table ``name`` of ``rows``; without rows, its declared columns
    (:data:`liprobe.workflow.results_tables.RESULTS_SCHEMA`), so the layout is fixed."""
    import pandas as pd

    from liprobe.workflow.results_tables import RESULTS_SCHEMA

    if rows:
        return pd.DataFrame(rows)
    return pd.DataFrame(columns=RESULTS_SCHEMA.table(name).fixed_columns())


def write_table(frame: Any, folder: Path, name: str, *, schema: Any = None) -> None:
    """Write ``folder/<name>.csv`` and ``.parquet`` after checking the table against its
    declaration in ``schema`` (default :data:`~liprobe.workflow.results_tables.RESULTS_SCHEMA`):
    a table or column not declared, a missing required column, a unit or dtype that does not
    match is a :class:`~liprobe.errors.ResultsSchemaError` naming the table and the fix."""
    from liprobe.io.atomic import atomic_path
    from liprobe.workflow.results_schema import check_table

    if schema is None:
        from liprobe.workflow.results_tables import RESULTS_SCHEMA as schema
    spec = schema.table(name)
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: v if v is None or isinstance(v, str)
                                              else str(v))
    check_table(frame, spec, where=str(folder / f"{name}.csv"))
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / f"{name}.csv") as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(folder / f"{name}.parquet") as tmp:
        frame.to_parquet(tmp, index=False)


def _icp_table(manifest: Any, normalize_to: tuple[str, ...]) -> Any:
    from liprobe.cell.icp import wt_pct_to_ratios
    from liprobe.io.icp import read_icp_table

    if manifest.icp is None:
        return _frame([], "icp")
    table = read_icp_table(manifest.icp.file)
    wt = {c[: -len("_wt_pct")]: table[c].to_numpy(np.float64) for c in table.columns
          if c.endswith("_wt_pct")}
    try:
        ratios = wt_pct_to_ratios(wt, normalize_to=normalize_to).ratios
    except LiprobeError as exc:
        raise type(exc)(f"{manifest.icp.file}: {exc}") from exc
    for el, r in ratios.items():
        table[el] = r
    return table


def _icp_li_by_sample(manifest: Any, icp: Any, notes: list[str]) -> dict[int, float]:
    """ICP Li per cycle count, each row joined to its manifest sample *by name*.

    A repeated name, a row whose cycles disagree with its sample's, or a table naming
    none of the samples is an error naming the ICP file; rows of other samples are noted.
    """
    path = manifest.icp.file
    names = [str(n).strip() for n in icp["sample"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecimenError(f"{path}: sample {dupes[0]!r} has several ICP-AES rows; keep one "
                            "row per sample")
    cycles_of = manifest.sample_cycles()
    out: dict[int, float] = {}
    unmatched = []
    for name, cycles, li in zip(names, icp["cycles"], icp["Li"], strict=True):
        if name not in cycles_of:
            unmatched.append(name)
            continue
        if int(cycles) != cycles_of[name]:
            raise SpecimenError(f"{path}: the row of sample {name!r} gives {int(cycles)} cycles "
                                f"but the manifest gives {cycles_of[name]}; correct one of them")
        if cycles_of[name] in out:
            raise SpecimenError(f"{path}: two samples with {cycles_of[name]} cycles have ICP-AES "
                                "rows; the gradient analysis needs one ICP value per cycle count")
        out[cycles_of[name]] = float(li)
    if not out and names:
        raise SpecimenError(f"{path}: no ICP-AES row names a sample of the manifest (rows: "
                            f"{', '.join(names[:5])}; samples: {', '.join(cycles_of)}); name "
                            "each row by its [[samples]] name in the 'sample' column")
    if unmatched:
        notes.append(f"ICP-AES rows not matching any sample were left out: "
                     f"{', '.join(unmatched)}")
    return out


def _cycling_table(manifest: Any) -> tuple[Any, list[Any]]:
    from liprobe.cell.cycling import capacity_fade, discharge_capacity_from_records
    from liprobe.io.cycler import read_cycling

    rows, fades = [], []
    for spec in manifest.cycling:
        records = read_cycling(spec.file, format=spec.format, columns=dict(spec.columns) or None)
        try:
            cycles, capacity = discharge_capacity_from_records(
                records, restart_at_steps=records.attrs.get("capacity_restarts_at_steps", False))
            fade = capacity_fade(cycles, capacity, active_mass_g=spec.active_mass_g)
        except LiprobeError as exc:
            raise type(exc)(f"{spec.file}: {exc}") from exc
        fades.append((spec, fade))
        for i in range(fade.cycle.size):
            rows.append({"file": str(spec.file), "sample": spec.sample or "",
                         "cycle": int(fade.cycle[i]),
                         "discharge_capacity_mah": float(fade.discharge_capacity_mah[i]),
                         "specific_capacity_mah_g": float(fade.specific_capacity_mah_g[i]),
                         "retention": float(fade.retention[i])})
    return _frame(rows, "cycling"), fades


def _retention(manifest: Any, fades: list[Any]) -> dict[int, float]:
    out = {}
    for sample in manifest.samples:
        if sample.cycles <= 0:
            continue
        for _spec, fade in sorted(fades, key=lambda sf: sf[0].sample != sample.name):
            if np.any(fade.cycle == sample.cycles):
                out[sample.cycles] = fade.retention_at(sample.cycles)
                break
    return out


def haadf_image_windows(h: Any, seed: int) -> list[dict[str, Any]]:
    """Windows of one manifest-level HAADF image (a ``[[haadf]]`` entry): a pure task that
    :func:`liprobe.workflow.pipeline.run_study` maps with the specimens."""
    from liprobe.workflow.pipeline import _haadf_windows

    try:
        return _haadf_windows(h.image, depth_offset_nm=h.depth_offset_nm,
                              pixel_size_nm=h.pixel_size_nm, reference=h.reference, seed=seed)
    except LiprobeError as exc:
        raise SpecimenError(f"HAADF image {h.image}: {exc}") from exc


def _haadf(manifest: Any, results: list[Any], loose: list[Any] | None = None
           ) -> list[dict[str, Any]]:
    rows = []
    for res in results:
        for w in res.haadf_windows:
            rows.append({"sample": res.sample, "specimen": res.name, "cycles": res.cycles, **w})
    cycles = manifest.sample_cycles()
    for i, h in enumerate(manifest.haadf):
        windows = (loose[i] if loose is not None
                   else haadf_image_windows(h, manifest.settings.seed))
        rows += [{"sample": h.sample, "specimen": "", "cycles": cycles[h.sample], **w}
                 for w in windows]
    return rows


def _disorder(haadf_rows: list[dict[str, Any]], results: list[Any], table2: Any
              ) -> tuple[list[dict[str, Any]], Any]:
    """(f, Li) pairs at the same location, and the fits (:mod:`liprobe.study.disorder`)."""
    from liprobe.study.disorder import fit_li_vs_disorder, pair_at_apt_depths

    def f_sigma(w: dict[str, Any]) -> float:
        lo, hi = w.get("f_ci_low", math.nan), w.get("f_ci_high", math.nan)
        return (float(hi) - float(lo)) / (2 * 1.959964)

    points = []
    by_name = {r.name: r for r in results}
    site = [w for w in haadf_rows if w["specimen"] and math.isfinite(w["f"])]
    for name in dict.fromkeys(w["specimen"] for w in site):
        res = by_name[name]
        mine = [w for w in site if w["specimen"] == name]
        if "Li" in res.ratios:
            fs = np.array([w["f"] for w in mine])
            ss = np.array([f_sigma(w) for w in mine])
            spread = float(np.std(fs, ddof=1) / math.sqrt(fs.size)) if fs.size > 1 else 0.0
            points.append({"sample": res.sample, "specimen": name, "depth_nm": res.depth_nm,
                           "f": float(np.mean(fs)),
                           "f_sigma": max(float(np.sqrt(np.mean(ss ** 2) / fs.size)), spread),
                           "li": res.ratios["Li"], "li_sigma": res.ratio_sigmas["Li"],
                           "join": "same site"})
    loose = [w for w in haadf_rows if not w["specimen"] and math.isfinite(w["f"])]
    for sample in dict.fromkeys(w["sample"] for w in loose):
        mine = [w for w in loose if w["sample"] == sample]
        prof = table2[(table2["sample"] == sample) & np.isfinite(table2["depth_nm"])]
        if not len(prof) or "Li_mean" not in prof:
            continue
        se = np.fmax(prof["Li_se"].to_numpy(np.float64),
                     prof["Li_counting_se"].to_numpy(np.float64)) \
            if "Li_counting_se" in prof else prof["Li_se"].to_numpy(np.float64)
        joined = pair_at_apt_depths(np.array([w["depth_nm"] for w in mine], float),
                                    np.array([w["f"] for w in mine], float),
                                    np.array([f_sigma(w) for w in mine], float),
                                    prof["depth_nm"].to_numpy(np.float64),
                                    prof["Li_mean"].to_numpy(np.float64), apt_li_sigma=se,
                                    sample=sample)
        for i in range(joined.f.size):
            points.append({"sample": sample, "specimen": "", "depth_nm": float(joined.depth_nm[i]),
                           "f": float(joined.f[i]), "f_sigma": float(joined.f_sigma[i]),
                           "li": float(joined.li[i]), "li_sigma": float(joined.li_sigma[i]),
                           "join": joined.join})
    fit = None
    if points:
        sig = np.array([p["li_sigma"] for p in points])
        fit = fit_li_vs_disorder(np.array([p["f"] for p in points]),
                                 np.array([p["li"] for p in points]),
                                 li_sigma=sig if np.all(np.isfinite(sig) & (sig > 0)) else None,
                                 f_sigma=np.array([p["f_sigma"] for p in points]))
    return points, fit


def _depth_sigma(specimens: Any, table2: Any) -> np.ndarray | None:
    """Depth uncertainty of each table-2 row: the specimens' depth_sigma_nm over sqrt(n)."""
    if "depth_sigma_nm" not in specimens or not np.isfinite(
            specimens["depth_sigma_nm"].to_numpy(np.float64)).any():
        return None
    out = np.zeros(len(table2))
    for i, (sample, depth) in enumerate(zip(table2["sample"], table2["depth_nm"], strict=True)):
        sel = (specimens["sample"] == sample) & (specimens["depth_nm"] == depth)
        sig = specimens.loc[sel, "depth_sigma_nm"].to_numpy(np.float64)
        sig = sig[np.isfinite(sig)]
        out[i] = float(np.sqrt(np.mean(sig ** 2) / sig.size)) if sig.size else 0.0
    return out


def _versions() -> dict[str, str]:
    import pandas
    import scipy

    import liprobe

    return {"liprobe": liprobe.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "pandas": pandas.__version__, "python": platform.python_version()}


def assemble_study(manifest: Any, results: list[Any], out_dir: Path, *, progress: bool,
                   loose_haadf: list[Any] | None = None,
                   input_hashes: dict[str, str] | None = None, write_figures: Any = None) -> Any:
    """Build every table and figure from ordered specimen results and write them.

    ``loose_haadf``: the windows of each ``manifest.haadf`` image, in manifest order, when
    already computed (by the map of :func:`~liprobe.workflow.pipeline.run_study`); else they
    are computed here.
    """
    import pandas as pd

    from liprobe.study.aggregate import aggregate_specimens, table2_layout
    from liprobe.study.analysis import analyze_gradients
    from liprobe.workflow.pipeline import StudyOutput, file_sha256, settings_dict

    settings = manifest.settings
    specimens = _frame([r.row() for r in results], "specimens")
    tables: dict[str, Any] = {"specimens": specimens}
    notes: list[str] = []
    if results:
        table2 = aggregate_specimens(specimens, elements=settings.elements,
                                     normalize_to=settings.normalize_to)
        layout = table2_layout(table2, elements=settings.elements)
    else:
        table2, layout = _frame([], "table2"), _frame([], "table2_layout")
    tables["table2"], tables["table2_layout"] = table2, layout
    icp = _icp_table(manifest, settings.normalize_to)
    tables["icp"] = icp
    cycling, fades = _cycling_table(manifest)
    tables["cycling"] = cycling
    icp_li = _icp_li_by_sample(manifest, icp, notes) if "Li" in icp else {}
    pristine = icp_li.get(0, math.nan)
    if not math.isfinite(pristine) and len(table2) and "Li_mean" in table2:
        zero = table2[table2["cycles"] == 0]
        pristine = float(zero["Li_mean"].mean()) if len(zero) else math.nan
    retention = _retention(manifest, fades)
    gradients = None
    if len(table2) and "Li_mean" in table2:
        depth = table2["depth_nm"].to_numpy(np.float64)
        finite = np.isfinite(depth) & (table2["cycles"].to_numpy() > 0)
        # SE over replicates, floored at the counting SE: with 3-5 replicates the sample SD
        # is itself uncertain and can fall below what counting statistics alone guarantee
        se = np.fmax(table2["Li_se"].to_numpy(np.float64),
                     table2["Li_counting_se"].to_numpy(np.float64))
        use_sigma = bool(finite.any() and np.all(np.isfinite(se[finite]) & (se[finite] > 0)))
        if finite.any() and not use_sigma:
            notes.append("some depths have a single specimen (no SD): gradient fits unweighted")
        gradients = analyze_gradients(table2["cycles"].to_numpy(), depth,
                                      table2["Li_mean"].to_numpy(np.float64),
                                      sigma=se if use_sigma else None,
                                      models=settings.gradient_models,
                                      radius_nm=settings.particle_radius_um * 1000.0,
                                      icp_li=icp_li, pristine_li=pristine, retention=retention,
                                      depth_definitions=(settings.depth_definition,),
                                      depth_sigma=_depth_sigma(specimens, table2))
        notes += list(gradients.notes)
    tables["gradient_fits"] = _frame(gradients.fit_rows() if gradients else [], "gradient_fits")
    tables["growth_law"] = _frame(gradients.growth_rows() if gradients else [], "growth_law")
    tables["growth_levels"] = _frame(gradients.levels.rows() if gradients and gradients.levels
                                     else [], "growth_levels")
    tables["particle_integral"] = _frame([p.as_row() for p in gradients.particle]
                                         if gradients else [], "particle_integral")
    haadf_rows = _haadf(manifest, results, loose_haadf)
    tables["haadf_windows"] = _frame(haadf_rows, "haadf_windows")
    points, disorder_fit = _disorder(haadf_rows, results, table2)
    tables["li_vs_disorder_points"] = _frame(points, "li_vs_disorder_points")
    tables["li_vs_disorder"] = _frame([disorder_fit.as_row()] if disorder_fit else [],
                                      "li_vs_disorder")
    qc_rows, qc_statement = _study_qc(results, gradients, settings)
    tables["qc"] = _frame(qc_rows, "qc")
    tables["fda"] = _frame([{"specimen": r.name, **f} for r in results for f in r.fda], "fda")
    profile_frames = [pd.DataFrame({"specimen": r.name, **r.profile}) for r in results
                      if r.profile]
    tables["profiles"] = (pd.concat(profile_frames, ignore_index=True) if profile_frames
                          else _frame([], "profiles"))
    tables["clusters"] = _frame([c for r in results for c in r.clusters], "clusters")
    tables["nearest_neighbours"] = _frame([n for r in results for n in r.neighbours],
                                          "nearest_neighbours")
    for name, frame in tables.items():
        write_table(frame, out_dir / "tables", name)

    # figures come from the layer above (liprobe.report.study_figures.write_study_figures,
    # passed in by the CLI): the workflow never imports the report
    figures = (write_figures(out_dir / "figures", tables=tables, gradients=gradients,
                             disorder=disorder_fit) if write_figures is not None else [])
    inputs: dict[str, str] = dict(input_hashes or {})
    for r in results:
        for path, digest in r.hashes.items():
            inputs.setdefault(path, digest)
    for path in manifest.input_files():
        inputs.setdefault(str(path), file_sha256(path))
    qc_warnings = [f"{q['specimen']}: {q['check']}: {q['message']}" for q in qc_rows
                   if q["verdict"] == "warn"]
    summary = {
        "study": {"name": manifest.name, "description": manifest.description,
                  "n_specimens": len(results), "samples": manifest.sample_cycles()},
        "alpha": {m: {**law.alpha.as_dict("alpha"), "verdict": law.verdict, "note": law.note,
                      "comparisons": [c.__dict__ for c in law.comparisons]}
                  for m, law in (gradients.growth.items() if gradients else [])},
        "best_growth_model": gradients.best_growth_model if gradients else None,
        "growth_headline": gradients.headline if gradients else None,
        "two_step_alpha": {k: v.as_dict("alpha") for k, v in
                           (gradients.two_step_alpha.items() if gradients else [])},
        "particle_integral": [p.as_row() for p in gradients.particle] if gradients else [],
        "li_site_model": disorder_fit.as_row() if disorder_fit else None,
        "qc_warnings": qc_warnings,
        "acquisition": {r.name: r.acquisition for r in results if r.acquisition},
        "qc_correction": qc_statement,
        "notes": notes,
        "provenance": {"inputs": dict(sorted(inputs.items())), "versions": _versions(),
                       "settings": settings_dict(settings), "manifest": str(manifest.path)},
    }
    from liprobe.io.atomic import atomic_path
    from liprobe.workflow.results_schema import check_summary, write_results_schema
    from liprobe.workflow.results_tables import RESULTS_SCHEMA

    out_dir.mkdir(parents=True, exist_ok=True)
    cleaned = _clean(summary)
    check_summary(cleaned, RESULTS_SCHEMA, where=str(out_dir / "summary.json"))
    with atomic_path(out_dir / "summary.json") as tmp:
        tmp.write_text(json.dumps(cleaned, indent=2, allow_nan=False), encoding="utf-8")
    # the contract the report reads back (listed in liprobe-complete.json like every file)
    write_results_schema(out_dir, RESULTS_SCHEMA)
    return StudyOutput(out_dir, tables, summary, tuple(figures))


def _study_qc(results: list[Any], gradients: Any, settings: Any
              ) -> tuple[list[dict[str, Any]], str]:
    """QC rows of every specimen: the Li trend re-tested against the study's fitted depth
    profile where one exists, then one multiplicity correction over the study."""
    from liprobe.study.qc import adjust_study_qc, li_trend_against_fit

    rows = []
    for r in results:
        fit = gradients.best_fit(int(r.cycles)) if gradients is not None and r.cycles else None
        for q in r.qc:
            row = {"specimen": r.name, "p_value": math.nan, "adjusted_p": math.nan,
                   "exceeds_tolerance": False, "hint": "", **q}
            if q["check"] == "li_trend" and fit is not None:
                check = li_trend_against_fit(r.profile, depth_top_nm=float(r.depth_nm), fit=fit)
                if check is not None:
                    row.update(value=float(check.value), message=check.message,
                               p_value=float(check.p_value),
                               exceeds_tolerance=check.exceeds_tolerance, hint=check.hint)
            rows.append(row)
    return adjust_study_qc(rows, correction=getattr(settings, "qc_correction", "holm"))


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

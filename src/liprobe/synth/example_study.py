"""A complete synthetic example study shaped like Chae et al. (Nat. Commun.), with its truth.

:func:`example_study` writes a study folder that runs through ``liprobe study run``::

    study.toml              the manifest (schema: liprobe.study.manifest)
    apt/<sample>_<region>_r<k>.epos  APT specimens, 5 replicates per (sample, depth); EPOS
                                     (detector x/y, voltages, multi-hits) at the demo
                                     scale; POS at the paper scale but for one EPOS
                                     specimen (``PAPER_EPOS_SPECIMEN``), to keep 4.5 GB
    ranges/ncm.rrng         the range file of every specimen
    haadf/ncm300_<depth>nm.tif       HAADF images at the 300-cycle depths
    icp_aes.csv             ICP-AES weight % (Table 1 analogue)
    cycling/cell300.csv     per-cycle capacity of the 300-cycle cell
    haadf/ncm300_reference_ordered.tif   ordered crystal under the same imaging conditions (R0)
    truth.json, truth_specimens.csv, truth_by_depth.csv   the generating truth

Design (the paper's, Table 2): pristine and formation specimens from the bulk ("surface to
centre"); 100 cycles at < 100, 200, 300 and 2000 nm; 300 cycles at the surface and 30, 100,
350, 700, 1000, 1500, 2500 nm. Generating Li profiles are
:func:`liprobe.synth.profile.paper_profile` (the published ratios, interpolated).

Between-specimen spread (what makes five replicates differ beyond counting noise): each
replicate's site depth is jittered by 10 % (lognormal; bulk sites drawn in 2-4 um), its Li
ratio is scaled by 1 + N(0, 0.04^2), and its Co and Mn shares of the metal by
1 + N(0, 0.08^2) and 1 + N(0, 0.10^2) (Ni takes the rest, so Ni + Co + Mn stays 1), and its
measured O ratio by 1 + N(0, 0.06^2) (neutral O2 loss varies from needle to needle; the
published O column scatters as much, see ``_example_design.O_SPREAD``). The
truth records each specimen's own ratios (the material ratios of the generator, averaged
over the analysed depth with the detected metal atoms as weights), the counted ratios of
the atoms actually in the file, and, per (sample, depth), the mean of the replicates'
material ratios: the number the study's Table 2 analogue estimates.

ICP-AES weight % are the particle integral of the generating profile over a sphere of
radius 5 um, r = (3/R^3) integral c(d) (R - d)^2 dd (DOMAIN.md section 5), converted with
standard atomic weights. The cycling file fades as the paper's cell: 137.5 mAh/g after 300
cycles at 1 C, 76 % of the initial capacity (``shared/reference/chae2021/cell.csv``).

Examples
--------
>>> import numpy as np
>>> study = example_study("example", scale="demo", rng=np.random.default_rng(0))  # doctest: +SKIP
>>> study.manifest_path  # doctest: +SKIP
PosixPath('example/study.toml')
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import OverwriteError, ParameterError
from liprobe.synth._example_design import (
    CO_SPREAD,
    DEPTH_SPREAD,
    LI_SPREAD,
    LINE_COUNT,
    LINE_LI_ENRICHMENT,
    LINE_RADIUS_NM,
    LINE_SPECIMEN,
    LONG_SPECIMENS,
    MN_SPREAD,
    O_SPREAD,
    PAPER_DESIGN,
    PARTICLE_RADIUS_NM,
    SCALES,
    StudyScale,
    capacity_curve,
    disorder_at,
    particle_average,
)
from liprobe.synth._example_files import write_cycling, write_haadf, write_icp, write_manifest
from liprobe.synth.profile import ELEMENTS, DepthProfile, paper_profile

__all__ = ["ExampleStudy", "StudyScale", "SCALES", "PAPER_DESIGN", "example_study",
           "particle_average", "capacity_curve", "disorder_at", "study_is_complete",
           "truth_recovery"]


@dataclass(frozen=True)
class ExampleStudy:
    """Where a generated study lives and what it holds."""

    root: Path
    manifest_path: Path
    truth_path: Path
    scale: str
    n_specimens: int
    n_ions_total: int


def study_is_complete(directory: str | os.PathLike, *, scale: str | None = None,
                      seed: int | None = None, n_ions: int | None = None) -> bool:
    """True when ``directory`` holds a finished example study (of ``scale``, generated from
    the integer ``seed`` with ``n_ions`` per specimen, for those given).

    ``truth.json`` is written last, so its presence with ``"complete": true`` and every
    listed file present means the study can be reused.
    """
    truth_path = Path(directory) / "truth.json"
    if not truth_path.is_file():
        return False
    try:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    if not truth.get("complete") or (scale is not None and truth.get("scale") != scale):
        return False
    if (seed is not None and truth.get("seed") != seed) or (
            n_ions is not None and truth.get("n_ions_per_specimen") != n_ions):
        return False
    return all((Path(directory) / f).is_file() for f in truth.get("files", []))


def _specimen_profile(base: DepthProfile, li_factor: float, co_factor: float,
                      mn_factor: float, o_factor: float = 1.0) -> DepthProfile:
    """The base profile with this specimen's Li and O scaled and its TM split shifted (sum
    kept)."""
    ni, co, mn = (np.asarray(v, dtype=np.float64) for v in (base.ni, base.co, base.mn))
    tm = ni + co + mn
    co_new, mn_new = co * co_factor, mn * mn_factor
    return DepthProfile(depth_nm=base.depth_nm, li=tuple(np.asarray(base.li) * li_factor),
                        ni=tuple(tm - co_new - mn_new), co=tuple(co_new), mn=tuple(mn_new),
                        o=tuple(np.asarray(base.o) * o_factor))


def _slug(sample: str, label: str, depth_nm: float | None) -> str:
    cycles = sample.split("-")[-1].lower()
    if depth_nm is None:
        return f"ncm{cycles}_bulk"
    if label.startswith("<"):
        return f"ncm{cycles}_lt{int(label.strip('< nm'))}nm"
    return f"ncm{cycles}_{int(depth_nm):04d}nm"


def _specimen_plan(scale: StudyScale, rng: np.random.Generator) -> list[dict[str, Any]]:
    plan = []
    for sample, cycles, label, depth in PAPER_DESIGN:
        for k in range(1, scale.replicates + 1):
            if depth is None:
                site = float(rng.uniform(2000.0, 4000.0))
            else:
                site = float(depth * np.exp(rng.normal(0.0, DEPTH_SPREAD)))
            plan.append({"sample": sample, "cycles": cycles, "depth_label": label,
                         "depth_nm": depth, "replicate": k, "site_depth_nm": site,
                         "li_factor": float(1.0 + rng.normal(0.0, LI_SPREAD)),
                         "co_factor": float(1.0 + rng.normal(0.0, CO_SPREAD)),
                         "mn_factor": float(1.0 + rng.normal(0.0, MN_SPREAD)),
                         "name": f"{_slug(sample, label, depth)}_r{k}",
                         "seed": int(rng.integers(0, 2**63 - 1))})
    # O factors from a spawned stream: every other draw of the study stays as it was
    o_rng = rng.spawn(1)[0]
    for item in plan:
        item["o_factor"] = float(1.0 + o_rng.normal(0.0, O_SPREAD))
    return plan


#: The paper-scale specimen written as EPOS (the others POS, 16 instead of 41 bytes per
#: ion): the report's 300-cycle surface group shows its detector-space figures.
PAPER_EPOS_SPECIMEN = ("NCM-300", "surface", 1)


def _generate_apt(root: Path, scale: StudyScale, plan: list[dict[str, Any]],
                  n_ions: int, progress: Any) -> list[dict[str, Any]]:
    from liprobe.io import write_ions, write_ranges
    from liprobe.synth.params import SpecimenParams
    from liprobe.synth.ranges import ncm_ranges
    from liprobe.synth.specimen import generate_specimen

    (root / "apt").mkdir(parents=True, exist_ok=True)
    reference = SpecimenParams(n_ions=n_ions, apex_radius_nm=scale.apex_radius_nm)
    write_ranges(root / "ranges" / "ncm.rrng", ncm_ranges(reference))
    records = []
    for i, item in enumerate(plan):
        suffix = ".epos" if scale.name == "demo" or (
            item["sample"], item["depth_label"], item["replicate"]) == PAPER_EPOS_SPECIMEN \
            else ".pos"
        profile = _specimen_profile(paper_profile(item["cycles"]), item["li_factor"],
                                    item["co_factor"], item["mn_factor"], item["o_factor"])
        key = (item["sample"], item["depth_label"])
        factor = LONG_SPECIMENS.get(key, 1.0) if scale.name == "demo" else 1.0
        lines = ()
        if (*key, item["replicate"]) == LINE_SPECIMEN:
            from liprobe.synth.presets import li_line_features

            reach_nm = 9.0 * factor * n_ions / 40_000 * (6.0 / scale.apex_radius_nm) ** 2
            lines = li_line_features(n_lines=LINE_COUNT, radius_nm=LINE_RADIUS_NM,
                                     li_enrichment=LINE_LI_ENRICHMENT, spread=0.45,
                                     length_nm=max(reach_nm, 10.0),
                                     apex_radius_nm=scale.apex_radius_nm, seed=5)
        params = SpecimenParams(n_ions=int(round(n_ions * factor)),
                                apex_radius_nm=scale.apex_radius_nm,
                                specimen_depth_nm=item["site_depth_nm"], profile=profile,
                                line_features=lines)
        ions, truth = generate_specimen(params, rng=np.random.default_rng(item["seed"]))
        path = f"apt/{item['name']}{suffix}"
        write_ions(root / path, ions)
        comp = truth.composition
        tm = comp.atom_counts[:, 1:4].sum(axis=1).astype(np.float64)
        material = (comp.material_ratios * tm[:, None]).sum(axis=0) / max(tm.sum(), 1.0)
        if lines:
            material[0] *= _line_li_factor(truth)
        counted = truth.element_counts()
        counted_tm = counted["Ni"] + counted["Co"] + counted["Mn"]
        record = {k: v for k, v in item.items() if k != "seed"}
        record.update({"apt": path, "n_ions": int(ions.n_ions), "length_nm": truth.length_nm,
                       "seed": item["seed"], "li_lines": len(lines)})
        for j, el in enumerate(comp.elements):
            record[f"true_{el.lower()}"] = float(material[j])
            record[f"counted_{el.lower()}"] = counted[el] / counted_tm if counted_tm else np.nan
        records.append(record)
        del ions, truth
        if progress is not None:
            progress(i + 1, len(plan))
    return records


def _line_li_factor(truth: Any) -> float:
    """How much the Li-rich lines raise a specimen's Li per metal: the lines' Li enrichment
    at each detected ion's true position, averaged with the ion's metal atoms as weights
    (the weights of the material ratio; the depth-binned truth leaves local features out)."""
    from liprobe.synth._geometry import segment_distance_nm

    metals = np.array([sum(n for s, n in ion.atoms if s in ("Ni", "Co", "Mn"))
                       for ion in truth.ions] + [0], dtype=np.float64)
    weight = metals[truth.ion_index]  # ion_index -1 (background) takes the appended 0
    factor = np.ones(len(weight))
    for line in truth.line_features:
        inside = segment_distance_nm(truth.position_nm, line.start_nm, line.end_nm) \
            <= line.radius_nm
        factor[inside] = np.maximum(factor[inside], line.li_enrichment)
    return float((weight * factor).sum() / weight.sum()) if weight.sum() > 0 else 1.0


def _by_depth(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault((rec["sample"], rec["depth_label"]), []).append(rec)
    rows = []
    for (sample, label), recs in groups.items():
        row: dict[str, Any] = {"sample": sample, "cycles": recs[0]["cycles"],
                               "depth_label": label, "depth_nm": recs[0]["depth_nm"],
                               "n": len(recs)}
        profile = paper_profile(recs[0]["cycles"])
        for el in ELEMENTS:
            values = np.array([r[f"true_{el.lower()}"] for r in recs])
            row[f"true_{el.lower()}_mean"] = float(values.mean())
            row[f"true_{el.lower()}_sd"] = float(values.std(ddof=1)) if len(recs) > 1 else 0.0
            depth = 3000.0 if recs[0]["depth_nm"] is None else recs[0]["depth_nm"]
            row[f"profile_{el.lower()}"] = float(profile.ratio_at(el, depth))
        rows.append(row)
    return rows


def example_study(directory: str | os.PathLike, *, scale: str = "demo",
                  rng: np.random.Generator | int | None = None, n_ions: int | None = None,
                  replicates: int | None = None, haadf: bool = True,
                  overwrite: bool = False, progress: Any = None) -> ExampleStudy:
    """Write a complete synthetic study folder (data, manifest and truth).

    Parameters
    ----------
    directory : path-like
        Output folder (created). Must be empty or absent unless ``overwrite``.
    scale : {"demo", "paper"}
        ``"demo"``: 70 specimens of 40 000 ions (EPOS), runs end to end in minutes on 2
        cores. ``"paper"``: 70 specimens of 4 M ions (POS, one EPOS; ~4.6 GB), realistic counts.
    rng : numpy.random.Generator or int, optional
        Source of all randomness (an int seeds one; default seed 0).
    n_ions : int, optional
        Ions per specimen, overriding the scale's.
    replicates : int, optional
        Specimens per (sample, depth), overriding the scale's 5.
    haadf : bool
        Simulate the HAADF images (default True; False skips them and their section).
    overwrite : bool
        Allow writing into a non-empty folder.
    progress : callable, optional
        ``progress(done, total)`` after each APT specimen.

    Returns
    -------
    ExampleStudy
        Paths of the manifest and ``truth.json``, and sizes.

    Raises
    ------
    ParameterError
        Unknown ``scale``, or bad ``n_ions`` / ``replicates``.
    OverwriteError
        ``directory`` is not empty and ``overwrite`` is False.

    References
    ----------
    B.-G. Chae et al., "Evolution and expansion of Li concentration gradient during
    charge-discharge cycling", Nature Communications (2021): Tables 1-2 and the text's
    cell data, the design copied here.
    """
    if scale not in SCALES:
        raise ParameterError(f"scale={scale!r} is not known; use one of {', '.join(SCALES)}")
    chosen = SCALES[scale]
    if replicates is not None:
        if int(replicates) < 1:
            raise ParameterError(f"replicates must be at least 1, got {replicates}")
        chosen = StudyScale(chosen.name, chosen.n_ions, chosen.apex_radius_nm,
                            chosen.haadf_size_px, int(replicates))
    n = chosen.n_ions if n_ions is None else int(n_ions)
    if n < 100:
        raise ParameterError(f"n_ions must be at least 100 per specimen, got {n_ions}")
    seed = None
    if rng is None or isinstance(rng, (int, np.integer)):
        seed = 0 if rng is None else int(rng)
        rng = np.random.default_rng(seed)
    root = Path(directory)
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise OverwriteError(f"{root}: folder is not empty; choose a new folder or pass "
                             "overwrite=True to write into it")
    root.mkdir(parents=True, exist_ok=True)
    truth_path = root / "truth.json"
    if truth_path.exists():
        truth_path.unlink()  # written last: its absence marks an unfinished study

    plan = _specimen_plan(chosen, rng)
    records = _generate_apt(root, chosen, plan, n, progress)
    haadf_images = write_haadf(root, chosen, rng) if haadf else []
    icp = write_icp(root)
    cycling = write_cycling(root, rng)
    manifest = write_manifest(root, chosen, records, haadf_images)

    import pandas as pd

    pd.DataFrame(records).to_csv(root / "truth_specimens.csv", index=False)
    by_depth = _by_depth(records)
    pd.DataFrame(by_depth).to_csv(root / "truth_by_depth.csv", index=False)
    profile_rows = []
    for cycles in sorted({c for _, c, _, _ in PAPER_DESIGN}):
        profile = paper_profile(cycles)
        for d in profile.depth_nm:
            profile_rows.append({"cycles": cycles, "depth_nm": d,
                                 **{el.lower(): float(profile.ratio_at(el, d))
                                    for el in ELEMENTS}})
    pd.DataFrame(profile_rows).to_csv(root / "truth_profiles.csv", index=False)
    files = sorted({r["apt"] for r in records} | {h["image"] for h in haadf_images}
                   | {h["reference"] for h in haadf_images} | {
        "ranges/ncm.rrng", "icp_aes.csv", "cycling/cell300.csv", "study.toml",
        "truth_specimens.csv", "truth_by_depth.csv", "truth_profiles.csv"})
    truth = {
        "complete": True, "scale": chosen.name, "seed": seed, "n_ions_per_specimen": n,
        "replicates": chosen.replicates, "particle_radius_nm": PARTICLE_RADIUS_NM,
        "between_specimen_spread": {"site_depth_lognormal_sd": DEPTH_SPREAD,
                                    "li_factor_sd": LI_SPREAD, "co_factor_sd": CO_SPREAD,
                                    "mn_factor_sd": MN_SPREAD, "o_factor_sd": O_SPREAD,
                                    "bulk_site_depth_nm": [2000, 4000]},
        "source": "shared/reference/chae2021 (Table 2 via liprobe.synth.paper_profile)",
        "by_depth": by_depth, "icp": icp, "cycling": cycling, "haadf": haadf_images,
        "specimens": records, "files": files,
    }
    tmp = root / ".truth.json.part"
    tmp.write_text(json.dumps(truth, indent=1, default=float), encoding="utf-8")
    os.replace(tmp, truth_path)
    return ExampleStudy(root, manifest, truth_path, chosen.name, len(records),
                        int(sum(r["n_ions"] for r in records)))


def truth_recovery(truth_path: str | os.PathLike, table2: Any, *,
                   elements: tuple[str, ...] = ("Li", "Ni", "Co", "Mn", "O"),
                   n_se: float = 2.0) -> Any:
    """Compare a study's Table 2 analogue with the generating truth of an example study.

    Parameters
    ----------
    truth_path : path-like
        ``truth.json`` written by :func:`example_study`.
    table2 : pandas.DataFrame
        The study's ``tables/table2.csv`` (columns ``sample, depth_label, X_mean, X_se``).
    elements : tuple of str
        Elements to compare.
    n_se : float
        Width of the acceptance band in standard errors of the mean (SD / sqrt(n)).

    Returns
    -------
    pandas.DataFrame
        One row per (sample, depth, element): ``measured_mean, se, truth`` (mean of the
        replicates' material ratios), ``z = (measured - truth) / se`` and ``within`` (|z| <=
        ``n_se``). Rows of the truth missing from ``table2`` have NaN measurements.
    """
    import pandas as pd

    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    measured = {(str(r["sample"]), str(r["depth_label"])): r
                for r in table2.to_dict(orient="records")}
    rows = []
    for row in truth["by_depth"]:
        got = measured.get((row["sample"], row["depth_label"]), {})
        for el in elements:
            mean = float(got.get(f"{el}_mean", np.nan))
            se = float(got.get(f"{el}_se", np.nan))
            true = float(row[f"true_{el.lower()}_mean"])
            z = (mean - true) / se if se > 0 else np.nan
            rows.append({"sample": row["sample"], "cycles": row["cycles"],
                         "depth_label": row["depth_label"], "element": el, "n": got.get("n"),
                         "measured_mean": mean, "se": se, "truth": true, "z": z,
                         "within": bool(np.isfinite(z) and abs(z) <= n_se)})
    return pd.DataFrame(rows)

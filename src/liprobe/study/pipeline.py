"""Run a whole study: every specimen, then aggregation, fits and figures, into one folder.

:func:`analyze_specimen` is a pure, picklable, module-level function of one
:class:`~liprobe.study.manifest.SpecimenSpec` and the settings: it can be mapped over a
dask.distributed cluster (``map_specimens`` of :func:`run_study`, see
:mod:`liprobe.study.scaleout`); results come back in manifest order whatever the order of
computation, so the output does not depend on the map function.

Output folder layout written by :func:`run_study` (every table as CSV *and* Parquet)::

    out_dir/
      summary.json                 headline numbers + provenance (see below)
      tables/specimens.{csv,parquet}        one row per specimen: counts, ratios, sigmas
      tables/table2.{csv,parquet}           per sample and depth: X_mean, X_sd (ddof=1), n,
                                            X_se, X_counting_se, X_pooled, X_pooled_sigma
      tables/table2_layout.{csv,parquet}    the paper's Table 2 layout ("mean ± SD")
      tables/icp.{csv,parquet}              ICP-AES weight % and metal-normalised ratios
      tables/cycling.{csv,parquet}          per cell and cycle: capacity, specific, retention
      tables/gradient_fits.{csv,parquet}    per cycle count and shape (weights: SE over replicates
                                            floored at the counting SE): params, SEs, AICc,
                                            gradient depths (3 definitions) with SEs
      tables/growth_law.{csv,parquet}       per shape and growth model (α=1, α=0.5, free),
                                            goodness of fit, self-similarity test
      tables/growth_levels.{csv,parquet}    depth at fixed Li levels per cycle count, α per
                                            level (bootstrap intervals)
      tables/particle_integral.{csv,parquet} predicted bulk Li vs ICP, inventory vs capacity
      tables/haadf_windows.{csv,parquet}    HAADF windows: sample, specimen, depth_nm, f,
                                            f_ci_low, f_ci_high, phase
      tables/li_vs_disorder.{csv,parquet}   Li = Li0 (1 - k f) and the site-loss model, errors
                                            in both variables, AICc (one row)
      tables/li_vs_disorder_points.{csv,parquet} (f, Li) at the same location: sample,
                                            specimen, depth_nm, f, f_sigma, li, li_sigma, join
      tables/qc.{csv,parquet}               per specimen and check: verdict, value, message
      tables/fda.{csv,parquet}              per specimen and element: chi2, dof, p, mu
      tables/profiles.{csv,parquet}         per specimen and bin: position, ratios, sigmas
      figures/<name>.{png,svg}              capacity_fade, li_vs_depth, gradient_fits,
                                            growth_law, li_vs_disorder (when data allow)

``summary.json`` keys: ``study`` (name, description), ``alpha`` (per shape: value,
ci_low, ci_high, verdict, comparisons), ``best_growth_model``, ``growth_headline``,
``two_step_alpha``,
``particle_integral`` (rows), ``li_site_model`` (k with interval), ``qc_warnings``
(list of "specimen: message"), ``notes``, ``provenance`` (``inputs``: {path: sha256},
``versions``: liprobe, numpy, scipy, pandas, python; ``settings``; ``manifest``).
Empty tables are still written (with their columns) so the layout is fixed.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import LiprobeError, SpecimenError
from liprobe.study.manifest import Manifest, SpecimenSpec, StudySettings

__all__ = ["SpecimenResult", "analyze_specimen", "run_study", "StudyOutput", "file_sha256",
           "TABLE_NAMES"]

TABLE_NAMES = ("specimens", "table2", "table2_layout", "icp", "cycling", "gradient_fits",
               "growth_law", "growth_levels", "particle_integral", "haadf_windows",
               "li_vs_disorder",
               "li_vs_disorder_points", "qc",
               "fda", "profiles")


def file_sha256(path: str | os.PathLike, *, chunk_bytes: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SpecimenResult:
    """Everything measured on one specimen (plain data: picklable, order-independent)."""

    name: str
    sample: str
    cycles: int
    depth_nm: float
    depth_label: str
    replicate: str
    n_ions: int
    n_ranged: int
    counts: dict[str, int]
    ratios: dict[str, float]
    ratio_sigmas: dict[str, float]
    profile: dict[str, list[float]] = field(default_factory=dict)
    fda: list[dict[str, Any]] = field(default_factory=list)
    qc: list[dict[str, Any]] = field(default_factory=list)
    haadf_windows: list[dict[str, Any]] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    overlap_shares: dict[str, float] = field(default_factory=dict)
    depth_sigma_nm: float = math.nan

    def row(self) -> dict[str, Any]:
        """One flat row of the specimens table."""
        out: dict[str, Any] = {"specimen": self.name, "sample": self.sample,
                               "cycles": self.cycles, "depth_nm": self.depth_nm,
                               "depth_sigma_nm": self.depth_sigma_nm,
                               "depth_label": self.depth_label, "replicate": self.replicate,
                               "n_ions": self.n_ions, "n_ranged": self.n_ranged}
        for el, n in self.counts.items():
            out[f"{el}_count"] = n
        for el, r in self.ratios.items():
            out[el] = r
            out[f"{el}_sigma"] = self.ratio_sigmas[el]
        out.update(self.overlap_shares)
        return out


def _step(spec: SpecimenSpec, what: str, func: Callable[[], Any]) -> Any:
    try:
        return func()
    except LiprobeError as exc:
        raise SpecimenError(f"specimen {spec.name!r} ({spec.apt}): {what} failed: {exc}"
                            ) from exc


def _haadf_windows(image_path: Path, *, depth_offset_nm: float,
                   pixel_size_nm: float | None = None, reference: str | Path = "simulate",
                   seed: int = 0) -> list[dict[str, Any]]:
    """Depth windows of one HAADF image as table rows.

    ``reference`` is ``"simulate"`` or the path of an ordered-crystal image recorded under
    the image's conditions (read with the same ``pixel_size_nm`` override); R0 comes from it
    as in :func:`liprobe.stem.analyze.analyze_haadf`.
    """
    from liprobe.io import read_image
    from liprobe.stem.analyze import analyze_haadf

    image = read_image(image_path, pixel_size_nm=pixel_size_nm)
    ref: Any = (reference if reference == "simulate"
                else read_image(reference, pixel_size_nm=pixel_size_nm))
    analysis = analyze_haadf(image, reference=ref, depth_offset_nm=depth_offset_nm, seed=seed)
    rows = []
    for window in analysis.windows:
        ci = getattr(window, "f_ci", (math.nan, math.nan))
        rows.append({"image": str(image_path), "depth_nm": float(window.depth_nm),
                     "f": float(window.f), "f_ci_low": float(ci[0]), "f_ci_high": float(ci[1]),
                     "phase": str(getattr(window, "phase", ""))})
    return rows


def analyze_specimen(spec: SpecimenSpec, settings: StudySettings) -> SpecimenResult:
    """Analyse one APT specimen: composition, profile, FDA, quality checks, HAADF windows.

    With ``settings.overlap_correction == "isotopes"`` the composition counts (and ratio
    sigmas, which then include the share uncertainty) are corrected for peak overlaps by
    :func:`liprobe.apt.overlap_correction.correct_composition`; the moved shares are
    recorded as ``share_<centre>da_<species>`` columns of the specimens table. Profiles,
    FDA and quality checks use the ranged ions as they are. The specimen's HAADF images
    are measured against ``spec.haadf_reference`` (``"simulate"`` or an ordered-crystal
    image; the manifest resolves the study default).

    A file with more than ``settings.max_in_memory_ions`` ions is streamed in chunks:
    counts, ratios, profile and the overlap correction (from isotope-window counts, spectrum
    and range counts summed over the chunks: the same correction as in memory) still come
    from every ion, FDA and quality checks from a contiguous slab of that many ions, stated
    in the FDA ``method`` and an ``in_memory_slab`` row (verdict ``note``) of the QC table.

    Pure and picklable (module level, inputs and outputs plain data): safe to map over a
    cluster. Any failure raises :class:`~liprobe.errors.SpecimenError` naming the specimen
    and its file; nothing is dropped silently.
    """
    from liprobe.apt.composition import composition_from_counts
    from liprobe.apt.frequency import frequency_distribution
    from liprobe.apt.profiles import concentration_profile
    from liprobe.apt.quality import check_quality
    from liprobe.io import read_ranges
    from liprobe.study._specimen_ions import load_specimen_ions
    from liprobe.study.aggregate import ratio_from_counts

    ranges = _step(spec, "reading the range file", lambda: read_ranges(spec.ranges))
    # files above settings.max_in_memory_ions are streamed (liprobe.study._specimen_ions):
    # counts and profile from every ion, FDA and QC on a stated contiguous slab of ions
    loaded = _step(spec, "reading and ranging the APT file", lambda: load_specimen_ions(
        spec.apt, ranges, max_in_memory_ions=settings.max_in_memory_ions,
        profile_axis=settings.profile_axis, profile_bin_nm=settings.profile_bin_nm,
        normalize_to=tuple(settings.normalize_to),
        with_overlap_statistics=settings.overlap_correction == "isotopes"))
    ions, species, ion_counts = loaded.ions, loaded.species, loaded.ion_counts
    comp = _step(spec, "composition", lambda: composition_from_counts(
        ion_counts, ranges, n_ions=loaded.n_ions))
    correction = None
    # on the chunked path the correction comes from statistics summed over every chunk
    # (loaded.overlap_statistics): the same correction as in memory
    if settings.overlap_correction == "isotopes":
        from liprobe.apt.overlap_correction import (
            correct_composition,
            correct_composition_from_statistics,
            overlap_species_for,
        )

        if loaded.overlap_statistics is not None:
            comp, correction = _step(spec, "overlap correction", lambda: (
                correct_composition_from_statistics(loaded.overlap_statistics, ranges, comp)))
        elif overlap_species_for(ranges):  # else no known species in the ranges can overlap
            comp, correction = _step(spec, "overlap correction", lambda: correct_composition(
                ions, ranges, comp))
    counts = {el: int(comp.atoms(el)) if el in comp.elements else 0
              for el in dict.fromkeys((*settings.elements, *settings.normalize_to))}
    if sum(counts[el] for el in settings.normalize_to) == 0:
        raise SpecimenError(f"specimen {spec.name!r} ({spec.apt}): no "
                            f"{'/'.join(settings.normalize_to)} atoms after ranging with "
                            f"{spec.ranges}; check the range file")
    ratios, sigmas = {}, {}
    for el in settings.elements:
        r, s = ratio_from_counts(counts, el, normalize_to=settings.normalize_to)
        if correction is not None and el in correction.elements and all(
                t in correction.elements for t in settings.normalize_to):
            s = math.hypot(s, correction.ratio_share_sigma(el, settings.normalize_to))
        ratios[el], sigmas[el] = float(r), float(s)
    profile = (loaded.profile if loaded.profile is not None else _step(
        spec, "concentration profile", lambda: concentration_profile(
            ions, ranges, axis=settings.profile_axis, bin_nm=settings.profile_bin_nm,
            normalize_to=tuple(settings.normalize_to), species=species))).to_frame()
    profile_cols = {c: profile[c].to_numpy(np.float64).tolist() for c in profile.columns
                    if c in ("start_nm", "end_nm", "n_atoms") or c.endswith("_ratio")}
    fda_elements = [el for el in settings.elements if el in comp.elements]
    fda = _step(spec, "frequency distribution analysis", lambda: frequency_distribution(
        ions, ranges, block_ions=settings.fda_block_ions, elements=fda_elements,
        species=species))
    fda_rows = [{"element": el, **res.to_dict(), "method": fda.method + loaded.scope()}
                for el, res in fda.species.items()]
    quality = _step(spec, "quality checks", lambda: check_quality(
        ions, ranges, composition=comp if correction is not None else None, species=species))
    qc_rows = [{"check": c.name, "verdict": c.verdict, "value": float(c.value),
                "message": c.message} for c in quality.checks]
    qc_rows += [{"check": name, "verdict": "skipped", "value": math.nan, "message": reason}
                for name, reason in quality.skipped]
    if loaded.slab is not None:
        qc_rows.append({"check": "in_memory_slab", "verdict": "note",
                        "value": (loaded.slab[1] - loaded.slab[0]) / loaded.n_ions,
                        "message": loaded.slab_note()})
    windows = []
    for image in spec.haadf:
        offset = spec.depth.depth_nm if math.isfinite(spec.depth.depth_nm) else 0.0
        windows += _step(spec, f"HAADF analysis of {image}",
                         lambda image=image, offset=offset: _haadf_windows(
                             image, depth_offset_nm=offset, reference=spec.haadf_reference,
                             seed=settings.seed))
    reference = (spec.haadf_reference,) if isinstance(spec.haadf_reference, Path) else ()
    hashes = {str(p): file_sha256(p) for p in (spec.apt, spec.ranges, *spec.haadf, *reference)}
    return SpecimenResult(spec.name, spec.sample, spec.cycles, float(spec.depth.depth_nm),
                          spec.depth.label, spec.replicate, loaded.n_ions,
                          loaded.n_ranged, counts, ratios, sigmas, profile_cols, fda_rows,
                          qc_rows, windows, hashes,
                          correction.moved_shares() if correction is not None else {},
                          spec.depth_sigma_nm)


@dataclass(frozen=True, eq=False)
class StudyOutput:
    """What :func:`run_study` wrote: the folder, the tables and the summary."""

    out_dir: Path
    tables: dict[str, Any]
    summary: dict[str, Any]
    figures: tuple[Path, ...]


def run_study(manifest: Manifest, out_dir: str | os.PathLike, *,
              map_specimens: Callable[..., list] | None = None,
              progress: bool = True) -> StudyOutput:
    """Analyse every specimen and write tables, figures and ``summary.json`` to ``out_dir``.

    Parameters
    ----------
    manifest : Manifest
        From :func:`liprobe.study.manifest.read_manifest`.
    out_dir : path-like
        Output folder (created; existing files of the same names are replaced).
    map_specimens : callable, keyword-only
        ``map(func, items, settings_list) -> list`` in input order (default: serial; see
        :func:`liprobe.study.scaleout.dask_map`). The items are the ``[[haadf]]`` images,
        then the specimens: every independent task of the study goes through the map.
    progress : bool, keyword-only
        Show progress bars (rich) on stderr.

    Returns
    -------
    StudyOutput
    """
    from liprobe.study._assemble import assemble_study

    specs = list(manifest.specimens)
    settings = [manifest.settings] * len(specs)
    loose = None
    if map_specimens is None:
        results = _serial_with_progress(specs, settings, progress)
    else:
        # the [[haadf]] images are independent tasks too: mapped with the specimens (first,
        # being the longest tasks) so that the serial part after the map stays small
        images = list(manifest.haadf)
        outputs = list(map_specimens(_study_task, [*images, *specs],
                                     [manifest.settings] * len(images) + settings))
        if len(outputs) != len(images) + len(specs):
            raise SpecimenError(f"the map function returned {len(outputs)} results for "
                                f"{len(images)} HAADF images and {len(specs)} specimens")
        loose, results = outputs[:len(images)], outputs[len(images):]
    if len(results) != len(specs):
        raise SpecimenError(f"the map function returned {len(results)} results for "
                            f"{len(specs)} specimens")
    by_name = {r.name: r for r in results}
    ordered = [by_name[s.name] for s in specs]
    return assemble_study(manifest, ordered, Path(out_dir), progress=progress,
                          loose_haadf=loose)


def _study_task(item: SpecimenSpec | Any, settings: StudySettings) -> Any:
    """One task of the study map: a specimen's analysis or a ``[[haadf]]`` image's windows."""
    if isinstance(item, SpecimenSpec):
        return analyze_specimen(item, settings)
    from liprobe.study._assemble import haadf_image_windows

    return haadf_image_windows(item, settings.seed)


def _serial_with_progress(specs: list[SpecimenSpec], settings: list[StudySettings],
                          progress: bool) -> list[SpecimenResult]:
    if not progress or not specs:
        return [analyze_specimen(s, st) for s, st in zip(specs, settings, strict=True)]
    from rich.console import Console
    from rich.progress import Progress

    results = []
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("specimens", total=len(specs))
        for spec, st in zip(specs, settings, strict=True):
            bar.update(task, description=f"specimen {spec.name}")
            results.append(analyze_specimen(spec, st))
            bar.advance(task)
    return results


def settings_dict(settings: StudySettings) -> dict[str, Any]:
    """Settings as plain JSON-ready data."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}

"""Run a whole study: every specimen, then aggregation, fits and figures, into one folder.

:func:`analyze_specimen` is a pure, picklable, module-level function of one
:class:`~liprobe.study.manifest.SpecimenSpec` and the settings: it can be mapped over a
dask.distributed cluster (``map_specimens`` of :func:`run_study`, see
:mod:`liprobe.workflow.scaleout`); results come back in manifest order whatever the order of
computation, so the output does not depend on the map function.

Output folder layout written by :func:`run_study` (every table as CSV *and* Parquet)::

    out_dir/
      liprobe-complete.json        every file below and its SHA-256: the folder is complete
                                   (written last, in a staging folder swapped in at the end;
                                   see liprobe.io.output_policy)
      summary.json                 headline numbers + provenance (see below)
      results-schema.json          every table, column (unit, type) and summary key below:
                                   the contract the report reads (liprobe.workflow.
                                   results_schema; reference: docs/results.md)
      tables/<name>.{csv,parquet}  every table of the results schema: specimens, table2,
                                   profiles, fits, growth law, HAADF windows, QC, FDA,
                                   clusters ... (name, section, columns with units:
                                   docs/results.md, generated from
                                   liprobe.workflow.results_tables)
      figures/<name>.{png,svg}     capacity_fade, li_vs_depth, gradient_fits, growth_law,
                                   li_vs_disorder (when data allow)

``summary.json`` holds the headline numbers and the provenance (inputs with their SHA-256,
versions, settings, manifest); its keys are declared in the same schema.
Empty tables are still written (with their declared columns) so the layout is fixed; a
table, column or key not declared in :data:`liprobe.workflow.results_tables.RESULTS_SCHEMA`
is an error when it is written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.errors import LiprobeError, SpecimenError
from liprobe.study.manifest import Manifest, SpecimenSpec, StudySettings
from liprobe.tabular import FrameView

__all__ = ["SpecimenResult", "analyze_specimen", "run_study", "StudyOutput", "file_sha256",
           "TABLE_NAMES"]

def _table_names() -> tuple[str, ...]:
    from liprobe.workflow.results_tables import RESULTS_SCHEMA

    return tuple(t.name for t in RESULTS_SCHEMA.tables if t.required)


#: The tables every study run writes (the required tables of the results schema).
TABLE_NAMES = _table_names()


def file_sha256(path: str | os.PathLike, *, chunk_bytes: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes (hex)."""
    from liprobe.io.output_policy import file_sha256 as sha256

    return sha256(path, chunk_bytes=chunk_bytes)


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
    acquisition: dict[str, Any] = field(default_factory=dict)
    depth_sigma_nm: float = math.nan
    spatial: dict[str, Any] = field(default_factory=dict)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    neighbours: list[dict[str, Any]] = field(default_factory=list)

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
        out.update(self.spatial)
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


def _missing_elements(spec: SpecimenSpec, ranges: Any, settings: StudySettings
                      ) -> tuple[str, ...]:
    """Elements the settings ask for that no ion of the range file holds.

    An error naming the specimen and the range file, unless ``missing_elements = "nan"``
    (then those ratios are NaN and noted); a missing denominator element is always an error.
    """
    present = {el for ion in ranges.ions for el, _ in ion.atoms}
    wanted = dict.fromkeys((*settings.elements, *settings.normalize_to))
    missing = tuple(el for el in wanted if el not in present)
    if not missing:
        return ()
    denominators = [el for el in missing if el in settings.normalize_to]
    if settings.missing_elements == "error" or denominators:
        raise SpecimenError(
            f"specimen {spec.name!r}: the range file {spec.ranges} has no ion of "
            f"{', '.join(denominators or missing)}; add the ranges, or drop the element from "
            "[settings] elements" + ("" if denominators else
                                     ", or set missing_elements = \"nan\" to report NaN"))
    return missing


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
    cluster. One extra thread hashes the inputs and then runs the FDA while the profile and
    quality checks run (two cores busy; the results do not depend on the timing). Any
    failure raises :class:`~liprobe.errors.SpecimenError` naming the specimen and its file;
    nothing is dropped silently.
    """
    from concurrent.futures import ThreadPoolExecutor

    # a second thread: the inputs' SHA-256 (file reads and hashlib release the GIL: hashing
    # a 1.6 GB file takes 1-2 s), then the FDA, overlap the rest of the analysis
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(_input_hashes, spec)
        return _analyze(spec, settings, pool, hashing.result)


def _input_hashes(spec: SpecimenSpec) -> dict[str, str]:
    reference = (spec.haadf_reference,) if isinstance(spec.haadf_reference, Path) else ()
    return {str(p): file_sha256(p) for p in (spec.apt, spec.ranges, *spec.haadf, *reference)}


def _analyze(spec: SpecimenSpec, settings: StudySettings, pool: Any,
             input_hashes: Callable[[], dict[str, str]]) -> SpecimenResult:
    from liprobe.apt.composition import composition_from_counts
    from liprobe.apt.frequency import frequency_distribution
    from liprobe.apt.profiles import concentration_profile
    from liprobe.apt.quality import check_quality
    from liprobe.io import read_ranges
    from liprobe.study.acquisition import merged_acquisition
    from liprobe.workflow.specimen_ions import load_specimen_ions

    ranges = _step(spec, "reading the range file", lambda: read_ranges(spec.ranges))
    missing = _missing_elements(spec, ranges, settings)
    # files above settings.max_in_memory_ions are streamed (liprobe.workflow.specimen_ions):
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
            composition_of,
            correct_composition_from_statistics,
            overlap_species_for,
        )

        if loaded.overlap_statistics is not None:
            comp, correction = _step(spec, "overlap correction", lambda: (
                correct_composition_from_statistics(loaded.overlap_statistics, ranges, comp)))
        elif overlap_species_for(ranges):  # else no known species in the ranges can overlap
            # the same function as the CLI's `composition`: one file, one answer
            comp, correction = _step(spec, "overlap correction", lambda: composition_of(
                ions, ranges, overlap_correction="isotopes", species=species))
    # an element missing from the range file (missing_elements = "nan") has a NaN count, so
    # that every ratio from it, here and in the aggregation, is NaN and never 0
    counts: dict[str, Any] = {
        el: math.nan if el in missing else int(comp.atoms(el)) if el in comp.elements else 0
        for el in dict.fromkeys((*settings.elements, *settings.normalize_to))}
    if sum(counts[el] for el in settings.normalize_to) == 0:
        raise SpecimenError(f"specimen {spec.name!r} ({spec.apt}): no "
                            f"{'/'.join(settings.normalize_to)} atoms after ranging with "
                            f"{spec.ranges}; check the range file")
    # ratios and σ from the composition's full covariance (liprobe.counting): molecular
    # ions and, when corrected, the overlap shares
    ratios, sigmas = {}, {}
    denominator = [t for t in settings.normalize_to if t in comp.elements]
    rat, rat_sigma = comp.ratios(denominator)
    for el in settings.elements:
        if el in missing:
            ratios[el], sigmas[el] = math.nan, math.nan
            continue
        if el in comp.elements:
            e = comp.elements.index(el)
            ratios[el], sigmas[el] = float(rat[e]), float(rat_sigma[e])
        else:
            ratios[el], sigmas[el] = 0.0, 1.0 / sum(counts[t] for t in settings.normalize_to)
    fda_elements = [el for el in settings.elements if el in comp.elements]
    # the FDA runs in the second thread while the profile and the quality checks run here
    # (its numba kernels and NumPy release the GIL): two cores, about half the wall time
    fda_running = pool.submit(_step, spec, "frequency distribution analysis",
                              lambda: frequency_distribution(
                                  ions, ranges, block_ions=settings.fda_block_ions,
                                  elements=fda_elements, species=species))
    profile = (loaded.profile if loaded.profile is not None else _step(
        spec, "concentration profile", lambda: concentration_profile(
            ions, ranges, axis=settings.profile_axis, bin_nm=settings.profile_bin_nm,
            normalize_to=tuple(settings.normalize_to), species=species))).columns()
    profile_cols = {c: np.asarray(v, np.float64).tolist() for c, v in profile.items()
                    if c in ("start_nm", "end_nm", "n_atoms") or c.endswith("_ratio")}
    quality = _step(spec, "quality checks", lambda: check_quality(
        ions, ranges, composition=comp if correction is not None else None, species=species))
    fda = fda_running.result()
    fda_rows = [{"element": el, **res.to_dict(), "method": fda.method + loaded.scope()}
                for el, res in fda.species.items()]
    qc_rows = [{"check": c.name, "verdict": c.verdict, "value": float(c.value),
                "message": c.message, "p_value": float(c.p_value),
                "adjusted_p": float(c.adjusted_p), "exceeds_tolerance": c.exceeds_tolerance,
                "hint": c.hint} for c in quality.checks]
    qc_rows += [{"check": name, "verdict": "skipped", "value": math.nan, "message": reason}
                for name, reason in quality.skipped]
    qc_rows += [{"check": "missing_element", "verdict": "note", "value": math.nan,
                 "message": f"{el} is not in the range file {spec.ranges}: its ratio is NaN "
                 "(settings missing_elements = \"nan\")"} for el in missing]
    if loaded.slab is not None:
        qc_rows.append({"check": "in_memory_slab", "verdict": "note",
                        "value": (loaded.slab[1] - loaded.slab[0]) / loaded.n_ions,
                        "message": loaded.slab_note()})
    # the 3-D analyses the manifest asks for ([analysis.*]; liprobe.workflow.spatial)
    from liprobe.workflow.spatial import run_spatial, spatial_rows

    spatial = _step(spec, "3-D analyses", lambda: run_spatial(
        spec.analysis, ions, ranges, species, seed=settings.seed, name=spec.name,
        whole_specimen=loaded.slab is None))
    spatial_columns, cluster_rows, nn_rows, spatial_qc = spatial_rows(
        spatial, spec.name, scope=loaded.scope())
    qc_rows += spatial_qc
    windows = []
    for image in spec.haadf:
        offset = spec.depth.depth_nm if math.isfinite(spec.depth.depth_nm) else 0.0
        windows += _step(spec, f"HAADF analysis of {image}",
                         lambda image=image, offset=offset: _haadf_windows(
                             image, depth_offset_nm=offset, reference=spec.haadf_reference,
                             seed=settings.seed))
    hashes = input_hashes()
    return SpecimenResult(spec.name, spec.sample, spec.cycles, float(spec.depth.depth_nm),
                          spec.depth.label, spec.replicate, loaded.n_ions,
                          loaded.n_ranged, counts, ratios, sigmas, profile_cols, fda_rows,
                          qc_rows, windows, hashes,
                          correction.moved_shares() if correction is not None else {},
                          merged_acquisition(ions.metadata, spec.acquisition),
                          spec.depth_sigma_nm, spatial_columns, cluster_rows, nn_rows)


@dataclass(frozen=True, eq=False)
class StudyOutput(FrameView):
    """What :func:`run_study` wrote: the folder, the tables and the summary."""

    out_dir: Path
    tables: dict[str, Any]
    summary: dict[str, Any]
    figures: tuple[Path, ...]

    def to_frame(self, name: str = "table2") -> Any:
        """One of the study's tables as a DataFrame (default the Table 2 analogue)."""
        from liprobe.errors import ParameterError

        if name not in self.tables:
            raise ParameterError(f"no table {name!r}; the study wrote "
                                 + ", ".join(sorted(self.tables)))
        return self.tables[name]

    def _summary(self) -> str:
        return (f"{self.summary.get('study', {}).get('n_specimens', '?')} specimens in "
                f"{self.out_dir}; tables: {', '.join(self.tables)}")


def run_study(manifest: Manifest, out_dir: str | os.PathLike, *,
              map_specimens: Callable[..., list] | None = None,
              progress: bool = True, force: bool = False,
              write_figures: Callable[..., list] | None = None) -> StudyOutput:
    """Analyse every specimen and write tables, figures and ``summary.json`` to ``out_dir``.

    The output policy (:mod:`liprobe.io.output_policy`) is applied before any work: an
    ``out_dir`` that holds an input (the study's own folder) is refused; an existing
    non-empty ``out_dir`` is refused unless ``force``; a second run writing the same folder
    refuses at once (lock). The run writes into a hidden staging folder beside ``out_dir``
    and swaps it in, complete with ``liprobe-complete.json`` (every file and its SHA-256),
    only at the end: a killed run leaves the old folder as it was. Input hashes are taken
    before anything is written; an input that changes while the study runs is an error.

    Parameters
    ----------
    manifest : Manifest
        From :func:`liprobe.workflow.manifest_file.read_manifest`.
    out_dir : path-like
        Output folder (created; replaced as a whole with ``force``).
    map_specimens : callable, keyword-only
        ``map(func, items, settings_list) -> list`` in input order (default: serial; see
        :func:`liprobe.workflow.scaleout.dask_map`). The items are the ``[[haadf]]`` images,
        then the specimens: every independent task of the study goes through the map.
    progress : bool, keyword-only
        Show progress bars (rich) on stderr.
    force : bool, keyword-only
        Replace an existing non-empty ``out_dir`` (never one that holds an input).
    write_figures : callable, keyword-only
        ``write_figures(folder, *, tables, gradients, disorder) -> list of paths``, drawing the
        study figures into the staged folder (the CLI passes
        :func:`liprobe.report.study_figures.write_study_figures`); None writes no figures.

    Returns
    -------
    StudyOutput
    """
    from liprobe.io.output_policy import check_output_folder, staged_folder
    from liprobe.workflow.assemble import assemble_study

    out_dir = Path(out_dir)
    inputs = manifest.input_files()
    check_output_folder(out_dir, inputs=inputs, force=force)
    before = _input_state(inputs)
    with staged_folder(out_dir, inputs=inputs, force=force,
                       extra={"study": manifest.name, "manifest": str(manifest.path)}) as stage:
        hashes = {str(p): file_sha256(p) for p in inputs}
        results, loose = _map_study(manifest, map_specimens, progress)
        for res in results:
            for path, digest in res.hashes.items():
                if hashes.get(path, digest) != digest:
                    raise SpecimenError(f"{path}: changed while the study read it (SHA-256 "
                                        "differs); run the study again on stable files")
        output = assemble_study(manifest, results, stage, progress=progress,
                                loose_haadf=loose, input_hashes=hashes,
                                write_figures=write_figures)
        if _input_state(inputs) != before:
            changed = [str(p) for p, a, b in zip(inputs, before, _input_state(inputs),
                                                 strict=True) if a != b]
            raise SpecimenError(f"{changed[0]}: changed while the study ran; nothing was "
                                "written, run the study again on stable files")
    figures = tuple(out_dir / Path(f).relative_to(stage) for f in output.figures)
    return StudyOutput(out_dir, output.tables, output.summary, figures)


def _input_state(inputs: tuple[Path, ...]) -> list[tuple[int, int, int]]:
    out = []
    for path in inputs:
        st = os.stat(path)
        out.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return out


def _map_study(manifest: Manifest, map_specimens: Callable[..., list] | None,
               progress: bool) -> tuple[list[SpecimenResult], list[Any] | None]:
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
    return [by_name[s.name] for s in specs], loose


def _study_task(item: SpecimenSpec | Any, settings: StudySettings) -> Any:
    """One task of the study map: a specimen's analysis or a ``[[haadf]]`` image's windows."""
    if isinstance(item, SpecimenSpec):
        return analyze_specimen(item, settings)
    from liprobe.workflow.assemble import haadf_image_windows

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

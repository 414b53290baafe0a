"""The 3-D analyses of one specimen in a study: surface layer, clusters, nearest neighbours.

What runs is the specimen's :class:`~liprobe.study.manifest_analysis.SpatialAnalysis` (the
manifest's ``[analysis.*]`` tables). :func:`run_spatial` returns the analysis results
(the report draws them); :func:`spatial_rows` flattens them into table rows:

- columns of the ``specimens`` table (always present, NaN where not measured):
  ``surface_layer_nm`` and ``surface_layer_sigma_nm`` (proxigram thickness from the
  isosurface to the specimen's top, counting σ), ``surface_layer_1d_nm`` (the 1-D
  profile's crossing depth at the same threshold), ``surface_layer_threshold`` (atom
  fraction), ``surface_layer_contrast_sigma`` (top-bulk difference in σ);
- one ``clusters`` row per specimen asked (method, parameters, clusters found, the
  random-labelling baseline, mean radius of gyration ...);
- one ``nearest_neighbours`` row per specimen asked (mean k-th NN distance against the
  random-labelling mean ...);
- ``qc`` note rows (check ``spatial``): a specimen without a surface layer, or where an
  analysis could not run, says why (the study goes on: the surface layer is asked of every
  specimen, and one thin needle should not stop a study).

Random labelling is seeded from the study's seed and the specimen's name, so results do not
depend on the order in which specimens are computed.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liprobe.errors import LiprobeError

__all__ = ["SpatialResults", "run_spatial", "spatial_rows", "SURFACE_LAYER_COLUMNS",
           "CLUSTER_COLUMNS", "NEIGHBOUR_COLUMNS"]

#: Columns added to the ``specimens`` table.
SURFACE_LAYER_COLUMNS = ("surface_layer_element", "surface_layer_nm", "surface_layer_sigma_nm",
                         "surface_layer_1d_nm", "surface_layer_threshold",
                         "surface_layer_contrast_sigma")
#: Columns of the ``clusters`` table.
CLUSTER_COLUMNS = ("specimen", "element", "method", "parameters", "n_solute", "n_clusters",
                   "baseline_n_clusters", "baseline_largest_n_solute",
                   "mean_radius_of_gyration_nm", "sd_radius_of_gyration_nm",
                   "median_cluster_solute", "solute_in_clusters_fraction",
                   "mean_cluster_solute_fraction")
#: Columns of the ``nearest_neighbours`` table.
NEIGHBOUR_COLUMNS = ("specimen", "element", "k", "target", "mean_distance_nm",
                     "random_mean_distance_nm", "relative_shift", "n_query", "n_excluded_edge",
                     "edge_exclusion_nm", "n_random")


@dataclass(frozen=True, eq=False)
class SpatialResults:
    """Results of one specimen's 3-D analyses (None: not asked); ``notes``: why not."""

    surface_layer: Any = None
    clusters: Any = None
    nn: Any = None
    notes: tuple[str, ...] = field(default=())


def specimen_rng(seed: int, name: str) -> np.random.Generator:
    """Generator of a specimen's random labelling: the study seed and the name's CRC-32."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def run_spatial(analysis: Any, ions: Any, ranges: Any, species: np.ndarray, *, seed: int,
                name: str, whole_specimen: bool = True) -> SpatialResults:
    """Run the analyses ``analysis`` asks for on one specimen's ions.

    ``whole_specimen`` False (a slab of a streamed file) skips the surface layer (the slab
    does not hold the specimen's top). An analysis the specimen cannot support (no layer,
    too few solute ions, a needle too thin for the NN edge exclusion, an element missing
    from its range file) becomes a note naming why; the rest of the study goes on.
    """
    from liprobe.apt.surface_layer import measure_surface_layer

    notes: list[str] = []
    layer = clusters = nn = None
    request = getattr(analysis, "surface_layer", None)
    if request is not None and not whole_specimen:
        notes.append("surface layer not measured: the ions in memory are a slab from the "
                     "middle of a streamed file, without the specimen's top")
    elif request is not None:
        try:
            layer = measure_surface_layer(
                ions, ranges, element=request.element, voxel_nm=request.voxel_nm,
                delocalization_nm=request.delocalization_nm, bin_nm=request.bin_nm,
                species=species, min_contrast_sigma=request.min_contrast_sigma,
                min_relative_contrast=request.min_relative_contrast)
        except LiprobeError as exc:
            notes.append(f"surface layer not measured: {exc}")
        else:
            if not layer.found:
                notes.append(layer.reason)
    request = getattr(analysis, "clusters", None)
    if request is not None:
        try:
            clusters = _clusters(request, ions, ranges, species, specimen_rng(seed, name))
        except LiprobeError as exc:
            notes.append(f"clusters not measured: {exc}")
    request = getattr(analysis, "nn", None)
    if request is not None:
        from liprobe.apt.neighbours import nearest_neighbour_distribution

        try:
            nn = nearest_neighbour_distribution(
                ions, ranges, rng=specimen_rng(seed + 1, name), element=request.element,
                k=request.k, target=request.target, bin_nm=request.bin_nm,
                max_distance_nm=request.max_distance_nm, n_random=request.n_random,
                species=species)
        except LiprobeError as exc:
            notes.append(f"nearest neighbours not measured: {exc}")
    return SpatialResults(layer, clusters, nn, tuple(notes))


def _clusters(request: Any, ions: Any, ranges: Any, species: np.ndarray,
              rng: np.random.Generator) -> Any:
    from liprobe.apt.clusters import dbscan_clusters, maximum_separation_clusters

    def given(value: float) -> float | None:
        return None if math.isnan(value) else value

    if request.method == "dbscan":
        return dbscan_clusters(ions, ranges, element=request.element, eps_nm=request.eps_nm,
                               min_samples=request.min_samples, n_min=request.nmin,
                               envelope_nm=given(request.envelope_nm) or 0.0,
                               erosion_nm=given(request.erosion_nm) or 0.0,
                               baseline_repeats=request.baseline_repeats, rng=rng,
                               species=species)
    return maximum_separation_clusters(
        ions, ranges, element=request.element, d_max_nm=request.dmax_nm, order=request.order,
        n_min=request.nmin, envelope_nm=given(request.envelope_nm),
        erosion_nm=given(request.erosion_nm), baseline_repeats=request.baseline_repeats,
        rng=rng, species=species)


def spatial_rows(results: SpatialResults, name: str, *, scope: str = ""
                 ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]],
                            list[dict[str, Any]]]:
    """``(specimens columns, clusters rows, nearest_neighbours rows, qc rows)``.

    ``scope`` (e.g. ``", ions a-b of N"``) is appended to the cluster method and the NN
    target when the analyses saw a slab of the file.
    """
    layer = results.surface_layer
    columns: dict[str, Any] = dict.fromkeys(SURFACE_LAYER_COLUMNS, math.nan)
    columns["surface_layer_element"] = ""
    if layer is not None:
        columns.update(surface_layer_element=layer.element,
                       surface_layer_nm=float(layer.thickness_nm),
                       surface_layer_sigma_nm=float(layer.sigma_nm),
                       surface_layer_1d_nm=float(layer.profile_depth_nm),
                       surface_layer_threshold=float(layer.threshold),
                       surface_layer_contrast_sigma=float(layer.contrast_sigma))
    clusters = []
    if results.clusters is not None:
        c = results.clusters
        rg = np.array([k.radius_of_gyration_nm for k in c.clusters], dtype=np.float64)
        solute = np.array([k.n_solute for k in c.clusters], dtype=np.float64)
        element = c.element[0] if len(c.element) == 1 else "+".join(c.element)
        share = [sum(k.composition.get(e, 0.0) for e in c.element) for k in c.clusters]
        base = c.random_label_baseline
        clusters.append({
            "specimen": name, "element": element, "method": c.method + scope,
            "parameters": ", ".join(f"{k}={v:g}" for k, v in c.parameters.items()),
            "n_solute": int(c.n_solute), "n_clusters": int(c.n_clusters),
            "baseline_n_clusters": math.nan if base is None else float(base.n_clusters),
            "baseline_largest_n_solute": math.nan if base is None else int(
                base.largest_n_solute),
            "mean_radius_of_gyration_nm": float(rg.mean()) if rg.size else math.nan,
            "sd_radius_of_gyration_nm": float(rg.std(ddof=1)) if rg.size > 1 else math.nan,
            "median_cluster_solute": float(np.median(solute)) if solute.size else math.nan,
            "solute_in_clusters_fraction": float(solute.sum() / c.n_solute) if c.n_solute
            else math.nan,
            "mean_cluster_solute_fraction": float(np.mean(share)) if share else math.nan})
    neighbours = []
    if results.nn is not None:
        d = results.nn
        neighbours.append({
            "specimen": name, "element": "+".join(d.element), "k": int(d.k),
            "target": d.target + scope, "mean_distance_nm": float(d.mean_distance_nm),
            "random_mean_distance_nm": float(d.random_mean_distance_nm),
            "relative_shift": float(d.mean_distance_nm / d.random_mean_distance_nm - 1.0),
            "n_query": int(d.n_query), "n_excluded_edge": int(d.n_excluded_edge),
            "edge_exclusion_nm": float(d.edge_exclusion_nm), "n_random": int(d.n_random)})
    qc = [{"check": "spatial", "verdict": "note", "value": math.nan, "message": note}
          for note in results.notes]
    return columns, clusters, neighbours, qc

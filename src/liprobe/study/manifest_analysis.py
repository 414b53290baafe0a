"""The manifest's ``[analysis.*]`` tables: the 3-D analyses run on each specimen.

::

    [analysis.surface_layer]      # on by default, every specimen
    enabled = true                # false: no surface-layer measurement
    element = "Li"                # the depleted (or enriched) element
    voxel_nm = 1.0                # field of liprobe.apt.field.concentration_field
    delocalization_nm = 1.5
    bin_nm = 0.5                  # 1-D profile and proxigram bins
    min_contrast_sigma = 5.0      # no layer unless top and bulk differ by this many σ ...
    min_relative_contrast = 0.2   # ... and by this fraction of the bulk value
    specimens = ["ncm300-s-1"]    # optional: only these specimens (default all)

    [analysis.clusters]           # off unless the table is given
    element = "Li"
    method = "maxsep"             # liprobe.apt.clusters.CLUSTER_METHODS
    dmax_nm = 0.5                 # maxsep: linking distance, order, smallest cluster
    order = 1
    nmin = 10
    # eps_nm = 0.5, min_samples = 5   (method = "dbscan"; nmin applies too)
    baseline_repeats = 1          # random-labelling repeats
    specimens = ["ncm300-1000-1"] # optional (default all)

    [analysis.nn]                 # off unless the table is given
    element = "Li"
    k = 1
    target = "solute"             # liprobe.apt.neighbours.NEIGHBOUR_TARGETS
    specimens = ["ncm300-1000-1"]

Every value is checked here (type, bounds, allowed names from the analysis modules that own
them); errors name the file, the line, the table and the key.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields, replace
from typing import Any

from liprobe.apt.clusters import CLUSTER_METHODS
from liprobe.apt.neighbours import NEIGHBOUR_TARGETS
from liprobe.study._manifest_check import Checker

__all__ = ["SurfaceLayerRequest", "ClusterRequest", "NeighbourRequest", "SpatialAnalysis",
           "ANALYSIS_TABLES", "parse_analysis"]


@dataclass(frozen=True)
class SurfaceLayerRequest:
    """Options of :func:`liprobe.apt.surface_layer.measure_surface_layer` for a study."""

    element: str = "Li"
    voxel_nm: float = 1.0
    delocalization_nm: float = 1.5
    bin_nm: float = 0.5
    min_contrast_sigma: float = 5.0
    min_relative_contrast: float = 0.2


@dataclass(frozen=True)
class ClusterRequest:
    """Options of :func:`~liprobe.apt.clusters.maximum_separation_clusters` (``maxsep``) or
    :func:`~liprobe.apt.clusters.dbscan_clusters` (``dbscan``)."""

    element: str = "Li"
    method: str = "maxsep"
    dmax_nm: float = 0.5
    order: int = 1
    nmin: int = 10
    eps_nm: float = 0.5
    min_samples: int = 5
    envelope_nm: float = math.nan
    erosion_nm: float = math.nan
    baseline_repeats: int = 1


@dataclass(frozen=True)
class NeighbourRequest:
    """Options of :func:`liprobe.apt.neighbours.nearest_neighbour_distribution`."""

    element: str = "Li"
    k: int = 1
    target: str = "solute"
    bin_nm: float = 0.05
    max_distance_nm: float = 2.0
    n_random: int = 5


@dataclass(frozen=True)
class SpatialAnalysis:
    """The 3-D analyses asked for one specimen (None: not run)."""

    surface_layer: SurfaceLayerRequest | None = SurfaceLayerRequest()
    clusters: ClusterRequest | None = None
    nn: NeighbourRequest | None = None


#: ``[analysis.<name>]`` tables and their request types.
ANALYSIS_TABLES: dict[str, type] = {"surface_layer": SurfaceLayerRequest,
                                    "clusters": ClusterRequest, "nn": NeighbourRequest}
#: Keys of every table besides the request's fields.
EXTRA_KEYS: dict[str, tuple[str, ...]] = {"surface_layer": ("enabled", "specimens"),
                                          "clusters": ("specimens",), "nn": ("specimens",)}

#: Numbers: (lowest, highest, integer).
_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "voxel_nm": (0.1, 20.0, False), "delocalization_nm": (0.0, 20.0, False),
    "bin_nm": (0.01, 50.0, False), "min_contrast_sigma": (0.0, 1e6, False),
    "min_relative_contrast": (0.0, 1.0, False), "dmax_nm": (0.01, 10.0, False),
    "order": (1, 1000, True), "nmin": (1, 10_000_000, True), "eps_nm": (0.01, 10.0, False),
    "min_samples": (1, 1000, True), "envelope_nm": (0.0, 10.0, False),
    "erosion_nm": (0.0, 10.0, False), "baseline_repeats": (0, 100, True),
    "k": (1, 100, True), "max_distance_nm": (0.02, 50.0, False), "n_random": (1, 100, True),
}
_METHOD_KEYS = {"maxsep": ("dmax_nm", "order"), "dbscan": ("eps_nm", "min_samples")}


def _request(chk: Checker, name: str, raw: dict[str, Any]) -> Any:
    from liprobe.formula import is_element

    cls = ANALYSIS_TABLES[name]
    table = f"analysis.{name}"
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in EXTRA_KEYS[name]:
            continue
        if key == "element":
            if not isinstance(value, str) or not is_element(value):
                raise chk.fail(f"'element' must be an element symbol such as \"Li\", got "
                               f"{value!r}", table, None, key)
        elif key == "method":
            if value not in CLUSTER_METHODS:
                raise chk.fail(f"'method' must be one of {', '.join(CLUSTER_METHODS)}, got "
                               f"{value!r}", table, None, key)
        elif key == "target":
            if value not in NEIGHBOUR_TARGETS:
                raise chk.fail(f"'target' must be one of {', '.join(NEIGHBOUR_TARGETS)}, got "
                               f"{value!r}", table, None, key)
        else:
            low, high, integer = _BOUNDS[key]
            value = chk.number(value, table, None, key, integer=integer)
            chk.bounded(value, low, high, table, None, key)
            value = int(value) if integer else float(value)
        values[key] = value
    if name == "clusters":
        method = values.get("method", ClusterRequest.method)
        for other, keys in _METHOD_KEYS.items():
            given = [k for k in keys if k in values]
            if other != method and given:
                own = " and ".join(_METHOD_KEYS[method])
                raise chk.fail(f"{given[0]!r} is a parameter of method \"{other}\"; with "
                               f"method = \"{method}\" give {own}", table, None, given[0])
    if name == "nn" and values.get("bin_nm", NeighbourRequest.bin_nm) >= values.get(
            "max_distance_nm", NeighbourRequest.max_distance_nm):
        raise chk.fail("'bin_nm' must be below 'max_distance_nm'", table, None, "bin_nm")
    return cls(**values)


def _specimens(chk: Checker, name: str, raw: dict[str, Any], names: tuple[str, ...]
               ) -> tuple[str, ...]:
    table, value = f"analysis.{name}", raw.get("specimens")
    if value is None:
        return names
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise chk.fail("'specimens' must be a non-empty list of [[specimens]] names",
                       table, None, "specimens")
    for item in value:
        if item not in names:
            near = difflib.get_close_matches(item, names, n=1)
            raise chk.fail(f"'specimens': {item!r} is not a [[specimens]] name"
                           + (f"; did you mean {near[0]!r}?" if near else ""),
                           table, None, "specimens")
    return tuple(value)


def parse_analysis(chk: Checker, raw: Any, names: tuple[str, ...]
                   ) -> dict[str, SpatialAnalysis]:
    """Validate the ``[analysis]`` table; return the analyses of each specimen name."""
    out = {n: SpatialAnalysis() for n in names}
    if raw is None:
        return out
    allowed = tuple(ANALYSIS_TABLES)
    if not isinstance(raw, dict):
        raise chk.fail("must hold tables: [analysis.surface_layer], [analysis.clusters], "
                       "[analysis.nn]", "analysis")
    for name, body in raw.items():
        if name not in allowed:
            near = difflib.get_close_matches(name, allowed, n=1)
            hint = f"; did you mean [analysis.{near[0]}]?" if near else (
                f"; allowed: {', '.join(f'[analysis.{a}]' for a in allowed)}")
            raise chk.fail(f"unknown table [analysis.{name}]{hint}", f"analysis.{name}")
        table = f"analysis.{name}"
        keys = tuple(f.name for f in fields(ANALYSIS_TABLES[name])) + EXTRA_KEYS[name]
        chk.keys(body, keys, (), table)
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise chk.fail(f"'enabled' must be true or false, got {enabled!r}", table, None,
                           "enabled")
        request = _request(chk, name, body) if enabled else None
        chosen = _specimens(chk, name, body, names)
        for n in names:
            out[n] = replace(out[n], **{name: request if n in chosen else None})
    return out

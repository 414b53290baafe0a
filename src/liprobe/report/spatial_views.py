"""Per-specimen 3-D analyses in the report: concentration map, isosurface, proxigram,
clusters and nearest-neighbour distribution.

:func:`spatial_view` runs the analyses the manifest asks of a specimen
(:func:`liprobe.workflow.spatial.run_spatial`, the study's own function with the study's
seed, so the figures show the numbers of the tables) and a concentration map of the
analysed element; :func:`spatial_figures` turns it into ``(data-kind, figure or HTML,
caption)`` items for :func:`liprobe.report.specimen_views.specimen_figures`.

The isosurface is an interactive plotly mesh (a ``<div>``; the page inlines plotly.js once,
:func:`liprobe.report.atom_map_3d.plotly_script`). To keep the report small the mesh is
decimated by vertex clustering (Rossignac & Popat 1993: vertices merged per cubic cell,
collapsed triangles dropped; the cell doubles until at most :data:`MAX_FACES` triangles
remain) and sent as float32/int32 arrays: well under 1 MB per specimen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SpatialView", "spatial_view", "spatial_figures", "decimate_mesh",
           "spatial_tables_html", "MAX_FACES"]

#: Most triangles of the isosurface drawn per specimen.
MAX_FACES = 20_000
#: Thickness (nm) of the slab through the needle axis of the concentration map.
MAP_SLAB_NM = 10.0
#: Pixels of the concentration map with fewer atoms are left blank (the needle's edge).
MAP_MIN_ATOMS = 20.0


@dataclass(frozen=True, eq=False)
class SpatialView:
    """A specimen's 3-D analysis results and its concentration map (None: not drawn)."""

    name: str
    results: Any
    concentration_map: Any = None


def spatial_view(spec: Any, ions: Any, ranges: Any, species: np.ndarray, *,
                 seed: int) -> SpatialView | None:
    """The analyses ``spec.analysis`` asks for, and a map of the analysed element.

    None when nothing is asked. The map is a :data:`MAP_SLAB_NM` slab through the needle
    axis (x-z plane, 1 nm pixels), of the surface layer's element (else the clusters').
    """
    from liprobe.apt.field import concentration_map
    from liprobe.errors import LiprobeError
    from liprobe.workflow.spatial import run_spatial

    analysis = getattr(spec, "analysis", None)
    if analysis is None or all(getattr(analysis, k) is None
                               for k in ("surface_layer", "clusters", "nn")):
        return None
    results = run_spatial(analysis, ions, ranges, species, seed=seed, name=spec.name)
    request = analysis.surface_layer or analysis.clusters or analysis.nn
    centre = float(np.median(ions.xyz_nm[:, 1])) if ions.n_ions else 0.0
    try:
        cmap = concentration_map(ions, ranges, element=request.element, axis="y",
                                 pixel_nm=1.0, slab_nm=(centre - 0.5 * MAP_SLAB_NM,
                                                        centre + 0.5 * MAP_SLAB_NM),
                                 min_atoms=MAP_MIN_ATOMS, species=species)
    except LiprobeError:
        cmap = None
    return SpatialView(spec.name, results, cmap)


def decimate_mesh(vertices: np.ndarray, faces: np.ndarray, *, max_faces: int = MAX_FACES,
                  cell_nm: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A mesh of at most ``max_faces`` triangles by vertex clustering.

    Vertices in one cubic cell are merged at their mean; triangles with two corners in one
    cell, and repeated triangles, are dropped. The cell starts at ``cell_nm`` (default the
    mean edge length) and doubles until the mesh is small enough. A mesh already within
    ``max_faces`` is returned as it is.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if f.shape[0] <= max_faces:
        return v, f
    if cell_nm is None:
        cell_nm = float(np.mean(np.linalg.norm(v[f[:, 0]] - v[f[:, 1]], axis=1)))
    cell = max(float(cell_nm), 1e-6)
    while True:
        key = np.floor((v - v.min(axis=0)) / cell).astype(np.int64)
        _, group, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        group = group.ravel()
        merged = np.zeros((counts.size, 3))
        np.add.at(merged, group, v)
        merged /= counts[:, None]
        g = group[f]
        keep = (g[:, 0] != g[:, 1]) & (g[:, 1] != g[:, 2]) & (g[:, 0] != g[:, 2])
        g = g[keep]
        g = np.unique(np.sort(g, axis=1), axis=0) if g.size else g
        if g.shape[0] <= max_faces:
            used, index = np.unique(g, return_inverse=True)
            return merged[used], index.reshape(-1, 3)
        cell *= 2.0


def _isosurface_div(layer: Any, *, div_id: str) -> tuple[str, int, int]:
    """Plotly ``<div>`` of the layer's isosurfaces (decimated); ``(html, faces, faces drawn)``."""
    from liprobe.report.atom_map_3d import _plotly

    go = _plotly()
    surfaces = layer.surfaces.surfaces
    total = sum(int(s.faces.shape[0]) for s in surfaces)
    fig = go.Figure()
    drawn = 0
    for k, s in enumerate(surfaces):
        share = max(100, int(MAX_FACES * s.faces.shape[0] / max(total, 1)))
        v, f = decimate_mesh(s.vertices_nm, s.faces, max_faces=share)
        drawn += int(f.shape[0])
        v, f = v.astype(np.float32), f.astype(np.int32)
        fig.add_trace(go.Mesh3d(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=f[:, 0], j=f[:, 1],
                                k=f[:, 2], intensity=v[:, 2], colorscale="Viridis",
                                opacity=0.75, showscale=False, name=f"surface {k + 1}",
                                flatshading=True))
    fig.update_layout(height=420, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      scene={"aspectmode": "data", "xaxis_title": "x (nm)",
                             "yaxis_title": "y (nm)",
                             "zaxis": {"title": "z (nm)", "autorange": "reversed"}})
    html = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})
    return html, total, drawn


def spatial_figures(view: SpatialView | None, *, with_3d: bool = True
                    ) -> list[tuple[str, Any, str]]:
    """The 3-D analysis figures of one specimen: ``(data-kind, Figure or HTML, caption)``."""
    from liprobe.report.spatial_figures import (
        plot_clusters,
        plot_concentration_map,
        plot_nn_distribution,
    )

    if view is None:
        return []
    out: list[tuple[str, Any, str]] = []
    res, name = view.results, view.name
    layer = res.surface_layer
    if view.concentration_map is not None:
        m = view.concentration_map
        fig = plot_concentration_map(m)
        for ax in fig.axes[:2]:  # the map and its σ: analysis direction downwards
            ax.invert_yaxis()
        out.append(("concentration-map", fig,
                    f"{m.element} atom fraction (left) and its counting σ (right) in a "
                    f"{MAP_SLAB_NM:g}-nm slab through the axis of {name} (x-z plane, 1 nm "
                    "pixels, analysis direction downwards; pixels with under "
                    f"{MAP_MIN_ATOMS:g} atoms blank). Conclusion: a band at the top "
                    "is a surface layer; spots or lines are clusters or Li pipes."))
    if layer is not None and layer.found and layer.surfaces is not None:
        summary = (f"the {layer.element} {layer.threshold:.3f} isosurface (midway between "
                   f"the top's {layer.surface_fraction:.3f} and the bulk's "
                   f"{layer.bulk_fraction:.3f}) lies {layer.thickness_nm:.1f} ± "
                   f"{layer.sigma_nm:.2f} nm (counting σ) below the specimen's top along its "
                   f"normal; the 1-D profile crosses it at {layer.profile_depth_nm:.1f} nm")
        if with_3d:
            html, total, drawn = _isosurface_div(layer, div_id=f"isosurface-{_slug(name)}")
            out.append(("isosurface", html, f"Interactive {layer.element} isosurface of "
                        f"{name} ({layer.n_surfaces} surface(s), {layer.surface_area_nm2:.0f} "
                        f"nm²; {drawn} of {total} triangles drawn, coloured by depth; drag "
                        f"to rotate). Conclusion: {summary}."))
        out.append(("proxigram", _plot_layer_proxigram(layer),
                    f"Proxigram of {name}: {layer.element} atom fraction ± σ (left axis) and "
                    "ions per bin (right axis, grey) against signed distance from the "
                    f"{layer.element} isosurface (negative: towards the top; bins with under "
                    "10 % of the median ion count not drawn). The top surface is where the "
                    f"ion count falls to half its plateau (dotted). Conclusion: {summary} (a "
                    "tilted or curved layer makes the two differ)."))
    if res.clusters is not None:
        c, base = res.clusters, res.clusters.random_label_baseline
        excess = ("" if base is None else
                  f"; random labelling finds {base.n_clusters:g} with the same parameters, so "
                  + ("these are real clusters" if c.n_clusters > 2 * base.n_clusters + 2
                     else "these are not distinguishable from chance"))
        out.append(("clusters", plot_clusters(c),
                    f"{c.method} {'+'.join(c.element)} clusters of {name} ("
                    + ", ".join(f"{k} {v:g}" for k, v in c.parameters.items())
                    + f"): centroids (left, marker ~ solute ions) and sizes (right). "
                    f"Conclusion: {c.n_clusters} clusters{excess}; clusters strung along "
                    "a line are a line feature (Li pipe), not a precipitate."))
    if res.nn is not None:
        d = res.nn
        shift = d.mean_distance_nm / d.random_mean_distance_nm - 1.0
        out.append(("nn-distribution", plot_nn_distribution(d),
                    f"{_ordinal(d.k)} nearest-neighbour distances of {'+'.join(d.element)} to "
                    f"{d.target} ions in {name}, against {d.n_random} random labellings "
                    f"(envelope; {d.n_excluded_edge} ions within {d.edge_exclusion_nm:g} nm "
                    f"of the edge left out). Conclusion: mean {d.mean_distance_nm:.3f} nm "
                    f"vs {d.random_mean_distance_nm:.3f} nm at random ({100 * shift:+.1f} %)"
                    + ("; solute sits closer together than at random (clustering)"
                       if shift < -0.02 else "; no clustering beyond chance at this scale")
                    + "."))
    return out


def _plot_layer_proxigram(layer: Any) -> Any:
    """The layer element's fraction ± σ and the ion count per bin against distance."""
    from liprobe.report.canvas import element_color, new_figure

    p = layer.proxigram
    counts = p.ion_counts.astype(np.float64)
    keep = counts >= 0.1 * np.median(counts[counts > 0]) if (counts > 0).any() else counts > 0
    i = p.elements.index(layer.element)
    x = p.center_nm
    fig, ax = new_figure((7.0, 3.6))
    ax.errorbar(x[keep], p.fractions[keep, i], yerr=p.sigmas[keep, i], marker="o", ms=3,
                lw=1, capsize=2, color=element_color(layer.element), label=layer.element)
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
    ax.axvline(-layer.thickness_nm, color="0.3", lw=0.8, ls=":",
               label=f"top surface ({layer.thickness_nm:.1f} nm)")
    ax.set_xlabel("signed distance from the isosurface (nm)")
    ax.set_ylabel(f"{layer.element} atom fraction")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    twin.step(x, counts, where="mid", color="0.6", lw=1)
    twin.set_ylim(bottom=0)
    twin.tick_params(axis="y", colors="0.4", labelsize=7)
    if keep.any():
        ax.set_xlim(x[keep].min() - 1.0, x[keep].max() + 1.0)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def spatial_tables_html(tables: dict[str, Any]) -> str:
    """The study's ``clusters`` and ``nearest_neighbours`` tables ('' when both are empty)."""
    from liprobe.report._html_parts import render_data_table

    parts = []
    for name, caption in (("clusters", "Clusters per specimen, with the random-labelling "
                           "baseline ([analysis.clusters])"),
                          ("nearest_neighbours", "Nearest-neighbour distances per specimen "
                           "against random labelling ([analysis.nn])")):
        frame = tables.get(name)
        if frame is not None and len(frame):
            parts.append(render_data_table(frame, table_id=f"table-{name}", caption=caption,
                                           download=f"tables/{name}.csv"))
    return "".join(parts)


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)

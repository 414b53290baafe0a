"""Figures of the 3-D analyses: maps, isosurfaces, proxigrams, clusters, NN distributions.

``plot_*`` return a matplotlib :class:`~matplotlib.figure.Figure` (Agg, no pyplot state);
the ``*_html`` functions return a self-contained HTML fragment, a ``<figure>`` whose
``data-kind`` attribute names the kind (``concentration-map``, ``isosurface``,
``proxigram``, ``clusters``, ``nn-distribution``). The isosurface is a 3-D interactive
plotly mesh (plotly.js inlined once per fragment unless ``include_plotlyjs=False``, for a
page that already loaded it). Nothing here computes analysis results.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from liprobe.report._html_parts import escape
from liprobe.report.canvas import new_figure

__all__ = ["FIGURE_KINDS", "plot_concentration_map", "plot_surface_proxigram",
           "plot_clusters", "plot_nn_distribution", "figure_html", "concentration_map_html",
           "isosurface_html", "proxigram_html", "clusters_html", "nn_distribution_html"]

#: The ``data-kind`` values of the fragments.
FIGURE_KINDS = ("concentration-map", "isosurface", "proxigram", "clusters", "nn-distribution")


def figure_html(fig: Figure, *, kind: str, caption: str) -> str:
    """``<figure data-kind=kind>`` holding ``fig`` as a base64 PNG and its caption."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure data-kind="{escape(kind)}"><img class="report-figure" '
            f'alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def plot_concentration_map(cmap) -> Figure:
    """Atom-fraction map and its σ side by side (a ``ConcentrationMap``)."""
    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    u, v = cmap.plane_axes
    for ax, values, label in ((axes[0], cmap.fraction, f"{cmap.element} atom fraction"),
                              (axes[1], cmap.sigma, "σ")):
        image = ax.imshow(values.T, origin="lower", extent=cmap.extent_nm, cmap="viridis",
                          aspect="equal", interpolation="nearest")
        ax.set_xlabel(f"{u} (nm)")
        ax.set_ylabel(f"{v} (nm)")
        fig.colorbar(image, ax=ax, label=label, shrink=0.85)
    low, high = cmap.slab_nm
    fig.suptitle(f"{cmap.element} along {cmap.axis} from {low:.1f} to {high:.1f} nm "
                 f"({cmap.thickness_nm:.1f} nm slab), {cmap.pixel_nm:g} nm pixels", fontsize=9)
    return fig


def plot_surface_proxigram(profile, *, elements: Sequence[str] | None = None) -> Figure:
    """Proxigram: atom fraction ± σ against signed distance from the isosurface."""
    fig, ax = new_figure()
    names = profile.elements if elements is None else tuple(elements)
    frac, sig = profile.fractions, profile.sigmas
    for name in names:
        i = profile.elements.index(name)
        ax.errorbar(profile.center_nm, frac[:, i], yerr=sig[:, i], marker="o", ms=3, lw=1,
                    capsize=2, label=name)
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("signed distance from the isosurface (nm)")
    ax.set_ylabel("atom fraction")
    ax.legend(fontsize=8)
    return fig


def plot_clusters(result) -> Figure:
    """Cluster centroids (x-z, marker area ~ solute ions) and the size distribution."""
    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    if result.clusters:
        c = np.array([k.centroid_nm for k in result.clusters])
        n = np.array([k.n_solute for k in result.clusters], dtype=float)
        left.scatter(c[:, 0], c[:, 2], s=10 + 90 * n / n.max(), alpha=0.6)
        right.hist(n, bins=min(30, max(5, n.size)), color="tab:blue", alpha=0.7)
    left.set_xlabel("x (nm)")
    left.set_ylabel("z (nm)")
    left.set_title(f"{result.n_clusters} {'+'.join(result.element)} clusters ({result.method})",
                   fontsize=9)
    base = result.random_label_baseline
    right.set_xlabel("solute ions per cluster")
    right.set_ylabel("clusters")
    right.set_title("random labelling: " + ("not run" if base is None else
                                            f"{base.n_clusters:g} clusters, largest "
                                            f"{base.largest_n_solute} ions"), fontsize=9)
    return fig


def plot_nn_distribution(nn) -> Figure:
    """k-th NN distance distribution against random labelling (mean and envelope)."""
    fig, ax = new_figure()
    x = nn.centers_nm
    ax.fill_between(x, nn.random_low, nn.random_high, color="0.8", step="mid",
                    label=f"random labelling ({nn.n_random}, envelope)")
    ax.step(x, nn.random_mean, where="mid", color="0.4", lw=1)
    ax.step(x, nn.observed, where="mid", color="tab:red", lw=1.2, label="observed")
    ax.set_xlabel(f"{nn.k}{'st' if nn.k == 1 else 'th'} nearest-neighbour distance (nm), "
                  f"{'+'.join(nn.element)} to {nn.target}")
    ax.set_ylabel("frequency")
    ax.legend(fontsize=8)
    return fig


def concentration_map_html(cmap, *, caption: str | None = None) -> str:
    """``<figure data-kind="concentration-map">``."""
    return figure_html(plot_concentration_map(cmap), kind="concentration-map",
                       caption=caption or f"{cmap.element} concentration map")


def proxigram_html(profile, *, caption: str | None = None,
                   elements: Sequence[str] | None = None) -> str:
    """``<figure data-kind="proxigram">``."""
    return figure_html(plot_surface_proxigram(profile, elements=elements), kind="proxigram",
                       caption=caption or f"proxigram: {profile.axis}")


def clusters_html(result, *, caption: str | None = None) -> str:
    """``<figure data-kind="clusters">``."""
    return figure_html(plot_clusters(result), kind="clusters",
                       caption=caption or f"{result.method} clusters")


def nn_distribution_html(nn, *, caption: str | None = None) -> str:
    """``<figure data-kind="nn-distribution">``."""
    return figure_html(plot_nn_distribution(nn), kind="nn-distribution",
                       caption=caption or f"{nn.k}-th nearest-neighbour distances")


def isosurface_html(surfaces, *, caption: str | None = None,
                    include_plotlyjs: bool = True, max_faces: int = 200_000) -> str:
    """``<figure data-kind="isosurface">``: an interactive 3-D plotly mesh per surface.

    ``include_plotlyjs=True`` inlines plotly.js (self-contained, about 4 MB); pass False
    when the page already holds it. Surfaces beyond ``max_faces`` triangles in total are
    left out (largest first).
    """
    try:
        import plotly.graph_objects as go
    except ImportError:
        from liprobe.errors import DependencyError

        raise DependencyError("the interactive isosurface figure needs plotly, which is not "
                              "installed; pip install 'liprobe[report]' (or plotly)") from None

    traces, total = [], 0
    for k, s in enumerate(surfaces.surfaces):
        if total + s.faces.shape[0] > max_faces:
            break
        total += s.faces.shape[0]
        v, f = s.vertices_nm, s.faces
        traces.append(go.Mesh3d(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=f[:, 0], j=f[:, 1],
                                k=f[:, 2], opacity=0.6, name=f"surface {k + 1}",
                                showscale=False, flatshading=False))
    fig = go.Figure(traces)
    fig.update_layout(scene={"xaxis_title": "x (nm)", "yaxis_title": "y (nm)",
                             "zaxis_title": "z (nm)", "aspectmode": "data"},
                      margin={"l": 0, "r": 0, "t": 30, "b": 0},
                      title=f"{surfaces.element} {surfaces.threshold:g} isosurfaces")
    body = fig.to_html(full_html=False, include_plotlyjs=bool(include_plotlyjs))
    text = caption or (f"{len(surfaces.surfaces)} {surfaces.element} isosurfaces at "
                       f"{surfaces.threshold:g}")
    return (f'<figure data-kind="isosurface">{body}'
            f"<figcaption>{escape(text)}</figcaption></figure>")

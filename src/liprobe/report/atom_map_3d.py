"""Interactive 3-D atom maps for the HTML report (plotly, offline).

The report inlines plotly.js once (:func:`plotly_script`, in the page head) and each map is
a ``<div>`` with its data (:func:`atom_map_3d_html`): one ``scatter3d`` trace per element
(the legend toggles species), a seeded subsample shared fairly across the species, and the
detected line features as lines. Needs the optional ``plotly`` package; without it the
caller gets a :class:`~liprobe.errors.DependencyError` naming the install command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from liprobe.errors import DependencyError
from liprobe.report.canvas import element_color

__all__ = ["plotly_script", "atom_map_3d_html", "have_plotly"]


def have_plotly() -> bool:
    """True when plotly can be imported."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return False
    return True


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise DependencyError("the interactive 3-D atom maps need plotly: pip install "
                              "'liprobe[report]' (or pip install plotly)") from None
    return go


def plotly_script() -> str:
    """``<script>`` holding plotly.js (minified, ~4.6 MB): include once per page."""
    _plotly()
    from plotly.offline import get_plotlyjs

    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def atom_map_3d_html(xyz_nm: np.ndarray, element_of_ion: np.ndarray,
                     elements: Sequence[str], *, features: Any = None,
                     max_points: int = 6000, div_id: str = "atom-map-3d",
                     seed: int = 0) -> str:
    """A ``<div>`` with an interactive 3-D scatter of the ions, one trace per element.

    At most ``max_points`` ions are drawn: every element keeps a share proportional to its
    count but at least ``max_points / (4 n_elements)`` (so a minor element stays visible),
    drawn with a seeded generator. Coordinates are rounded to 0.1 nm to keep the page small.
    """
    go = _plotly()
    rng = np.random.default_rng(seed)
    xyz = np.asarray(xyz_nm, dtype=np.float32)
    species = np.asarray(element_of_ion)
    counts = np.array([(species == j).sum() for j in range(len(elements))], dtype=np.float64)
    total = max(counts.sum(), 1.0)
    floor = max_points / (4 * max(len(elements), 1))
    quota = np.minimum(counts, np.maximum(counts / total * max_points, floor)).astype(int)
    fig = go.Figure()
    for j, name in enumerate(elements):
        idx = np.flatnonzero(species == j)
        if not idx.size:
            continue
        if idx.size > quota[j]:
            idx = rng.choice(idx, quota[j], replace=False)
        p = np.round(xyz[idx].astype(np.float64), 1)
        fig.add_trace(go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="markers", name=name,
                                   marker={"size": 1.6, "color": element_color(name),
                                           "opacity": 0.7}))
    for k, feature in enumerate(getattr(features, "features", ()) or ()):
        ends = np.round(feature.endpoints_nm(), 2)
        fig.add_trace(go.Scatter3d(x=ends[:, 0], y=ends[:, 1], z=ends[:, 2], mode="lines",
                                   name="Li line features" if k == 0 else None,
                                   showlegend=k == 0, legendgroup="lines",
                                   line={"color": "black", "width": 5}))
    fig.update_layout(height=480, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      legend={"itemsizing": "constant", "x": 0.0, "y": 1.0,
                              "bgcolor": "rgba(255,255,255,0.7)"},
                      scene={"aspectmode": "data", "xaxis_title": "x (nm)",
                             "yaxis_title": "y (nm)",
                             "zaxis": {"title": "z (nm)", "autorange": "reversed"}})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})

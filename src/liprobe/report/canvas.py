"""The one figure helper of liprobe: figures without pyplot, shared colours and depth axis.

Every figure of the CLI and the report is a :class:`matplotlib.figure.Figure` on its own
Agg canvas (thread- and process-safe, no GUI, and no ``matplotlib.use`` switching the
caller's backend). Conventions every figure follows:

- one colour per cycle count (:func:`cycle_color`), the same in every figure;
- one depth axis (:func:`depth_axis`): depth below the secondary-particle surface, surface
  at 0 and marked, linear to 10 nm then logarithmic, bulk specimens at a marked "bulk"
  position to the right.
"""

from __future__ import annotations

import base64
import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["new_figure", "new_figures", "save_figure", "png_base64", "svg_text",
           "cycle_color", "depth_axis", "plot_depth", "element_color", "BULK_PLOT_DEPTH_NM",
           "PHASE_COLORS"]

#: Where bulk specimens (no stated depth) sit on the depth axis, labelled "bulk".
BULK_PLOT_DEPTH_NM = 8000.0
#: Linear part of the depth axis (surface to 10 nm), logarithmic beyond.
DEPTH_LINEAR_NM = 10.0

#: Fixed colours of the usual cycle counts (Chae et al.: 0, 2, 100, 300 cycles); others
#: are taken from a colour-blind-safe cycle by their rank.
_CYCLE_COLORS = {0: "#4d4d4d", 1: "#8c6d31", 2: "#8c6d31", 100: "#1f77b4", 300: "#d62728"}
_EXTRA = ("#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#bcbd22")
_ELEMENT_COLORS = {"Li": "#d62728", "Ni": "#2ca02c", "Co": "#1f77b4", "Mn": "#9467bd",
                   "O": "#7f7f7f", "H": "#bcbd22", "C": "#8c564b"}
#: Colour of each HAADF phase label.
PHASE_COLORS = {"layered": "#1f77b4", "spinel-like": "#ff7f0e", "rock-salt": "#d62728"}


def _margins(fig: Figure, size: tuple[float, float], ncols: int, nrows: int) -> None:
    """Fixed margins in inches (no layout engine: drawing a report's hundred figures with
    constrained layout doubles the time, for margins that are the same every time)."""
    width, height = size
    fig.subplots_adjust(left=min(0.75 / width, 0.3), right=1 - min(0.2 / width, 0.1),
                        bottom=min(0.75 / height, 0.35), top=1 - min(0.4 / height, 0.2),
                        wspace=0.45 if ncols > 1 else 0.2, hspace=0.7 if nrows > 1 else 0.2)


def new_figure(size: tuple[float, float] = (7.0, 4.0)) -> tuple[Figure, Any]:
    """A figure on an Agg canvas with fixed margins, and its one axes."""
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    _margins(fig, size, 1, 1)
    return fig, fig.add_subplot()


def new_figures(ncols: int, nrows: int = 1, *, size: tuple[float, float] | None = None,
                **subplot_kw: Any) -> tuple[Figure, np.ndarray]:
    """A figure with an ``nrows`` x ``ncols`` grid of axes (always a flat array)."""
    size = size or (3.2 * ncols, 3.0 * nrows)
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    _margins(fig, size, ncols, nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw=subplot_kw or None)
    return fig, axes.ravel()


#: Figure formats liprobe writes (by suffix).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def check_figure_path(path: str | os.PathLike) -> Path:
    """``path`` if its suffix is a figure format, else a one-line :class:`ParameterError`."""
    from liprobe.errors import ParameterError

    path = Path(path)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise ParameterError(f"{path}: {path.suffix or 'no suffix'!s} is not a figure format; "
                             f"name the figure with one of {', '.join(FIGURE_SUFFIXES)}")
    return path


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 150,
                inputs: tuple[str | os.PathLike, ...] = (), force: bool = True) -> Path:
    """Write ``fig`` atomically (format from the suffix: .png, .pdf, .svg).

    The bytes are deterministic: no date in the metadata and a fixed SVG hash salt, so
    the same figure gives the same file. ``inputs`` and ``force`` follow the output policy
    (:mod:`liprobe.io.output_policy`).
    """
    import matplotlib

    from liprobe.io.atomic import atomic_path
    from liprobe.io.output_policy import check_output_file

    path = check_figure_path(path)
    check_output_file(path, inputs=inputs, force=force, what="figure")
    fmt = path.suffix.lower().lstrip(".")
    metadata = {"Date": None} if fmt in ("svg", "pdf") else {}
    if fmt == "pdf":
        metadata["CreationDate"] = None
        del metadata["Date"]
    with matplotlib.rc_context({"svg.hashsalt": "liprobe"}), atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=fmt, metadata=metadata)
    return path


def png_base64(fig: Figure, *, dpi: int = 100) -> str:
    """The figure as base64 PNG text (for a ``data:`` URI)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def svg_text(fig: Figure) -> str:
    """The figure as SVG text (no XML prolog)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def cycle_color(cycles: Any) -> str:
    """The colour of a cycle count, the same in every figure."""
    try:
        n = int(cycles)
    except (TypeError, ValueError):
        return "#000000"
    if n in _CYCLE_COLORS:
        return _CYCLE_COLORS[n]
    return _EXTRA[abs(n) % len(_EXTRA)]


def element_color(element: str) -> str:
    """The colour of an element (atom maps, spectra, profiles)."""
    return _ELEMENT_COLORS.get(element, "#17becf")


def plot_depth(depth_nm: Any) -> np.ndarray:
    """Depths as plotted: NaN (bulk specimens) at :data:`BULK_PLOT_DEPTH_NM`."""
    values = np.asarray(depth_nm, dtype=np.float64)
    return np.where(np.isfinite(values), values, BULK_PLOT_DEPTH_NM)


def depth_axis(ax: Any, *, bulk: bool = True, axis: str = "x",
               label: str = "depth below the particle surface (nm)") -> None:
    """Apply the depth-axis convention to ``ax``: surface at 0 (marked), linear to 10 nm,
    logarithmic beyond, and the bulk position marked when ``bulk``."""
    set_scale = ax.set_xscale if axis == "x" else ax.set_yscale
    set_scale("symlog", linthresh=DEPTH_LINEAR_NM, linscale=0.6)
    ticks = [0.0, 10.0, 100.0, 1000.0]
    labels = ["0\nsurface", "10", "100", "1000"]
    top = BULK_PLOT_DEPTH_NM * 1.6 if bulk else 6000.0
    if bulk:
        ticks.append(BULK_PLOT_DEPTH_NM)
        labels.append("bulk")
    if axis == "x":
        ax.set_xlim(-0.5, top)
        ax.set_xticks(ticks, labels)
        ax.axvline(0.0, color="#444444", lw=1.2)
        if bulk:
            ax.axvspan(BULK_PLOT_DEPTH_NM / 1.35, top, color="#eeeeee", lw=0, zorder=0)
        ax.set_xlabel(label)
    else:
        ax.set_ylim(-0.5, top)
        ax.set_yticks(ticks, labels)
        ax.axhline(0.0, color="#444444", lw=1.2)
        ax.set_ylabel(label)


def finite(values: Any) -> bool:
    """True when ``values`` holds at least one finite number."""
    arr = np.asarray(values, dtype=np.float64)
    return bool(arr.size and np.isfinite(arr).any())


def fmt_number(value: Any, spec: str = ".3g") -> str:
    """Display text of a number; "n/a" for None, NaN or infinity (never "inf")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return format(number, spec) if math.isfinite(number) else "n/a"

"""Figures without pyplot: an Agg canvas per figure (thread- and process-safe, no GUI)."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["new_figure", "save_figure"]


def new_figure(size: tuple[float, float] = (7.0, 4.0)) -> tuple[Figure, object]:
    """A constrained-layout figure on an Agg canvas and its one axes."""
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


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
    (:mod:`liprobe.io._output_policy`).
    """
    import matplotlib

    from liprobe.io._atomic import atomic_path
    from liprobe.io._output_policy import check_output_file

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

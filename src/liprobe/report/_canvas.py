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


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Write ``fig`` (format from the suffix: .png, .pdf, .svg)."""
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path

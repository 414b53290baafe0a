"""Notebook views of liprobe's data and result objects: ``.to_frame()`` and ``_repr_html_``.

A class mixes in :class:`FrameView` and defines ``to_frame()`` (a pandas DataFrame of its
content); Jupyter then shows a one-line summary and the first rows of that frame.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["FrameView"]


class FrameView:
    """Mixin: ``_repr_html_`` from ``to_frame()`` and ``_summary()``."""

    #: Rows shown in a notebook.
    _repr_rows = 12

    def to_frame(self) -> Any:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def _summary(self) -> str:
        return type(self).__name__

    def _repr_rows_frame(self) -> tuple[Any, int]:
        """(the first rows as a DataFrame, the number of rows); override for big data."""
        frame = self.to_frame()
        return frame.head(self._repr_rows), len(frame)

    def _repr_html_(self) -> str:
        shown, rows = self._repr_rows_frame()
        more = (f"<p><small>first {self._repr_rows} of {rows} rows; "
                "<code>.to_frame()</code> has them all</small></p>" if rows > self._repr_rows
                else "")
        return (f"<div><strong>{html.escape(type(self).__name__)}</strong>: "
                f"{html.escape(self._summary())}{shown.to_html(index=False, max_cols=20)}"
                f"{more}</div>")

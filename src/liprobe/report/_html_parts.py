"""Building blocks of the self-contained HTML report: escaping, tables, figures, CSS.

Everything here returns HTML text with no external reference (no URL, no file link):
figures are embedded as base64 PNG (or inline SVG when no PNG exists), tables as
``<table>`` elements, styles as one inline ``<style>`` block.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CSS",
    "escape",
    "format_value",
    "render_table",
    "render_figure",
    "render_note",
    "render_mapping",
    "render_list",
]

#: Small inline style sheet (no web fonts, no external resources).
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1em 2em 4em; color: #1d1d1f;
       line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: 0.2em; margin-top: 2.2em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
nav ol { columns: 2; font-size: 0.95em; }
figure { margin: 1em 0; }
figure img, figure svg { max-width: 100%; height: auto; display: block;
                         border: 1px solid #e5e5e5; }
figcaption { font-size: 0.9em; color: #555; }
.table-wrap { overflow-x: auto; margin: 0.8em 0; }
.table-wrap.long { max-height: 26em; overflow-y: auto; border-bottom: 1px solid #d0d7de; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #d0d7de; padding: 0.2em 0.5em; text-align: right; }
th { background: #f3f4f6; }
td.text, th.text { text-align: left; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 0.8em; }
.warning { background: #fdecea; border-left: 4px solid #d93025; padding: 0.3em 0.8em;
           margin: 0.3em 0; }
.headline { background: #e8f4ea; border-left: 4px solid #2e7d32; padding: 0.5em 0.8em; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em;
        font-size: 0.9em; }
dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; word-break: break-all; }
.muted { color: #666; font-size: 0.9em; }
"""

_SVG_HEAD = re.compile(r"^.*?(?=<svg)", re.S)


def escape(text: Any) -> str:
    """HTML-escape ``str(text)``."""
    return html.escape(str(text), quote=True)


def format_value(value: Any, *, digits: int = 4) -> str:
    """Display text of one table cell: floats to ``digits`` significant figures."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
        number = float(value)
        if math.isnan(number):
            return ""
        if number != 0 and (abs(number) >= 1e5 or abs(number) < 1e-3):
            return f"{number:.{digits - 1}e}"
        return f"{number:.{digits}g}"
    return str(value)


def render_table(frame: Any, *, table_id: str, caption: str, max_rows: int = 200) -> str:
    """A pandas DataFrame as an HTML ``<table>`` (at most ``max_rows`` rows shown)."""
    n_rows = int(frame.shape[0])
    shown = frame.iloc[:max_rows]
    head = "".join(
        f'<th class="{"text" if frame[c].dtype.kind in "OUSb" else "num"}">{escape(c)}</th>'
        for c in frame.columns
    )
    kinds = [frame[c].dtype.kind for c in frame.columns]
    rows = []
    for record in shown.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="{"text" if k in "OUSb" else "num"}">{escape(format_value(v))}</td>'
            for v, k in zip(record, kinds)
        )
        rows.append(f"<tr>{cells}</tr>")
    more = (
        f'<p class="muted">Showing {max_rows} of {n_rows} rows; the full table is in '
        f"the CSV beside this report.</p>"
        if n_rows > max_rows
        else ""
    )
    wrap = "table-wrap long" if n_rows > 20 else "table-wrap"
    return (
        f'<div class="{wrap}"><table id="{escape(table_id)}" data-rows="{n_rows}">'
        f"<caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def render_figure(png: Path | None, svg: Path | None, *, figure_id: str, caption: str) -> str:
    """A figure embedded in the page: base64 PNG, else inline SVG."""
    if png is not None:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        body = (
            f'<img id="{escape(figure_id)}" class="report-figure" alt="{escape(caption)}" '
            f'src="data:image/png;base64,{data}">'
        )
    elif svg is not None:
        text = _SVG_HEAD.sub("", svg.read_text(encoding="utf-8"), count=1)
        body = text.replace(
            "<svg", f'<svg id="{escape(figure_id)}" class="report-figure"', 1
        )
    else:  # pragma: no cover - callers pass at least one file
        return render_note(f"figure {caption}: no PNG or SVG file")
    return f"<figure>{body}<figcaption>{escape(caption)}</figcaption></figure>"


def render_note(text: str) -> str:
    """A visible 'not available' note."""
    return f'<p class="note">{escape(text)}</p>'


def render_mapping(mapping: Mapping[str, Any], *, dl_id: str | None = None) -> str:
    """A flat key-value mapping as a definition list (nested values as compact JSON)."""
    import json

    items = []
    for key, value in mapping.items():
        if isinstance(value, (Mapping, list, tuple)):
            shown = json.dumps(value, default=str, sort_keys=True)
        else:
            shown = format_value(value, digits=6)
        items.append(f"<dt>{escape(key)}</dt><dd>{escape(shown)}</dd>")
    ident = f' id="{escape(dl_id)}"' if dl_id else ""
    return f'<dl class="kv"{ident}>{"".join(items)}</dl>'


def render_list(items: Sequence[Any], *, css_class: str) -> str:
    """One ``<div class=css_class>`` per item."""
    return "".join(f'<div class="{css_class}">{escape(item)}</div>' for item in items)

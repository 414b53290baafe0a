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
    "readable",
    "render_data_table",
    "figure_html",
    "details",
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
figure.report { border: 1px solid #e5e5e5; padding: 0.5em; border-radius: 4px; }
figure.report > img { margin: 0 auto; }
table.claims td { text-align: left; vertical-align: top; }
td.verdict-supported { background: #e8f4ea; font-weight: 600; }
td.verdict-not-determined { background: #fff8e1; font-weight: 600; }
td.verdict-contradicted { background: #fdecea; font-weight: 600; }
details { margin: 0.6em 0; } summary { cursor: pointer; font-weight: 600; }
.specimen { border-left: 3px solid #d0d7de; padding-left: 0.8em; margin: 1.2em 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
         gap: 0.6em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          vertical-align: middle; margin-right: 0.2em; }
"""

#: Words of column names shown in the report, and the units spelled out.
_WORDS = {"sd": "SD", "se": "SE", "aicc": "AICc", "aic": "AIC", "bic": "BIC", "ci": "CI",
          "rss": "RSS", "mu": "μ", "chi2": "χ²", "dof": "dof", "n": "n", "icp": "ICP",
          "li": "Li", "ni": "Ni", "co": "Co", "mn": "Mn", "o": "O", "f": "f",
          "pct": "%", "wt": "weight"}
_UNITS = {"nm": "nm", "da": "Da", "mah": "mAh", "g": "g", "s": "s", "um": "µm",
          "mah_g": "mAh/g"}


def readable(column: str) -> str:
    """A column name as a person reads it: ``half_recovery_depth_nm_se`` ->
    ``half recovery depth SE (nm)``, ``Li_mean`` -> ``Li mean``."""
    parts = str(column).split("_")
    unit = None
    if len(parts) > 2 and "_".join(parts[-2:]).lower() == "mah_g":
        unit, parts = "mAh/g", parts[:-2]
    tail = []
    while len(parts) > 1 and parts[-1].lower() in ("se", "sd", "low", "high", "sigma"):
        tail.insert(0, parts.pop())
    if unit is None and len(parts) > 1 and parts[-1].lower() in _UNITS:
        unit = _UNITS[parts.pop().lower()]
    words = [_WORDS.get(w.lower(), w) if not (len(w) <= 2 and w[:1].isupper()) else w
             for w in parts + tail]
    text = " ".join(words).replace("ci low", "CI low").replace("ci high", "CI high")
    return f"{text} ({unit})" if unit else text

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
        if math.isinf(number):
            return "n/a"
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


def render_data_table(frame: Any, *, table_id: str, caption: str, download: str | None = None,
                      columns: Sequence[str] | None = None, collapse_over: int = 15,
                      max_rows: int = 400) -> str:
    """A table with readable column names; longer than ``collapse_over`` rows it is
    collapsed in a ``<details>`` (summary: caption, rows, download link)."""
    shown = frame if columns is None else frame[[c for c in columns if c in frame.columns]]
    shown = shown.rename(columns={c: readable(c) for c in shown.columns})
    table = render_table(shown, table_id=table_id, caption=caption, max_rows=max_rows)
    link = (f' <a href="{escape(download)}" download>download CSV (all {frame.shape[1]} '
            f"columns)</a>" if download else "")
    if len(frame) > collapse_over:
        return (f"<details><summary>{escape(caption)} ({len(frame)} rows)</summary>"
                f"{table}<p class=\"muted\">{link}</p></details>")
    return table + (f'<p class="muted">{link}</p>' if link else "")


def figure_html(kind: str, body: str, caption: str, *, figure_id: str) -> str:
    """One ``<figure data-kind=...>`` with its caption (what is shown, what to conclude)."""
    return (f'<figure class="report" id="{escape(figure_id)}" data-kind="{escape(kind)}">'
            f"{body}<figcaption>{escape(caption)}</figcaption></figure>")


def details(summary: str, body: str, *, open_: bool = False) -> str:
    """A collapsed block."""
    opened = " open" if open_ else ""
    return f"<details{opened}><summary>{escape(summary)}</summary>{body}</details>"


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

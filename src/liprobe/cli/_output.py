"""Shared output helpers for the commands: JSON or human-readable text.

Imported by every command, the fast one-shot ones too: no typer here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import click
import numpy as np


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: ``--force``: replace existing outputs (never an input; see liprobe.io.output_policy).
FORCE_HELP = "Replace existing output files (never an input)."


def to_json(payload: Mapping[str, Any]) -> str:
    """JSON text of ``payload`` (NumPy scalars and arrays converted, NaN as null)."""
    return json.dumps(_clean(payload), indent=2, allow_nan=False)


def emit(payload: Mapping[str, Any], *, as_json: bool, text: str) -> None:
    """Print ``payload`` as JSON when ``as_json``, else the human-readable ``text``."""
    click.echo(to_json(payload) if as_json else text)


def fmt(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``; ``-`` for None and NaN."""
    return "-" if value is None or value != value else format(value, spec)


def text_table(rows: list[list[str]], header: list[str]) -> str:
    """An aligned text table: the first column left-aligned, the others right-aligned."""
    cells = [header, *rows]
    widths = [max(len(row[c]) for row in cells) for c in range(len(header))]
    lines = ["  ".join(v.rjust(w) if c else v.ljust(w) for c, (v, w) in
                       enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

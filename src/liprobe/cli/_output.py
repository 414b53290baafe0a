"""Shared output helpers for the commands: JSON or human-readable text."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import typer


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
    typer.echo(to_json(payload) if as_json else text)

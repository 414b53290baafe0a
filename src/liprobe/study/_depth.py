"""Depths below a particle surface as written in a manifest or a paper's table."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from liprobe.errors import ManifestError
from liprobe.study._manifest_check import DEPTH_MAX_NM, canonical_depth_label

__all__ = ["Depth", "parse_depth", "short_repr"]


@dataclass(frozen=True)
class Depth:
    """A specimen depth below the secondary-particle surface.

    ``depth_nm`` is the representative depth used for fits (NaN for bulk specimens);
    ``low_nm``/``high_nm`` the interval it stands for; ``label`` the text as written.
    """

    depth_nm: float
    low_nm: float
    high_nm: float
    label: str
    is_bulk: bool = False



_UNIT_NM = {"nm": 1.0, "um": 1000.0, "µm": 1000.0, "μm": 1000.0, "mm": 1.0e6}
_DEPTH_RE = re.compile(
    r"^\s*(?P<op><=|<|~|≈|about)?\s*(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>nm|um|µm|μm|mm)?\s*$"
)
_BULK_WORDS = ("bulk", "surface to centre", "surface to center", "centre", "center", "whole")


def parse_depth(text: str | float | int, *, bound_depth: str = "midpoint",
                bulk_depth_nm: float = math.nan) -> Depth:
    """Parse a depth as written in a manifest or a paper's table.

    Parameters
    ----------
    text : str or number
        ``30`` (nm), ``"~2 um"``, ``"< 100 nm"``, ``"surface"`` (0 nm), ``"bulk"`` or
        ``"surface to centre"`` (a bulk specimen).
    bound_depth : {"midpoint", "bound"}
        Depth representing an upper bound ``"< X"``: ``X/2`` (midpoint of [0, X]) or ``X``.
    bulk_depth_nm : float
        Representative depth of a bulk specimen (NaN: excluded from depth fits).

    Returns
    -------
    Depth

    Raises
    ------
    ManifestError
        When the text is not a depth (the caller adds the place).
    """
    if bound_depth not in ("midpoint", "bound"):
        raise ManifestError(f"bound_depth must be 'midpoint' or 'bound', got {bound_depth!r}")
    if isinstance(text, bool):
        raise ManifestError(f"depth must be a number of nm or a text like '< 100 nm', got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
        if not math.isfinite(value) or value < 0 or value > DEPTH_MAX_NM:
            raise ManifestError(f"depth_nm must be a number from 0 to {DEPTH_MAX_NM:g} nm, got "
                                f"{short_repr(text)}")
        return Depth(value, value, value, f"{value:g} nm")
    label = str(text).strip()
    lower = label.lower()
    if lower in ("surface", "0"):
        return Depth(0.0, 0.0, 0.0, label)
    if lower in _BULK_WORDS:
        return Depth(float(bulk_depth_nm), 0.0, math.inf, label, is_bulk=True)
    match = _DEPTH_RE.match(lower.split("(")[0])
    if match is None:
        raise ManifestError(
            f"cannot read depth {label!r}; write a number of nm (depth_nm = 30) or a text "
            "like '< 100 nm', '~2 um', 'surface', 'bulk'"
        )
    value = float(match["value"]) * _UNIT_NM[match["unit"] or "nm"]
    if not math.isfinite(value) or value > DEPTH_MAX_NM:
        raise ManifestError(f"depth {short_repr(label)} is beyond {DEPTH_MAX_NM:g} nm; write the "
                            "depth below the particle surface in nm or um")
    label = canonical_depth_label(match["op"], match["value"], match["unit"], label)
    if match["op"] in ("<", "<="):
        rep = value / 2.0 if bound_depth == "midpoint" else value
        return Depth(rep, 0.0, value, label)
    return Depth(value, value, value, label)


def short_repr(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"



"""The optional per-specimen ``acquisition`` table of a study manifest: the run conditions a
Li measurement depends on (:data:`liprobe.data.ACQUISITION_METADATA`), for files that do not
carry them (POS, EPOS, APT) or to correct what a file states.

Values given here take precedence over those read from the file; the merged conditions are
reported per specimen in ``summary.json`` (``acquisition``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liprobe.data import ACQUISITION_METADATA

__all__ = ["parse_acquisition", "merged_acquisition"]


def parse_acquisition(chk, value: Any, table: str, index: int) -> tuple[tuple[str, Any], ...]:
    """Validate ``acquisition = { laser_pulse_energy_pj = 30, ... }`` of one entry."""
    if not isinstance(value, dict):
        raise chk.fail("'acquisition' must be a table, e.g. acquisition = "
                       "{ laser_pulse_energy_pj = 30, base_temperature_k = 50 }",
                       table, index, "acquisition")
    items = []
    for key, item in value.items():
        if key not in ACQUISITION_METADATA:
            import difflib

            near = difflib.get_close_matches(key, list(ACQUISITION_METADATA), n=1)
            hint = (f"; did you mean {near[0]!r}?" if near
                    else f"; allowed: {', '.join(ACQUISITION_METADATA)}")
            raise chk.fail(f"unknown acquisition key {key!r}{hint}", table, index,
                           "acquisition")
        if key == "instrument":
            if not isinstance(item, str) or not item.strip():
                raise chk.fail("acquisition 'instrument' must be a non-empty text", table,
                               index, "acquisition")
            items.append((key, item.strip()))
        elif (isinstance(item, bool) or not isinstance(item, (int, float))
              or not item > 0 or item == float("inf")):
            raise chk.fail(f"acquisition {key!r} must be a positive number "
                           f"({ACQUISITION_METADATA[key]}), got {item!r}", table, index,
                           "acquisition")
        else:
            items.append((key, float(item)))
    return tuple(items)


def merged_acquisition(from_file: Mapping[str, Any],
                       from_manifest: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The run conditions of a specimen: the file's, overridden by the manifest's."""
    merged = {k: v for k, v in from_file.items() if k in ACQUISITION_METADATA}
    merged.update(dict(from_manifest))
    return {k: merged[k] for k in ACQUISITION_METADATA if k in merged}

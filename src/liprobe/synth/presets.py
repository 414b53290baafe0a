"""Named specimens: the paper's conditions and depths, a homogeneous and a Li-lines specimen."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

import numpy as np

from liprobe.errors import ParameterError
from liprobe.synth.params import LineFeature, SpecimenParams
from liprobe.synth.profile import DepthProfile, paper_profile, published_apt_table

__all__ = ["PRESETS", "PRESET_ROWS", "get_preset", "li_line_features"]

#: Depth given to table rows the paper reports only as a bound.
_ROW_DEPTH_NM = {(100, "R1"): 0.0}


def _preset_name(cycles: int, region: str, depth_nm: float | None) -> str:
    if cycles == 0:
        return "ncm-pristine"
    if cycles == 2:
        return "ncm-formation"
    if depth_nm is None or depth_nm == 0:
        return f"ncm-{cycles}cycles-surface"
    return f"ncm-{cycles}cycles-{int(depth_nm)}nm"


def li_line_features(*, n_lines: int = 14, radius_nm: float = 3.5, li_enrichment: float = 4.5,
                     spread: float = 0.8,
                     length_nm: float = 100.0, apex_radius_nm: float = 25.0,
                     seed: int = 7) -> tuple[LineFeature, ...]:
    """Dislocation-like Li-rich lines running through the needle, slightly inclined.

    Line starts are spread over the top face (within ``spread`` times the apex radius) with a
    seeded generator, so the preset is the same everywhere.
    """
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_lines):
        rho = spread * apex_radius_nm * np.sqrt(rng.random())
        phi = 2 * np.pi * rng.random()
        x, y = rho * np.cos(phi), rho * np.sin(phi)
        dx, dy = rng.normal(0, 0.05 * length_nm, 2)
        lines.append(LineFeature((x, y, 0.0), (x + dx, y + dy, length_nm), radius_nm,
                                 li_enrichment))
    return tuple(lines)


def _build() -> tuple[dict[str, SpecimenParams], dict[str, dict[str, object]]]:
    presets: dict[str, SpecimenParams] = {}
    rows: dict[str, dict[str, object]] = {}
    for row in published_apt_table():
        cycles, region = int(row["cycles"]), str(row["region"])
        depth = row["depth_nm"]
        depth = _ROW_DEPTH_NM.get((cycles, region), depth)
        name = _preset_name(cycles, region, depth)
        specimen_depth = float(depth) if depth is not None else 500.0
        presets[name] = SpecimenParams(profile=paper_profile(cycles),
                                       specimen_depth_nm=specimen_depth)
        rows[name] = dict(row)
    presets["ncm-homogeneous"] = SpecimenParams(profile=DepthProfile.uniform())
    presets["ncm-li-lines"] = SpecimenParams(profile=DepthProfile.uniform(),
                                             line_features=li_line_features())
    return presets, rows


_PRESETS, _ROWS = _build()
#: Preset name -> SpecimenParams (read-only).
PRESETS: Mapping[str, SpecimenParams] = MappingProxyType(_PRESETS)
#: Preset name -> the row of Chae et al. (2021) Table 2 it reproduces.
PRESET_ROWS: Mapping[str, Mapping[str, object]] = MappingProxyType(
    {k: MappingProxyType(v) for k, v in _ROWS.items()})


def get_preset(name: str, **overrides: object) -> SpecimenParams:
    """The preset ``name``, with any :class:`SpecimenParams` field overridden.

    Examples
    --------
    >>> get_preset("ncm-300cycles-surface", n_ions=1000).specimen_depth_nm
    0.0
    """
    if name not in PRESETS:
        import difflib

        close = difflib.get_close_matches(name, PRESETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(f"unknown preset {name!r}{hint}; known presets: "
                             + ", ".join(PRESETS))
    if not overrides:
        return PRESETS[name]
    try:
        return replace(PRESETS[name], **overrides)
    except TypeError as exc:
        bad = re.findall(r"'(\w+)'", str(exc))
        raise ParameterError(f"SpecimenParams has no field {bad[-1] if bad else exc}") from None

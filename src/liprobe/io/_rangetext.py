"""Shared plumbing of the text range-file readers (RRNG, RNG, ENV).

Decoding (UTF-8, then latin-1), numbers with decimal commas, colours, and the final
assembly of a :class:`~liprobe.data.RangeTable`: exact duplicate ranges are dropped;
overlaps between different ions are always kept for the ranging step to resolve; a
range that overlaps another range *of the same ion* is kept (``same_ion_overlaps=
"keep"``, what real IVAS files need) or rejected (``"error"``: an ion of that species
in the overlap would be counted twice).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liprobe.data import Ion, RangeTable
from liprobe.errors import FormatError, ParameterError
from liprobe.io._binary import existing_file

__all__ = ["read_text_lines", "parse_number", "parse_count", "hex_color", "rgb_color",
           "RawRange", "build_range_table"]


def read_text_lines(path: str | os.PathLike) -> tuple[Path, list[str]]:
    """The lines of a text file (UTF-8, latin-1 fallback; any line ending), BOM removed."""
    p = existing_file(path)
    data = p.read_bytes()
    if not data.strip():
        raise FormatError("empty file", path=p, line=1,
                          hint="a range file lists at least one range")
    from liprobe.io.validate import text_encoding_problem

    if b"\x00" in data and text_encoding_problem(data) is None:
        raise FormatError("binary data (NUL bytes) in a text range file", path=p,
                          offset=data.index(b"\x00"), hint="is this really a range file?")
    from liprobe.io.validate import decode_text

    text = decode_text(data, path=p, what="range file", latin1_fallback=True)
    return p, text.lstrip("\ufeff").splitlines()


def parse_number(token: str, *, path: Path, line: int, what: str) -> float:
    """A finite float from ``token``, accepting a decimal comma (``22,8615``)."""
    try:
        value = float(token.replace(",", "."))
    except ValueError:
        raise FormatError(f"{what} {token!r} is not a number", path=path, line=line) from None
    if not math.isfinite(value):
        raise FormatError(f"{what} {token!r} is not finite", path=path, line=line)
    return value


def parse_count(token: str, *, path: Path, line: int, what: str) -> int:
    """A non-negative integer count; ``"1.000"`` is accepted as 1."""
    value = parse_number(token, path=path, line=line, what=what)
    if value < 0 or value != int(value) or value > 1_000_000:
        raise FormatError(f"{what} {token!r} is not a whole non-negative number", path=path,
                          line=line)
    return int(value)


def hex_color(token: str, *, path: Path, line: int) -> str:
    """``"FF0033"`` -> ``"#ff0033"``."""
    text = token.lstrip("#")
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise FormatError(f"colour {token!r} is not RRGGBB hexadecimal", path=path, line=line)
    return "#" + text.lower()


def rgb_color(tokens: list[str], *, path: Path, line: int) -> str:
    """Three 0-1 floats -> ``"#rrggbb"`` (values outside 0-1 are clipped)."""
    channels = [parse_number(t, path=path, line=line, what="colour component") for t in tokens]
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in channels)


@dataclass
class RawRange:
    """One range as parsed, before ions are deduplicated."""

    low_da: float
    high_da: float
    ion_key: object
    line: int
    volume_nm3: float = math.nan
    color: str | None = None


def build_range_table(path: Path, ions: dict[object, Ion], ranges: list[RawRange], *,
                      same_ion_overlaps: str) -> RangeTable:
    """Assemble a RangeTable: drop exact duplicates, keep or reject same-ion overlaps.

    ``ions`` maps each ion key to its Ion, in output order.
    """
    if same_ion_overlaps not in ("keep", "error"):
        raise ParameterError(f"same_ion_overlaps must be 'keep' or 'error', got "
                             f"{same_ion_overlaps!r}")
    keys = list(ions)
    index_of = {key: i for i, key in enumerate(keys)}
    seen: set[tuple[float, float, object]] = set()
    kept: list[RawRange] = []
    for rng in ranges:
        if not rng.high_da > rng.low_da:
            raise FormatError(f"upper bound {rng.high_da} is not above lower bound "
                              f"{rng.low_da}", path=path, line=rng.line,
                              hint="swap or fix the two bounds")
        identity = (rng.low_da, rng.high_da, rng.ion_key)
        if identity in seen:
            continue
        seen.add(identity)
        kept.append(rng)
    by_ion: dict[object, list[RawRange]] = {}
    for rng in kept if same_ion_overlaps == "error" else ():
        by_ion.setdefault(rng.ion_key, []).append(rng)
    for key, group in by_ion.items():
        group = sorted(group, key=lambda r: (r.low_da, r.high_da))
        for before, after in zip(group, group[1:]):
            if after.low_da < before.high_da:
                first, second = sorted((before, after), key=lambda r: r.line)
                raise FormatError(
                    f"range {second.low_da}-{second.high_da} Da overlaps range "
                    f"{first.low_da}-{first.high_da} Da (line {first.line}) of the same ion "
                    f"{ions[key].name!r}: ions in the overlap would be counted twice",
                    path=path, line=second.line,
                    hint="merge the two ranges or fix the bounds (same_ion_overlaps='keep' "
                         "reads the file anyway)")
    return RangeTable(
        ions=tuple(ions[k] for k in keys),
        low_da=np.array([r.low_da for r in kept], dtype=np.float64),
        high_da=np.array([r.high_da for r in kept], dtype=np.float64),
        ion_index=np.array([index_of[r.ion_key] for r in kept], dtype=np.int64),
        volume_nm3=np.array([r.volume_nm3 for r in kept], dtype=np.float64),
        colors=tuple(r.color for r in kept),
    )

"""RRNG range files (IVAS / AP Suite): INI-like ``[Ions]`` and ``[Ranges]`` sections.

``RangeK=<lo> <hi> [Vol:<nm3>] <El>:<count> ... [Name:<str>] [Color:<RRGGBB>]``.

Dialects accepted (all seen in real files): decimal commas (``22,8615``), CRLF, keys and
section names in any case, trailing spaces, ``#`` and ``;`` comment lines, a missing
``Vol:``, a missing or empty ``[Ions]`` section, counts written as ``O:2`` or
``A:1.000``, ``Name:`` without a composition (an ion with no atoms, i.e. a named but
unidentified peak), duplicated keys, and the column-title dialect of some lab exports
(a first line ``mq1 mq2 volume element color``, no section headers, ranges following
directly; compositions run together as ``Mo:1C:1``).

Placeholder symbols (``A``, ``Ab`` in 3Depict's conformance set) are an error by default;
``allow_unknown_elements=True`` makes each composition containing one a named ion without
atoms (named by its composition as written, ``AB2``), with one warning per file.

Decisions (documented behaviour):

* Ions are taken from the ranges, not from ``[Ions]`` (which often omits molecular ions).
  An ion is identified by its composition (order-independent); its name is canonical,
  the composition as first written, ``El`` + count when > 1 (``NiO2``, ``Li2O``, ``O2``).
  ``Name:`` is used only for ranges without a composition. Ions are ordered by first
  appearance; an ion's colour is that of its first range.
* Every ``Range...=`` line is a range, whatever its number: a repeated key (``Range1=``
  twice) with distinct bounds keeps both ranges; ``Number=`` is not enforced.
* Exact duplicate ranges (same bounds and same ion) are dropped silently, first kept.
* Overlapping ranges are kept (the ranging step decides), also nested ranges of the same
  ion, which real IVAS exports contain; ``same_ion_overlaps="error"`` rejects those.
* Bounds that are not numbers, ``high <= low``, element symbols unknown to
  ``periodictable`` (unless ``check_elements=False``) and unparseable lines are
  FormatError with the line number.

Reference: D. J. Larson et al., *Local Electrode Atom Probe Tomography*, Springer (2013);
3Depict's range-file reader and test set (D. Haley).
"""

from __future__ import annotations

import math
import os
import re
import warnings

from liprobe.data import Ion, RangeTable
from liprobe.errors import FormatError, LiprobeWarning, ParameterError
from liprobe.formula import canonical_name, composition_key, is_element, merge_atoms
from liprobe.io._rangetext import (
    RawRange,
    build_range_table,
    hex_color,
    parse_count,
    parse_number,
    read_text_lines,
)

__all__ = ["read_rrng", "write_rrng"]

_RANGE_KEY = re.compile(r"range\d*$")
_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9_]*$")
#: ``Mo:1C:1``: several ``Symbol:count`` pairs written without spaces.
_JOINED_PAIRS = re.compile(r"(?:[A-Z][a-z]?:\d+(?:[.,]\d+)?){2,}$")
_PAIR = re.compile(r"([A-Z][a-z]?):(\d+(?:[.,]\d+)?)")
#: Words of the column-title first line some exports write instead of ``[Ranges]``.
_TITLE_WORDS = {"mq1", "mq2", "volume", "vol", "element", "elements", "color", "colour",
                "ion", "ions", "low", "high", "name"}


def _is_column_titles(text: str) -> bool:
    words = text.lower().split()
    return len(words) >= 2 and "=" not in text and all(w in _TITLE_WORDS for w in words)


def read_rrng(path: str | os.PathLike, *, check_elements: bool = True,
              same_ion_overlaps: str = "keep",
              allow_unknown_elements: bool = False) -> RangeTable:
    """Read an RRNG range file.

    Parameters
    ----------
    path : path-like
        The ``.rrng`` file.
    check_elements : bool, keyword-only
        Reject element symbols that are not chemical elements (default). Pass False for
        files with placeholder symbols (the 3Depict conformance set uses ``A``, ``Aa``).
    same_ion_overlaps : {"keep", "error"}, keyword-only
        What to do with a range that overlaps another range of the same ion.
    allow_unknown_elements : bool, keyword-only
        Read a composition with a symbol that is not a chemical element as a named ion
        without atoms (counted as ranged, contributing no atoms), with a
        :class:`~liprobe.errors.LiprobeWarning`, instead of raising.

    Returns
    -------
    RangeTable
        Bounds in Da, volumes in nm^3 (NaN without ``Vol:``), colours ``"#rrggbb"``.

    Raises
    ------
    MissingFileError, FormatError

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "nio.rrng"
    >>> _ = path.write_text("[Ranges]\\nNumber=1\\nRange1=44,7 46,3 Vol:0.0686 Ni:1 O:2\\n")
    >>> table = read_rrng(path)
    >>> table.ion_names, table.low_da.tolist()
    (('NiO2',), [44.7])
    """
    path, lines = read_text_lines(path)
    section: str | None = None
    seen_ranges = False
    ions: dict[object, Ion] = {}
    ranges: list[RawRange] = []
    placeholders: dict[str, int] = {}
    check = "error" if check_elements and not allow_unknown_elements else (
        "name" if allow_unknown_elements else "keep")
    first = True
    for number, raw_line in enumerate(lines, start=1):
        text = raw_line.strip()
        if not text or text[0] in "#;":
            continue
        if first and _is_column_titles(text):  # column-title dialect: ranges follow
            section, seen_ranges, first = "ranges", True, False
            continue
        first = False
        if text.startswith("["):
            if "]" not in text:
                raise FormatError(f"section header {text!r} has no closing ']'", path=path,
                                  line=number)
            section = text[1:text.index("]")].strip().lower()
            seen_ranges = seen_ranges or section == "ranges"
            continue
        if "=" not in text:
            raise FormatError(f"cannot parse {text[:40]!r}: expected key=value", path=path,
                              line=number, hint="RRNG lines are [Section] or Key=Value")
        key, value = (part.strip() for part in text.split("=", 1))
        if section == "ranges" and _RANGE_KEY.match(key.lower()):
            rng, ion = _parse_range(value, path=path, line=number, check=check,
                                    placeholders=placeholders)
            ions.setdefault(rng.ion_key, ion)
            ranges.append(rng)
    if not seen_ranges:
        raise FormatError("no [Ranges] section", path=path, line=len(lines),
                          hint="is this an RRNG file? RNG and ENV files have their own readers")
    if placeholders:
        listed = ", ".join(f"{symbol!r} (line {line})" for symbol, line in placeholders.items())
        warnings.warn(f"{path}: symbols that are not chemical elements: {listed}; their "
                      "ranges are read as named ions without atoms (counted as ranged, "
                      "contributing no atoms to a composition)", LiprobeWarning, stacklevel=2)
    return build_range_table(path, ions, ranges, same_ion_overlaps=same_ion_overlaps)


def _parse_range(value: str, *, path, line: int, check: str,
                 placeholders: dict[str, int]) -> tuple[RawRange, Ion]:
    tokens = []
    for token in value.split():
        if _JOINED_PAIRS.match(token):  # "Mo:1C:1" -> "Mo:1", "C:1"
            tokens += [f"{symbol}:{count}" for symbol, count in _PAIR.findall(token)]
        else:
            tokens.append(token)
    if len(tokens) < 2:
        raise FormatError(f"range {value!r} needs a lower and an upper bound", path=path,
                          line=line)
    low = parse_number(tokens[0], path=path, line=line, what="lower bound")
    high = parse_number(tokens[1], path=path, line=line, what="upper bound")
    volume, name, color, atoms = math.nan, None, None, []
    for token in tokens[2:]:
        if ":" not in token:
            raise FormatError(f"cannot parse {token!r}: expected Key:Value (e.g. Ni:1, "
                              "Vol:0.011, Color:FF0000)", path=path, line=line)
        key, val = token.split(":", 1)
        lowered = key.lower()
        if lowered == "vol":
            volume = parse_number(val, path=path, line=line, what="volume")
        elif lowered == "name":
            name = val or None
        elif lowered in ("color", "colour"):
            color = hex_color(val, path=path, line=line)
        else:
            if not _SYMBOL.match(key):
                raise FormatError(f"{key!r} is not an element symbol", path=path, line=line)
            if check != "keep" and not is_element(key):
                if check == "error":
                    raise FormatError(f"unknown element {key!r}", path=path, line=line,
                                      hint="fix the symbol in the range file, or pass "
                                           "--allow-unknown-elements "
                                           "(allow_unknown_elements=True) to read placeholder "
                                           "symbols as named ions without atoms")
                placeholders.setdefault(key, line)
            count = parse_count(val, path=path, line=line, what=f"count of {key}")
            if count:
                atoms.append((key, count))
    merged = merge_atoms(atoms)
    if merged and check == "name" and not all(is_element(symbol) for symbol, _ in merged):
        label = canonical_name(merged)
        ion_key, ion = ("placeholder", composition_key(merged)), Ion(label, (), color)
    elif merged:
        ion_key: object = ("atoms", composition_key(merged))
        ion = Ion(canonical_name(merged), merged, color)
    elif name is not None:
        ion_key, ion = ("name", name), Ion(name, (), color)
    else:
        raise FormatError("range has neither a composition (El:count) nor a Name:", path=path,
                          line=line, hint="add e.g. Ni:1 or Name:unknown")
    return RawRange(low, high, ion_key, line, volume, color), ion


def _number(value: float, what: str) -> str:
    if not math.isfinite(value):
        raise ParameterError(f"cannot write RRNG: {what} {value} is not finite")
    return repr(float(value))


_AVOGADRO = 6.02214076e23


def _atomic_volume_nm3(symbol: str) -> float:
    """Volume per atom of the element's solid, mass / (density N_A), from ``periodictable``
    (Si: 0.0200 nm^3, the value IVAS lists)."""
    import periodictable

    element = getattr(periodictable, symbol, None)
    density = getattr(element, "density", None)
    if not density:
        return math.nan
    return float(f"{element.mass / (density * _AVOGADRO) * 1e21:.5g}")


def _default_color(ion: Ion) -> str:
    """A stable colour for an ion without one (from its name), ``"#rrggbb"``."""
    import hashlib

    return "#" + hashlib.sha256(ion.name.encode("utf-8")).hexdigest()[:6]


def _ions_section(ranges: RangeTable) -> list[str]:
    """IVAS lists the elements (and the names of ions without atoms) under ``[Ions]``."""
    names: dict[str, None] = {}
    for ion in ranges.ions:
        for symbol, _ in ion.atoms:
            names.setdefault(symbol, None)
        if not ion.atoms:
            names.setdefault(ion.name, None)
    return [f"Ion{i}={_token(name, 'ion name')}" for i, name in enumerate(names, start=1)]


def write_rrng(path: str | os.PathLike, ranges: RangeTable, *,
               fill_missing: bool = False) -> None:
    """Write ``ranges`` as RRNG so that :func:`read_rrng` gives the same table back.

    Bounds and volumes are written as the shortest decimal that reads back to the same
    float64 (bit-exact round trip, no float noise beyond what the values hold). Ions with
    atoms are written as ``El:count`` (so their names read back in canonical form); ions
    without atoms as ``Name:``; ``[Ions]`` lists the elements, as IVAS does. Use
    :func:`liprobe.io.write_ranges` for an atomic write.

    Parameters
    ----------
    fill_missing : bool, keyword-only
        IVAS / AP Suite expect ``Vol:`` and ``Color:`` on every range. By default a NaN
        volume omits ``Vol:`` and a None colour omits ``Color:`` (the table round-trips).
        With ``fill_missing=True`` a NaN volume is the sum of the atoms' volumes in their
        solid (``periodictable`` density; 0 for an ion without atoms) and a None colour a
        stable colour derived from the ion's name, so the file imports into IVAS.

    Raises
    ------
    ParameterError
        A bound or volume is not finite, a name / symbol cannot be written as one token,
        or (``fill_missing``) an element has no known density.
    """
    out = ["[Ions]", f"Number={len(_ions_section(ranges))}", *_ions_section(ranges)]
    out += ["[Ranges]", f"Number={ranges.n_ranges}"]
    for k in range(ranges.n_ranges):
        ion = ranges.ions[int(ranges.ion_index[k])]
        parts = [_number(ranges.low_da[k], "lower bound"), _number(ranges.high_da[k],
                                                                   "upper bound")]
        volume = float(ranges.volume_nm3[k])
        if math.isnan(volume) and fill_missing:
            volume = float(f"{sum(n * _atomic_volume_nm3(el) for el, n in ion.atoms):.5g}")
            if math.isnan(volume):
                raise ParameterError(f"cannot fill the volume of ion {ion.name!r}: an element "
                                     "has no known density; give volume_nm3 for its ranges")
        if not math.isnan(volume):
            parts.append("Vol:" + _number(volume, "volume"))
        if ion.atoms:
            parts += [f"{_token(symbol, 'element symbol')}:{int(count)}"
                      for symbol, count in ion.atoms]
        else:
            parts.append("Name:" + _token(ion.name, "ion name"))
        color = ranges.colors[k]
        if color is None and fill_missing:
            color = ion.color or _default_color(ion)
        if color is not None:
            parts.append("Color:" + color.lstrip("#").upper())
        out.append(f"Range{k + 1}=" + " ".join(parts))
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(out) + "\n")


def _token(text: str, what: str) -> str:
    if not text or any(c.isspace() for c in text) or ":" in text or "=" in text:
        raise ParameterError(f"cannot write RRNG: {what} {text!r} must be one non-empty word "
                             "without ':' or '='")
    return text

"""ENV range files (GPM Rouen "environment" files, ``Rev_2.0``).

Layout: ``#`` comments anywhere; an optional ``Rev_2.0`` line; ``<n_species>
<n_ranges>``; ``n_species`` lines ``<name> <r> <g> <b>`` (colours 0-1); then
``n_ranges`` lines ``<name> <lo> <hi> <volume> <increment>``. Whatever follows the last
range (GPM's "Atom probe definition" block) is not read.

Decisions:

* Names are labels: a name that is a formula of element symbols gives the atoms
  (``Mn2O`` -> Mn2 O); any other (``Hyd``, ``X23``) gives an ion with no atoms. A charge
  suffix ``_2+`` on a name is dropped.
* Every declared species is an ion, even without ranges.
* The volume column is read as Å^3 per atom and converted to nm^3 (GPM files give e.g.
  11.66 for Mn, i.e. 0.01166 nm^3). This unit is inferred from real files, not from a
  specification.
* Exact duplicate ranges are dropped; overlapping ranges are kept for the ranging step,
  also those of the same ion (real files have them: ``ErMnO.env`` lines 48-49), unless
  ``same_ion_overlaps="error"``.

Reference: GPM Rouen / CAMECA TAP software ENV files; 3Depict's ENV reader (D. Haley).
"""

from __future__ import annotations

import os

from liprobe.data import Ion, RangeTable
from liprobe.errors import FormatError
from liprobe.formula import split_formula
from liprobe.io._rangetext import (
    RawRange,
    build_range_table,
    parse_count,
    parse_number,
    read_text_lines,
    rgb_color,
)

__all__ = ["read_env"]

_ANGSTROM3_TO_NM3 = 1e-3


def _drop_charge(name: str) -> str:
    if name.endswith("+") and "_" in name:
        return name[: name.rindex("_")]
    return name


def read_env(path: str | os.PathLike, *, same_ion_overlaps: str = "keep") -> RangeTable:
    """Read an ENV range file (see the module notes for every decision).

    Parameters
    ----------
    path : path-like
        The ``.env`` file.
    same_ion_overlaps : {"keep", "error"}, keyword-only
        Keep (default) or reject a range overlapping another range of the same ion.

    Returns
    -------
    RangeTable
        One ion per declared species; volumes in nm^3; colours ``"#rrggbb"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "o.env"
    >>> _ = path.write_text("Rev_2.0\\n1 1\\nO 0 1 0\\nO 15.9 16.1 20.0 1.0\\n")
    >>> read_env(path).volume_nm3.tolist()
    [0.02]
    """
    path, lines = read_text_lines(path)
    items = []
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if text and not (not items and text == "Rev_2.0"):
            items.append((number, text.split()))
    if not items:
        raise FormatError("no data lines (only comments)", path=path, line=len(lines))
    line, tokens = items[0]
    if len(tokens) != 2:
        raise FormatError(f"expected '<n_species> <n_ranges>', found {' '.join(tokens)[:40]!r}",
                          path=path, line=line, hint="is this an ENV file?")
    n_species = parse_count(tokens[0], path=path, line=line, what="species count")
    n_ranges = parse_count(tokens[1], path=path, line=line, what="range count")
    if n_species == 0:
        raise FormatError("the file declares no species", path=path, line=line)
    if len(items) < 1 + n_species + n_ranges:
        raise FormatError(f"the file ends early: {n_species} species and {n_ranges} ranges "
                          f"need {n_species + n_ranges} lines after the counts, found "
                          f"{len(items) - 1}", path=path, line=items[-1][0],
                          hint="is the file truncated?")
    ions: dict[object, Ion] = {}
    for line, tokens in items[1:1 + n_species]:
        if len(tokens) != 4:
            raise FormatError(f"expected '<name> <r> <g> <b>', found {len(tokens)} values",
                              path=path, line=line, hint=f"check the species count {n_species}")
        name = _drop_charge(tokens[0])
        if name in ions:
            raise FormatError(f"species {name!r} is declared twice", path=path, line=line)
        ions[name] = Ion(name, split_formula(name) or (), rgb_color(tokens[1:], path=path,
                                                                       line=line))
    ranges = []
    for line, tokens in items[1 + n_species:1 + n_species + n_ranges]:
        if len(tokens) != 5:
            raise FormatError(f"expected '<name> <lo> <hi> <volume> <increment>', found "
                              f"{len(tokens)} values", path=path, line=line,
                              hint=f"check the range count {n_ranges}")
        name = _drop_charge(tokens[0])
        if name not in ions:
            raise FormatError(f"range of undeclared species {name!r}", path=path, line=line,
                              hint="declared: " + ", ".join(map(str, ions)))
        low = parse_number(tokens[1], path=path, line=line, what="lower bound")
        high = parse_number(tokens[2], path=path, line=line, what="upper bound")
        volume = parse_number(tokens[3], path=path, line=line, what="volume")
        ranges.append(RawRange(low, high, name, line, volume * _ANGSTROM3_TO_NM3,
                               ions[name].color))
    return build_range_table(path, ions, ranges, same_ion_overlaps=same_ion_overlaps)

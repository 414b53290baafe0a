"""RNG range files (Oak Ridge / ORNL, also written by IVAS), with the IVAS polyatomic block.

Layout: ``<n_species> <n_ranges>``; per species a long-name line and a
``<short> <r> <g> <b>`` line (colours 0-1); a dash line naming the columns; one line per
range ``. <lo> <hi> <count per species ...>`` (the leading marker is optional and its
value ignored). IVAS may append a ``--- polyatomic extension`` block of the same layout
that names molecular ranges.

Decisions (following 3Depict, whose conformance set this reader passes):

* Every declared species is an ion (even without ranges); its atoms come from splitting
  its short name into element symbols (``Mn2O`` -> Mn2 O); a short name that is not a
  formula of elements (``unknown``, ``Hyd``, ``X23``) gives an ion with no atoms.
* Column headers of the dash line are informational; the declared order is used.
* A range with counts in several columns (or a count > 1) is a molecular ion. Declared
  species whose column is all zero are the file's molecular names: the range must match
  exactly one of them by formula (``Cd:2`` -> ``Cd2``), otherwise the file is rejected
  (3Depict ``test6.rng``: ranges assigned to several species with no name to map to).
  When no column is all zero, a new ion is made, named ``<short><count>...`` in column
  order (``AlH``).
* A polyatomic-extension range renames the main-table range with the same bounds (and
  gives it its colour); an extension range matching no main range is a FormatError.
* A range with all counts zero is dropped (it assigns nothing); exact duplicate ranges
  are dropped; a range overlapping another range of the same ion is rejected
  (``same_ion_overlaps="error"``, as 3Depict requires for its ``test4.rng``) unless
  ``"keep"`` is passed. RRNG and ENV keep such ranges by default because real IVAS and
  GPM exports contain them; every real RNG file in the test set has none.
* Volumes are not stored in RNG (NaN).

Reference: M. K. Miller, *Atom Probe Tomography: Analysis at the Atomic Level*, Kluwer
(2000); D. J. Larson et al., *Local Electrode Atom Probe Tomography*, Springer (2013);
3Depict range-file reader (D. Haley).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from liprobe.data import Ion, RangeTable
from liprobe.errors import FormatError
from liprobe.formula import merge_atoms, split_formula
from liprobe.io._rangetext import (
    RawRange,
    build_range_table,
    parse_count,
    parse_number,
    read_text_lines,
    rgb_color,
)

__all__ = ["read_rng"]


@dataclass
class _Block:
    shorts: list[str]
    colors: list[str]
    rows: list[tuple[int, float, float, list[int]]]  # line, lo, hi, counts


def _parse_block(items: list[tuple[int, str]], start: int, path: Path) -> tuple[_Block, int]:
    if start >= len(items):
        raise FormatError("missing '<n_species> <n_ranges>' line", path=path,
                          line=items[-1][0] if items else 1)
    line, text = items[start]
    tokens = text.split()
    if len(tokens) != 2:
        raise FormatError(f"expected '<n_species> <n_ranges>', found {text[:40]!r}",
                          path=path, line=line, hint="is this an RNG file?")
    n_species = parse_count(tokens[0], path=path, line=line, what="species count")
    n_ranges = parse_count(tokens[1], path=path, line=line, what="range count")
    if n_species == 0 or n_ranges == 0:
        raise FormatError("the file declares no species or no ranges", path=path, line=line)
    needed = start + 1 + 2 * n_species + 1 + n_ranges
    if needed > len(items):
        raise FormatError(f"the file ends early: {n_species} species and {n_ranges} ranges "
                          f"need {needed - start} lines, found {len(items) - start}",
                          path=path, line=items[-1][0], hint="is the file truncated?")
    shorts, colors = [], []
    pos = start + 1
    for _ in range(n_species):
        line, text = items[pos + 1]
        tokens = text.split()
        if len(tokens) < 4:
            raise FormatError(f"expected '<short name> <r> <g> <b>', found {text[:40]!r}",
                              path=path, line=line)
        shorts.append(tokens[0])
        colors.append(rgb_color(tokens[1:4], path=path, line=line))
        pos += 2
    line, text = items[pos]
    if not text.startswith("-"):
        raise FormatError(f"expected the dashed column-header line, found {text[:40]!r}",
                          path=path, line=line,
                          hint=f"check the species count {n_species} in the first line")
    pos += 1
    rows = []
    for _ in range(n_ranges):
        line, text = items[pos]
        tokens = text.split()
        if len(tokens) == n_species + 3:
            tokens = tokens[1:]
        elif len(tokens) != n_species + 2:
            raise FormatError(f"range line has {len(tokens)} values; expected '. <lo> <hi>' "
                              f"and {n_species} counts", path=path, line=line)
        low = parse_number(tokens[0], path=path, line=line, what="lower bound")
        high = parse_number(tokens[1], path=path, line=line, what="upper bound")
        counts = [parse_count(t, path=path, line=line, what="species count")
                  for t in tokens[2:]]
        rows.append((line, low, high, counts))
        pos += 1
    return _Block(shorts, colors, rows), pos


def read_rng(path: str | os.PathLike, *, same_ion_overlaps: str = "error") -> RangeTable:
    """Read an RNG range file (see the module notes for every decision).

    Parameters
    ----------
    path : path-like
        The ``.rng`` file.
    same_ion_overlaps : {"error", "keep"}, keyword-only
        Reject (default) or keep a range overlapping another range of the same ion.

    Returns
    -------
    RangeTable
        Declared species first, then molecular ions; volumes NaN; colours ``"#rrggbb"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "li.rng"
    >>> _ = path.write_text("1 1\\nLithium\\nLi 1 0 0\\n------ Li\\n. 6.9 7.1 1\\n")
    >>> read_rng(path).ion_names
    ('Li',)
    """
    path, lines = read_text_lines(path)
    items = [(i, t.strip()) for i, t in enumerate(lines, start=1)
             if t.strip() and not t.strip().startswith("#")]
    main, pos = _parse_block(items, 0, path)
    extension = None
    if pos < len(items):
        line, text = items[pos]
        if not text.startswith("-"):
            raise FormatError(f"unexpected text after the range table: {text[:40]!r}",
                              path=path, line=line,
                              hint="check the range count in the first line")
        extension, _ = _parse_block(items, pos + 1, path)

    ions: dict[object, Ion] = {}
    for j, short in enumerate(main.shorts):
        ions[("declared", j)] = Ion(short, split_formula(short) or (), main.colors[j])
    n = len(main.shorts)
    composed = [j for j in range(n) if all(row[3][j] == 0 for row in main.rows)]
    ranges: list[RawRange] = []
    for line, low, high, counts in main.rows:
        entries = {j: c for j, c in enumerate(counts) if c}
        if not entries:
            continue
        if len(entries) == 1 and sum(entries.values()) == 1:
            key: object = ("declared", next(iter(entries)))
        elif composed:
            key = _match_composed(entries, composed, main.shorts, path, line)
        else:
            name = "".join(main.shorts[j] + (str(c) if c > 1 else "") for j, c in entries.items())
            key = ("name", name)
            if key not in ions:
                ions[key] = Ion(name, _combine(entries, ions), None)
        ranges.append(RawRange(low, high, key, line, color=ions[key].color))
    if extension is not None:
        _apply_extension(extension, ranges, ions, path)
    used = {r.ion_key for r in ranges}
    ions = {k: v for k, v in ions.items() if k[0] == "declared" or k in used}
    return build_range_table(path, ions, ranges, same_ion_overlaps=same_ion_overlaps)


def _combine(entries: dict[int, int], ions: dict[object, Ion]) -> tuple[tuple[str, int], ...]:
    parts = []
    for j, count in entries.items():
        atoms = ions[("declared", j)].atoms
        if not atoms:
            return ()
        parts += [(symbol, n * count) for symbol, n in atoms]
    return merge_atoms(parts)


def _match_composed(entries: dict[int, int], composed: list[int], shorts: list[str],
                    path: Path, line: int) -> object:
    wanted = sorted((shorts[j], c) for j, c in entries.items())
    matches = [j for j in composed
               if sorted(split_formula(shorts[j], elements_only=False) or ()) == wanted]
    if len(matches) != 1:
        listed = " + ".join(f"{shorts[j]}x{c}" for j, c in entries.items())
        names = ", ".join(shorts[j] for j in composed)
        raise FormatError(
            f"range assigns several species ({listed}) but "
            + ("no" if not matches else "more than one")
            + f" declared molecular species (all-zero columns: {names}) names that "
            "combination, so the ion has no name or colour", path=path, line=line,
            hint="declare the molecular ion as a species with an all-zero column, e.g. "
                 "'BC' with colour, as IVAS does")
    return ("declared", matches[0])


def _apply_extension(extension: _Block, ranges: list[RawRange], ions: dict[object, Ion],
                     path: Path) -> None:
    for line, low, high, counts in extension.rows:
        nonzero = [j for j, c in enumerate(counts) if c]
        if len(nonzero) != 1:
            raise FormatError("a polyatomic-extension range must name exactly one species, "
                              f"found {len(nonzero)}", path=path, line=line)
        j = nonzero[0]
        matches = [rng for rng in ranges if rng.low_da == low and rng.high_da == high]
        if not matches:
            raise FormatError(f"polyatomic-extension range {low}-{high} Da matches no range "
                              "of the main table", path=path, line=line,
                              hint="the extension only names ranges listed above it")
        key = ("name", extension.shorts[j])
        ions[key] = Ion(extension.shorts[j], ions[matches[0].ion_key].atoms,
                        extension.colors[j])
        for rng in matches:
            rng.ion_key, rng.color = key, extension.colors[j]

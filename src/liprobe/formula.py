"""Chemical formulas of range-file ions: element checks, canonical names, name parsing.

Canonical ion names concatenate the composition in the order it is written, with the
count after the symbol when it exceeds 1: ``(("Ni", 1), ("O", 2))`` -> ``"NiO2"``,
``(("Li", 2), ("O", 1))`` -> ``"Li2O"``. Element symbols are checked against the
``periodictable`` package.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["is_element", "canonical_name", "split_formula", "merge_atoms", "composition_key"]

_FRAGMENT = re.compile(r"([A-Z][a-z]*)(\d*)")


@lru_cache(maxsize=1)
def _symbols() -> frozenset[str]:
    import periodictable

    return frozenset(el.symbol for el in periodictable.elements if el.number > 0)


def is_element(symbol: str) -> bool:
    """True when ``symbol`` is a chemical element symbol (case-sensitive, e.g. ``"Ni"``)."""
    return symbol in _symbols()


def merge_atoms(pairs) -> tuple[tuple[str, int], ...]:
    """Sum repeated symbols, keeping the order of first appearance."""
    counts: dict[str, int] = {}
    for symbol, count in pairs:
        counts[symbol] = counts.get(symbol, 0) + int(count)
    return tuple(counts.items())


def canonical_name(atoms: tuple[tuple[str, int], ...]) -> str:
    """``El`` + count (when > 1) for each atom, in the given order."""
    return "".join(f"{symbol}{count if count > 1 else ''}" for symbol, count in atoms)


def composition_key(atoms: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    """Order-independent identity of a composition (``NiO`` is ``ONi``)."""
    return tuple(sorted(atoms))


def split_formula(name: str, *, elements_only: bool = True) -> tuple[tuple[str, int], ...] | None:
    """Split a label like ``"Mn2O"`` into ``(("Mn", 2), ("O", 1))``.

    Returns None when the label is not a concatenation of capitalised symbols with
    optional counts, or (with ``elements_only``) when a symbol is not an element.
    """
    pos, pairs = 0, []
    for match in _FRAGMENT.finditer(name):
        if match.start() != pos:
            return None
        symbol, digits = match.group(1), match.group(2)
        count = int(digits) if digits else 1
        if count == 0 or (elements_only and not is_element(symbol)):
            return None
        pairs.append((symbol, count))
        pos = match.end()
    if pos != len(name) or not pairs:
        return None
    return merge_atoms(pairs)

"""Isotope patterns of the ion species of an NCM spectrum (from ``periodictable``)."""

from __future__ import annotations

import re
from functools import cache

from liprobe.errors import ParameterError
from liprobe.isotopes import MERGE_DA, isotopologue_peaks

#: Peaks of a species below this abundance are ignored.
MIN_ABUNDANCE = 1e-5

#: Species of a laser-pulsed NCM spectrum: name -> (atoms, charge). Names follow the
#: synthetic generator: ``"Ni2+"`` is Ni doubly charged, ``"O2+"`` is O2 singly charged,
#: ``"O2 2+"`` is O2 doubly charged.
NCM_SPECIES: dict[str, tuple[tuple[tuple[str, int], ...], int]] = {
    "H+": ((("H", 1),), 1),
    "Li+": ((("Li", 1),), 1),
    "LiO+": ((("Li", 1), ("O", 1)), 1),
    "Li2O+": ((("Li", 2), ("O", 1)), 1),
    "O+": ((("O", 1),), 1),
    "O2 2+": ((("O", 2),), 2),
    "O2+": ((("O", 2),), 1),
    "Ni2+": ((("Ni", 1),), 2),
    "Ni+": ((("Ni", 1),), 1),
    "NiO+": ((("Ni", 1), ("O", 1)), 1),
    "Co2+": ((("Co", 1),), 2),
    "Co+": ((("Co", 1),), 1),
    "CoO+": ((("Co", 1), ("O", 1)), 1),
    "Mn2+": ((("Mn", 1),), 2),
    "Mn+": ((("Mn", 1),), 1),
    "MnO+": ((("Mn", 1), ("O", 1)), 1),
}

_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)")


@cache
def _natural_elements() -> tuple[str, ...]:
    """Symbols of the elements with natural isotopes (``periodictable``), by atomic number."""
    import periodictable

    return tuple(el.symbol for el in periodictable.elements
                 if el.number > 0 and any(iso.abundance > 0 for iso in el))


def species_for_elements(elements) -> tuple[str, ...]:
    """Candidate ion species for a list of element symbols, or ``"all"`` for every element
    with natural isotopes.

    Each element gives its 1+ and 2+ atomic ions; with O among the elements, O2+ and
    O2 2+, and the 1+ monoxide of every other element (``NiO+``). A token containing ``+``
    is taken as a species name itself (``"Li2O+"``, ``"NiO2 2+"``).
    """
    if isinstance(elements, str):
        tokens = _natural_elements() if elements.strip().lower() == "all" else tuple(
            t.strip() for t in elements.split(",") if t.strip())
    else:
        tokens = tuple(elements)
    known = set(_natural_elements())
    species: dict[str, None] = {}
    symbols = [t for t in tokens if "+" not in t]
    for token in tokens:
        if "+" in token:
            parse_species(token)
            species[token] = None
        elif token not in known:
            raise ParameterError(f"{token!r} is not an element with natural isotopes; give "
                                 "element symbols (e.g. Li,O,Ni), species ('Li2O+') or 'all'")
    for symbol in symbols:
        species[f"{symbol}+"] = None
        species[f"{symbol} 2+"] = None
    if "O" in symbols:
        species["O2+"] = species["O2 2+"] = None
        for symbol in symbols:
            if symbol != "O":
                species[f"{symbol}O+"] = None
    if not species:
        raise ParameterError("no candidate species: give element symbols, e.g. Li,O,Ni")
    return tuple(species)


def parse_species(name: str) -> tuple[tuple[tuple[str, int], ...], int]:
    """Atoms and charge of a species name: a key of :data:`NCM_SPECIES`, or
    ``"<formula> <z>+"`` / ``"<formula>+"`` (e.g. ``"Li2O+"``, ``"NiO2 2+"``)."""
    if name in NCM_SPECIES:
        return NCM_SPECIES[name]
    match = re.fullmatch(r"\s*([A-Za-z0-9]+?)(?:\s+(\d+))?\+\s*", name)
    if not match:
        raise ParameterError(
            f"cannot read ion species {name!r}; write it as '<formula>+' or '<formula> <z>+' "
            f"(e.g. 'Li2O+', 'O2 2+') or use one of: {', '.join(NCM_SPECIES)}"
        )
    formula, charge = match.group(1), int(match.group(2) or 1)
    atoms: dict[str, int] = {}
    pos = 0
    for m in _TOKEN.finditer(formula):
        if m.start() != pos:
            break
        atoms[m.group(1)] = atoms.get(m.group(1), 0) + int(m.group(2) or 1)
        pos = m.end()
    if pos != len(formula) or not atoms:
        raise ParameterError(f"cannot read the formula of ion species {name!r}")
    return tuple(atoms.items()), charge


@cache
def species_pattern(name: str) -> tuple[tuple[float, float], ...]:
    """Isotope peaks ``((mass_to_charge_da, abundance), ...)`` of a species (sums to ~1)."""
    atoms, charge = parse_species(name)
    return tuple((m, p) for m, p in isotopologue_peaks(atoms, charge, merge_da=MERGE_DA)
                 if p >= MIN_ABUNDANCE)

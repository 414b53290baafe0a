"""Ion species of a laser-pulsed NCM atom-probe spectrum and their isotope peaks.

Each species (``Li+``, ``Ni2+``, ``NiO+``, ``O2+`` ...) belongs to one *class*: the metal
it carries (``Li``, ``Ni``, ``Co``, ``Mn``) or ``O`` for ions made only of oxygen. The
evaporation fractions say which share of a class's ions leaves as each species. Isotope
masses and natural abundances come from the maintained ``periodictable`` package; the
isotope pattern of a molecular ion is the convolution of its atoms' patterns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from liprobe.data import Ion
from liprobe.errors import ParameterError
from liprobe.isotopes import element_isotopes, isotopologue_peaks

__all__ = [
    "Species",
    "SPECIES",
    "CLASSES",
    "OVERLAPPING_SPECIES",
    "DEFAULT_EVAPORATION",
    "get_species",
    "isotope_pattern",
    "species_peaks",
    "evaporation_table",
]

#: Peaks below this natural abundance (fraction of the species) are not generated.
MIN_PEAK_ABUNDANCE = 1e-4
#: Isotopologues of one species closer than this (Da, in m/q) are merged into one peak.
MERGE_TOLERANCE_DA = 0.02

#: Ion classes: the metal an ion carries, or O for oxygen-only ions.
CLASSES: tuple[str, ...] = ("Li", "Ni", "Co", "Mn", "O")


@dataclass(frozen=True)
class Species:
    """One charged ion species.

    Parameters
    ----------
    name : str
        Display name with charge, e.g. ``"Ni2+"``, ``"O2 2+"``.
    atoms : tuple of (str, int)
        Composition, e.g. ``(("Ni", 1), ("O", 1))``.
    charge : int
        Charge state (1, 2 ...).
    ion_class : str
        The class in :data:`CLASSES` the species belongs to.
    """

    name: str
    atoms: tuple[tuple[str, int], ...]
    charge: int
    ion_class: str

    @property
    def formula(self) -> str:
        """Range-file ion name (composition without charge), e.g. ``"NiO"``, ``"O2"``."""
        return "".join(s if n == 1 else f"{s}{n}" for s, n in self.atoms)

    def to_ion(self) -> Ion:
        """The :class:`~liprobe.data.Ion` of a range file for this composition."""
        return Ion(self.formula, self.atoms, _COLORS.get(self.formula))


def _sp(name: str, atoms: tuple[tuple[str, int], ...], charge: int, cls: str) -> Species:
    return Species(name, atoms, charge, cls)


#: Every species the generator knows, in canonical order.
SPECIES: tuple[Species, ...] = (
    _sp("Li+", (("Li", 1),), 1, "Li"),
    _sp("LiO+", (("Li", 1), ("O", 1)), 1, "Li"),
    _sp("Ni2+", (("Ni", 1),), 2, "Ni"),
    _sp("Ni+", (("Ni", 1),), 1, "Ni"),
    _sp("NiO+", (("Ni", 1), ("O", 1)), 1, "Ni"),
    _sp("Co2+", (("Co", 1),), 2, "Co"),
    _sp("Co+", (("Co", 1),), 1, "Co"),
    _sp("CoO+", (("Co", 1), ("O", 1)), 1, "Co"),
    _sp("Mn2+", (("Mn", 1),), 2, "Mn"),
    _sp("Mn+", (("Mn", 1),), 1, "Mn"),
    _sp("MnO+", (("Mn", 1), ("O", 1)), 1, "Mn"),
    _sp("O+", (("O", 1),), 1, "O"),
    _sp("O2+", (("O", 2),), 1, "O"),
    _sp("O2 2+", (("O", 2),), 2, "O"),
)

#: Species whose peaks coincide with another species' peak: O2+ (32 Da) with 64Ni2+,
#: O2 2+ (16, 17 Da) with O+, CoO+ (75-77 Da) with NiO+. ``overlaps=False`` drops them.
OVERLAPPING_SPECIES: tuple[str, ...] = ("O2+", "O2 2+", "CoO+")

#: Default share of each class's ions leaving as each species (laser-pulsed NCM).
DEFAULT_EVAPORATION: tuple[tuple[str, float], ...] = (
    ("Li+", 0.97), ("LiO+", 0.03),
    ("Ni2+", 0.55), ("Ni+", 0.35), ("NiO+", 0.10),
    ("Co2+", 0.55), ("Co+", 0.35), ("CoO+", 0.10),
    ("Mn2+", 0.55), ("Mn+", 0.35), ("MnO+", 0.10),
    ("O+", 0.40), ("O2+", 0.45), ("O2 2+", 0.15),
)

_COLORS = {
    "Li": "#33cc33", "LiO": "#99ff99", "Ni": "#2b6cb0", "NiO": "#6b9be0", "Co": "#d53f8c",
    "CoO": "#f08cc0", "Mn": "#805ad5", "MnO": "#b794f4", "O": "#e53e3e", "O2": "#f6a6a6",
}


def get_species(name: str) -> Species:
    """The species called ``name`` (e.g. ``"Ni2+"``)."""
    for sp in SPECIES:
        if sp.name == name:
            return sp
    known = ", ".join(sp.name for sp in SPECIES)
    raise ParameterError(f"unknown ion species {name!r}; known species: {known}")


def isotope_pattern(symbol: str) -> tuple[tuple[float, float], ...]:
    """Natural isotopes of an element as ``((mass_da, abundance_fraction), ...)``.

    See :mod:`liprobe.isotopes` (``periodictable``, with the stated lithium choice).

    Examples
    --------
    >>> [round(m, 3) for m, _ in isotope_pattern("Li")]
    [6.015, 7.016]
    """
    return element_isotopes(symbol)


@cache
def species_peaks(name: str) -> tuple[tuple[float, float], ...]:
    """Isotope peaks of a species as ``((mass_to_charge_da, probability), ...)``.

    Isotopologues closer than 0.02 Da in m/q are merged (abundance-weighted mass); peaks
    below 1e-4 abundance are dropped and the rest renormalised.
    """
    sp = get_species(name)
    peaks = [(m, p) for m, p in isotopologue_peaks(sp.atoms, sp.charge,
                                                   merge_da=MERGE_TOLERANCE_DA)
             if p >= MIN_PEAK_ABUNDANCE]
    total = sum(p for _, p in peaks)
    return tuple((m, p / total) for m, p in peaks)


def evaporation_table(
    fractions: Sequence[tuple[str, float]] | Mapping[str, float], *, overlaps: bool
) -> tuple[tuple[Species, float], ...]:
    """Validated species fractions, normalised within each class.

    Parameters
    ----------
    fractions : sequence of (name, fraction) or mapping
        Share of each class's ions leaving as each species. Species left out are not
        generated. Shares are renormalised within each class.
    overlaps : bool
        When False, the species of :data:`OVERLAPPING_SPECIES` are dropped (their share
        goes to the other species of their class).

    Returns
    -------
    tuple of (Species, float)
        In canonical :data:`SPECIES` order.
    """
    items = dict(fractions.items() if isinstance(fractions, Mapping) else fractions)
    for name, value in items.items():
        get_species(name)
        if not (np.isfinite(value) and value >= 0):
            raise ParameterError(
                f"evaporation fraction of {name} must be a finite number >= 0, got {value}"
            )
    chosen = [
        (sp, float(items[sp.name]))
        for sp in SPECIES
        if sp.name in items and (overlaps or sp.name not in OVERLAPPING_SPECIES)
    ]
    table = []
    for cls in CLASSES:
        members = [(sp, f) for sp, f in chosen if sp.ion_class == cls]
        total = sum(f for _, f in members)
        if total <= 0:
            raise ParameterError(
                f"no species with a positive evaporation fraction for {cls}"
                + ("" if overlaps else " once overlapping species are dropped (overlaps=False)"),
            )
        table.extend((sp, f / total) for sp, f in members if f > 0)
    return tuple(table)

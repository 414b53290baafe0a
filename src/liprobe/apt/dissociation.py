"""Which in-flight dissociations the ranged molecular ions of a spectrum predict.

A molecular ion that breaks up on its way to the detector leaves a curved track in the
correlation histogram (Saxey plot) of multi-hit pairs; :func:`~liprobe.apt.detector.
dissociation_track` gives its curve for one channel. This module chooses the channels
worth drawing for a range table: the most counted molecular ions, each split into two
fragments, with the charge placed where it is expected to stay:

- a singly charged parent keeps its charge on the fragment of lower first ionisation
  energy (LiO+ -> Li+ + O, NiO+ -> Ni+ + O; Saxey 2011); a fragment's ionisation energy
  is taken as the lowest of its atoms' (an approximation for molecular fragments);
  when an element's energy is not tabulated, or both fragments are equal, both
  placements are kept;
- a parent of charge n >= 2 explodes into two charged fragments (Coulomb explosion,
  e.g. NiO2 2+ -> NiO+ + O+), the fragment of lower ionisation energy taking the larger
  share, ceil(n / 2).

A channel is kept only when each charged fragment is itself a ranged species at its own
m/q (its main isotope peak falls in a range of an ion with its atoms): the fragment is a
species this spectrum shows, so its track is expected where a dissociation happens.

References
----------
D. W. Saxey, Ultramicroscopy 111 (2011) 473 (correlated evaporation, dissociation tracks).
NIST Atomic Spectra Database, ground levels and ionisation energies (first ionisation
energies below).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np

from liprobe.apt.detector import PulsePairs
from liprobe.data import RangeTable
from liprobe.errors import ParameterError
from liprobe.isotopes import isotopologue_peaks

__all__ = ["FIRST_IONISATION_EV", "DissociationChannel", "dissociation_channels",
           "pairs_off_peaks"]

#: First ionisation energies (eV, NIST ASD) of elements common in battery and alloy APT.
FIRST_IONISATION_EV: dict[str, float] = {
    "H": 13.598, "Li": 5.392, "B": 8.298, "C": 11.260, "N": 14.534, "O": 13.618,
    "F": 17.423, "Na": 5.139, "Mg": 7.646, "Al": 5.986, "Si": 8.152, "P": 10.487,
    "S": 10.360, "Cl": 12.968, "K": 4.341, "Ca": 6.113, "Ti": 6.828, "V": 6.746,
    "Cr": 6.767, "Mn": 7.434, "Fe": 7.902, "Co": 7.881, "Ni": 7.640, "Cu": 7.726,
    "Zn": 9.394, "Ga": 5.999, "Zr": 6.634, "Nb": 6.759, "Mo": 7.092, "La": 5.577,
    "W": 7.864,
}


@dataclass(frozen=True)
class DissociationChannel:
    """``parent (charge n) -> first (charge q1) + second (charge n - q1)``.

    Masses are of the main isotopologue (Da); ``n_parent_ions`` counts the ions in the
    parent's range (the one holding its main isotope peak at charge n).
    """

    parent: str
    parent_mass_da: float
    parent_charge: int
    first: str
    first_mass_da: float
    first_charge: int
    second: str
    second_charge: int
    n_parent_ions: int

    @property
    def label(self) -> str:
        """E.g. ``"LiO+ -> Li+ + O"``."""
        return (f"{_charged(self.parent, self.parent_charge)} -> "
                f"{_charged(self.first, self.first_charge)} + "
                f"{_charged(self.second, self.second_charge)}")


def _charged(name: str, charge: int) -> str:
    return name if charge == 0 else name + ("+" if charge == 1 else f" {charge}+")


def _name(atoms: dict[str, int]) -> str:
    return "".join(s + (str(c) if c > 1 else "") for s, c in atoms.items() if c > 0)


def _main_peak(atoms, charge: int) -> tuple[float, float]:
    return max(isotopologue_peaks(tuple(atoms), charge), key=lambda p: p[1])


def _ranged_at(ranges: RangeTable, atoms: dict[str, int], mass_to_charge_da: float) -> bool:
    key = sorted((s, c) for s, c in atoms.items() if c > 0)
    for k in range(ranges.n_ranges):
        ion = ranges.ions[int(ranges.ion_index[k])]
        if sorted(ion.atoms) == key and ranges.low_da[k] <= mass_to_charge_da < \
                ranges.high_da[k]:
            return True
    return False


def _energy(atoms: dict[str, int]) -> float:
    values = [FIRST_IONISATION_EV.get(s, math.nan) for s, c in atoms.items() if c > 0]
    return min(values) if values and not any(math.isnan(v) for v in values) else math.nan


def _splits(atoms: dict[str, int]):
    """Unordered splits of a multiset of atoms into two non-empty parts."""
    symbols = list(atoms)
    seen = set()
    for counts in product(*(range(atoms[s] + 1) for s in symbols)):
        first = dict(zip(symbols, counts))
        second = {s: atoms[s] - first[s] for s in symbols}
        if not any(first.values()) or not any(second.values()):
            continue
        key = frozenset([tuple(sorted(first.items())), tuple(sorted(second.items()))])
        if key in seen:
            continue
        seen.add(key)
        yield {s: c for s, c in first.items() if c}, {s: c for s, c in second.items() if c}


def _charge_splits(a: dict[str, int], b: dict[str, int], n: int):
    ea, eb = _energy(a), _energy(b)
    if n == 1:
        if math.isnan(ea) or math.isnan(eb) or ea == eb:
            return [(1, 0), (0, 1)]
        return [(1, 0)] if ea < eb else [(0, 1)]
    big, small = (n + 1) // 2, n // 2
    if big == small or math.isnan(ea) or math.isnan(eb):
        return list(dict.fromkeys([(big, small), (small, big)]))
    return [(big, small)] if ea <= eb else [(small, big)]


def dissociation_channels(ranges: RangeTable, mass_to_charge_da, *, max_parents: int = 3,
                          max_charge: int = 3) -> tuple[DissociationChannel, ...]:
    """The expected dissociation channels of the most counted ranged molecular ions.

    Parameters
    ----------
    ranges : RangeTable
        Ranges of the run; an ion of two or more atoms is molecular.
    mass_to_charge_da : (N,) array
        The run's m/q (to count each molecular ion's range).
    max_parents : int
        Molecular ions considered, most counted first.
    max_charge : int
        Highest parent charge tried when placing a range (the lowest charge whose main
        isotope peak of the ion falls in the range is the ion's charge there).

    Returns
    -------
    tuple of DissociationChannel
        Most counted parent first; the charge placement and the ranged-fragment rule of
        the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, RangeTable
    >>> ions = (Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("LiO", (("Li", 1), ("O", 1))))
    >>> r = RangeTable(ions, np.array([6.9, 15.9, 22.9]), np.array([7.1, 16.1, 23.1]),
    ...                np.array([0, 1, 2]))
    >>> [c.label for c in dissociation_channels(r, np.array([7.0, 16.0, 23.0, 23.0]))]
    ['LiO+ -> Li+ + O']
    """
    if int(max_parents) < 1 or int(max_charge) < 1:
        raise ParameterError("max_parents and max_charge must be at least 1")
    mass = np.asarray(mass_to_charge_da, dtype=np.float64)
    best: dict[int, tuple[int, int, float]] = {}  # ion -> (count, charge, parent mass)
    for k in range(ranges.n_ranges):
        ion_k = int(ranges.ion_index[k])
        atoms = ranges.ions[ion_k].atoms
        if sum(c for _, c in atoms) < 2:
            continue
        lo, hi = float(ranges.low_da[k]), float(ranges.high_da[k])
        charge = next((q for q in range(1, int(max_charge) + 1)
                       if lo <= _main_peak(atoms, q)[0] < hi), None)
        if charge is None:
            continue
        count = int(np.count_nonzero((mass >= lo) & (mass < hi)))
        if ion_k not in best or count > best[ion_k][0]:
            best[ion_k] = (count, charge, _main_peak(atoms, charge)[0] * charge)
    parents = sorted(best.items(), key=lambda item: -item[1][0])[:int(max_parents)]
    out: list[DissociationChannel] = []
    seen: set[str] = set()
    for ion_k, (count, n, parent_mass) in parents:
        if count == 0:
            continue
        atoms = dict(ranges.ions[ion_k].atoms)
        for a, b in _splits(atoms):
            for qa, qb in _charge_splits(a, b, n):
                # first: the fragment of higher charge (of equal charges, the heavier)
                (first, q1), (second, q2) = sorted(
                    ((a, qa), (b, qb)), key=lambda fq: (fq[1], _main_peak(
                        tuple(fq[0].items()), 1)[0]), reverse=True)
                m1 = _main_peak(tuple(first.items()), 1)[0]
                ok = all(q == 0 or _ranged_at(ranges, frag,
                                              _main_peak(tuple(frag.items()), q)[0])
                         for frag, q in ((first, q1), (second, q2)))
                channel = DissociationChannel(
                    _name(atoms), float(parent_mass), int(n), _name(first), float(m1),
                    int(q1), _name(second), int(q2), count)
                if ok and parent_mass > m1 and channel.label not in seen:
                    seen.add(channel.label)
                    out.append(channel)
    return tuple(out)


def pairs_off_peaks(pairs: PulsePairs, ranges: RangeTable) -> PulsePairs:
    """The pairs with at least one hit outside every range.

    Two ions that each evaporated whole sit at a crossing of two ranged peaks, and a
    predicted track that passes such a crossing (LiO+ -> Li+ + O crosses O+ x Ni2+ near
    (16, 29) Da) would count those random pairs as dissociations. A fragment pair lies
    off the peaks except where the track meets its ends, so scoring tracks on these
    pairs (:func:`~liprobe.apt.detector.match_track`) keeps the crossings out.
    """
    from liprobe.apt.ranging import species_per_ion

    low = species_per_ion(pairs.mass_low_da, ranges, overlap="first")
    high = species_per_ion(pairs.mass_high_da, ranges, overlap="first")
    keep = np.flatnonzero((low < 0) | (high < 0))
    sep = None if pairs.separation_mm is None else pairs.separation_mm[keep]
    return PulsePairs(pairs.first[keep], pairs.second[keep], pairs.mass_low_da[keep],
                      pairs.mass_high_da[keep], sep)

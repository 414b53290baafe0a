"""Natural isotopes of the elements, from the maintained ``periodictable`` package.

One exception, stated here so that nobody has to rediscover it: for lithium,
``periodictable`` (2.x) lists the midpoint of the IUPAC/CIAAW interval of terrestrial
6Li abundances, [1.9, 7.8] % -> 4.85 %. That midpoint is no material's composition. liprobe
uses the IUPAC best measurement from a single terrestrial source, 6Li 7.59(4) % /
7Li 92.41(4) % (also NIST's value), which is what lithium of battery-grade carbonate and
hydroxide usually shows and what atom-probe practice compares with. Both the synthetic
generator and the Li isotope quality check use :func:`element_isotopes`, so they agree.
Lithium from a 6Li-depleted source gives a lower ratio: the quality check takes the
expected ratio as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["element_isotopes", "isotopologue_peaks", "LITHIUM_6_ABUNDANCE", "MERGE_DA"]

#: IUPAC best measurement from a single terrestrial source (atom fraction of 6Li).
LITHIUM_6_ABUNDANCE = 0.0759


@cache
def element_isotopes(symbol: str) -> tuple[tuple[float, float], ...]:
    """Natural isotopes ``((mass_da, abundance_fraction), ...)``, abundances summing to 1.

    Examples
    --------
    >>> [(round(m, 3), round(p, 4)) for m, p in element_isotopes("Li")]
    [(6.015, 0.0759), (7.016, 0.9241)]
    """
    import periodictable

    try:
        element = periodictable.elements.symbol(symbol)
    except ValueError as exc:
        raise ParameterError(f"unknown element symbol {symbol!r}") from exc
    pattern = [
        (float(element[a].mass), float(element[a].abundance) / 100.0)
        for a in element.isotopes
        if element[a].abundance > 0
    ]
    if symbol == "Li":
        abundances = {6: LITHIUM_6_ABUNDANCE, 7: 1.0 - LITHIUM_6_ABUNDANCE}
        pattern = [(float(element[a].mass), abundances[a]) for a in (6, 7)]
    total = sum(p for _, p in pattern)
    return tuple((m, p / total) for m, p in pattern)


#: Isotopologues closer than this in m/q (Da) merge into one peak (abundance-weighted).
MERGE_DA = 0.02


def isotopologue_peaks(
    atoms: Sequence[tuple[str, int]], charge: int, *, merge_da: float = MERGE_DA
) -> tuple[tuple[float, float], ...]:
    """All isotope peaks ``((mass_to_charge_da, abundance), ...)`` of an ion, sorted by m/q.

    Every isotopologue of the ion's atoms, divided by ``charge``; peaks closer than
    ``merge_da`` merge (abundance-weighted m/q). Abundances sum to 1; callers drop the
    peaks too weak for their purpose.

    Examples
    --------
    >>> [(round(m, 2), round(p, 4)) for m, p in isotopologue_peaks((("O", 2),), 2)][:3]
    [(15.99, 0.9951), (16.5, 0.0008), (17.0, 0.0041)]
    """
    masses, probs = np.zeros(1), np.ones(1)
    for symbol, count in atoms:
        iso = element_isotopes(symbol)
        m_iso = np.array([m for m, _ in iso])
        p_iso = np.array([p for _, p in iso])
        for _ in range(count):
            masses = (masses[:, None] + m_iso[None, :]).ravel()
            probs = (probs[:, None] * p_iso[None, :]).ravel()
    mz = masses / charge
    order = np.argsort(mz)
    merged: list[list[float]] = []
    for m, p in zip(mz[order], probs[order]):
        if merged and m - merged[-1][0] / merged[-1][1] < merge_da:
            merged[-1][0] += m * p
            merged[-1][1] += p
        else:
            merged.append([m * p, p])
    return tuple((float(mp / p), float(p)) for mp, p in merged)

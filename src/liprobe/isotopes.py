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

from functools import cache

from liprobe.errors import ParameterError

__all__ = ["element_isotopes", "LITHIUM_6_ABUNDANCE"]

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

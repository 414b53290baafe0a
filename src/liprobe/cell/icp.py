"""ICP-AES bulk chemistry: weight % to atomic ratios normalised to total transition metal.

The conversion (DOMAIN.md section 5) is

    r_X = (w_X / M_X) / sum_{T in TM} (w_T / M_T)

with standard atomic weights M from the ``periodictable`` package (IUPAC values), and back
``w_X = c * r_X * M_X`` with the scale ``c`` fixed by one known weight % (the other
elements' mass, e.g. oxygen, is not measured by ICP-AES).

Reference: Chae et al., Nat. Commun. (2021), Table 1.

Examples
--------
>>> r = wt_pct_to_ratios({"Li": 6.77, "Ni": 44.31, "Co": 8.24, "Mn": 2.46})
>>> round(float(r.ratios["Li"]), 3)
1.038
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["IcpRatios", "atomic_weight", "wt_pct_to_ratios", "ratios_to_wt_pct"]


def atomic_weight(symbol: str) -> float:
    """Standard atomic weight of ``symbol`` in g/mol (``periodictable``)."""
    import periodictable

    try:
        element = getattr(periodictable, symbol)
        mass = float(element.mass)
    except AttributeError:
        raise ParameterError(f"unknown element symbol {symbol!r}; use e.g. 'Li', 'Ni'") from None
    if not np.isfinite(mass) or mass <= 0:
        raise ParameterError(f"element {symbol!r} has no standard atomic weight")
    return mass


@dataclass(frozen=True)
class IcpRatios:
    """Atomic ratios normalised to the sum of ``normalize_to``.

    Attributes
    ----------
    ratios : dict of str to ndarray
        Ratio per element (shape of the input weight %).
    sigma : dict of str to ndarray
        1-sigma uncertainty propagated from ``relative_sigma`` (NaN when not given).
    normalize_to : tuple of str
        Elements of the denominator.
    """

    ratios: Mapping[str, np.ndarray]
    sigma: Mapping[str, np.ndarray]
    normalize_to: tuple[str, ...]


def _check(wt_pct: Mapping[str, object], normalize_to: Sequence[str]) -> dict[str, np.ndarray]:
    if not normalize_to:
        raise ParameterError("normalize_to must name at least one element")
    missing = [el for el in normalize_to if el not in wt_pct]
    if missing:
        raise ParameterError(f"weight % of {', '.join(missing)} missing; normalize_to="
                             f"{tuple(normalize_to)} needs every one of them")
    values = {el: np.asarray(v, dtype=np.float64) for el, v in wt_pct.items()}
    for el, v in values.items():
        if np.any(~np.isfinite(v)) or np.any(v < 0):
            raise ParameterError(f"weight % of {el} must be finite and >= 0")
    return values


def wt_pct_to_ratios(wt_pct: Mapping[str, float | np.ndarray], *,
                     normalize_to: Sequence[str] = ("Ni", "Co", "Mn"),
                     relative_sigma: float | Mapping[str, float] | None = None) -> IcpRatios:
    """Convert weight % to atomic ratios normalised to total ``normalize_to``.

    Parameters
    ----------
    wt_pct : mapping of element symbol to float or array
        Weight % per element (arrays for several samples at once).
    normalize_to : sequence of str, keyword-only
        Denominator elements (default total TM: Ni, Co, Mn).
    relative_sigma : float or mapping, keyword-only
        Relative 1-sigma uncertainty of each weight % (e.g. 0.01 for 1 %); propagated
        to first order, including the correlation through the denominator.

    Returns
    -------
    IcpRatios
    """
    values = _check(wt_pct, normalize_to)
    moles = {el: v / atomic_weight(el) for el, v in values.items()}
    total = sum(moles[el] for el in normalize_to)
    if np.any(total <= 0):
        raise ParameterError("the normalising elements have zero total weight %")
    ratios = {el: m / total for el, m in moles.items()}
    if relative_sigma is None:
        sigma = {el: np.full_like(r, np.nan) for el, r in ratios.items()}
    else:
        rel = (relative_sigma if isinstance(relative_sigma, Mapping)
               else {el: float(relative_sigma) for el in values})
        sigma = {}
        for el, r in ratios.items():
            # d ln r_X = d ln n_X - sum_T (n_T / total) d ln n_T
            var = np.zeros_like(r)
            for other in values:
                coeff = (1.0 if other == el else 0.0) - (
                    moles[other] / total if other in normalize_to else 0.0)
                var = var + (coeff * rel.get(other, 0.0)) ** 2
            sigma[el] = r * np.sqrt(var)
    return IcpRatios(ratios, sigma, tuple(normalize_to))


def ratios_to_wt_pct(ratios: Mapping[str, float | np.ndarray], *,
                     scale_to: tuple[str, float] | None = None,
                     other_mass_per_tm_g: float = 0.0) -> dict[str, np.ndarray]:
    """Convert atomic ratios back to weight %.

    Parameters
    ----------
    ratios : mapping of element symbol to float or array
        Atomic ratios (any normalisation).
    scale_to : (str, float), keyword-only
        An element and its known weight %, which fixes the scale (ICP-AES does not
        measure every element, so the absolute scale must come from one of them).
    other_mass_per_tm_g : float, keyword-only
        Used when ``scale_to`` is None: mass in g/mol of unlisted elements per formula
        unit (e.g. 2 x 15.999 for O2), so that weight % sum to 100 with them included.

    Returns
    -------
    dict of str to ndarray
        Weight % per element.
    """
    values = {el: np.asarray(r, dtype=np.float64) for el, r in ratios.items()}
    mass = {el: r * atomic_weight(el) for el, r in values.items()}
    if scale_to is not None:
        element, wt = scale_to
        if element not in mass:
            raise ParameterError(f"scale_to element {element!r} is not among the ratios")
        scale = float(wt) / mass[element]
    else:
        scale = 100.0 / (sum(mass.values()) + other_mass_per_tm_g)
    return {el: m * scale for el, m in mass.items()}

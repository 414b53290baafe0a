"""Composition of a ranged atom-probe data set, with counting-statistics uncertainty.

Ranged ions are decomposed into atoms (a molecular ion NiO2 counts as 1 Ni + 2 O), then
atomic fractions and ratios are formed from the atom counts.

Uncertainties come from the ion counts (:mod:`liprobe.counting`, the one implementation):
ion counts are multinomial over the species and atoms are linear combinations of them with
each species' stoichiometry, so an O2+ ion moves two O atoms at once and a NiO+ ion feeds
both Ni and O. A fraction or ratio has the delta-method variance with the full covariance
of the atom counts (``Mᵀ diag(n) M``, plus any extra term such as the isotope-overlap
shares of :mod:`liprobe.apt.overlap_correction`, kept in :attr:`Composition.atom_covariance`).
For monatomic ions this is the binomial ``sqrt(p (1 - p) / N)`` (Danoix et al. 2007).
Zero counts follow one rule (σ of one count); the default ratio denominator is
Ni + Co + Mn (:data:`liprobe.counting.DEFAULT_DENOMINATOR`). Detection efficiency,
background and peak-tail losses are not counting errors: see
:mod:`liprobe.apt.losses` for the systematic terms reported beside σ.

References
----------
Danoix, Grancher, Bostel & Blavette, "Standard deviations of composition measurements in
atom probe analyses", Ultramicroscopy 107 (2007) 734 and 739.
Chae et al., Nature Communications (2021): metal-normalised ratios
``r_X = N_X / (N_Ni + N_Co + N_Mn)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt.ranging import IonCounts, count_ions
from liprobe.counting import (
    DEFAULT_DENOMINATOR,
    atom_covariance,
    fractions_with_sigma,
    interval,
    poisson_covariance,
    ratios_with_sigma,
)
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.tabular import FrameView

__all__ = [
    "TRANSITION_METALS",
    "NCM_METALS",
    "Composition",
    "atoms_per_species",
    "compose",
    "composition_from_counts",
]

#: d-block elements (Sc..Zn, Y..Cd, Hf..Hg). Not the default ratio denominator, which is
#: Ni + Co + Mn (:data:`liprobe.counting.DEFAULT_DENOMINATOR`); pass ``to=`` for others.
TRANSITION_METALS = frozenset(
    "Sc Ti V Cr Mn Fe Co Ni Cu Zn Y Zr Nb Mo Tc Ru Rh Pd Ag Cd Hf Ta W Re Os Ir Pt Au Hg".split()
)

#: The metals of an NCM cathode: the paper normalises every ratio to their sum.
NCM_METALS: tuple[str, ...] = ("Ni", "Co", "Mn")


def atoms_per_species(ranges: RangeTable) -> tuple[tuple[str, ...], np.ndarray]:
    """Elements and the atoms each ion species decomposes into (the one function for it).

    Returns
    -------
    elements : tuple of str
        Element symbols in order of first appearance (``ranges.elements``).
    matrix : (n_species, n_elements) int64 array
        ``matrix[i, e]`` atoms of element ``e`` in one ion of species ``i``.

    Examples
    --------
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("Li", (("Li", 1),)), Ion("NiO2", (("Ni", 1), ("O", 2)))),
    ...                [6.9, 90.8], [7.1, 91.1], [0, 1])
    >>> elements, matrix = atoms_per_species(r)
    >>> elements, matrix.tolist()
    (('Li', 'Ni', 'O'), [[1, 0, 0], [0, 1, 2]])
    """
    elements = ranges.elements
    column = {symbol: e for e, symbol in enumerate(elements)}
    matrix = np.zeros((ranges.n_ions, len(elements)), dtype=np.int64)
    for i, ion in enumerate(ranges.ions):
        for symbol, count in ion.atoms:
            if count < 0:
                raise ParameterError(f"ion {ion.name!r} has a negative count of {symbol}")
            matrix[i, column[symbol]] += int(count)
    return elements, matrix


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.array(values, dtype=np.int64)
    values.flags.writeable = False
    return values


@dataclass(frozen=True, eq=False)
class Composition(FrameView):
    """Ion and atom counts of a ranged data set, with fractions, ratios and uncertainties.

    Attributes
    ----------
    ion_names : tuple of str
        Ion species.
    ion_counts : (n_species,) int64 array
        Ranged ions per species.
    elements : tuple of str
        Element symbols.
    atom_counts : (n_elements,) int64 array
        Atoms per element after decomposing molecular ions.
    n_ions : int
        All ions (ranged and unranged).
    n_ranged : int
        Ions that fell in a range.
    atom_covariance : (n_elements, n_elements) float64 or None
        Covariance of the atom counts: counting (``Mᵀ diag(n) M``, from the ion counts)
        plus any extra term (overlap shares, dead-time correction). None (a hand-made
        composition) treats atoms as independent Poisson counts.
    """

    ion_names: tuple[str, ...]
    ion_counts: np.ndarray
    elements: tuple[str, ...]
    atom_counts: np.ndarray
    n_ions: int
    n_ranged: int
    atom_covariance: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ion_counts", _frozen(self.ion_counts))
        object.__setattr__(self, "atom_counts", _frozen(self.atom_counts))
        if self.atom_covariance is not None:
            cov = np.array(self.atom_covariance, dtype=np.float64)
            if cov.shape != (len(self.elements),) * 2:
                raise ParameterError(f"atom_covariance must be {len(self.elements)} x "
                                     f"{len(self.elements)}, got shape {cov.shape}")
            cov.flags.writeable = False
            object.__setattr__(self, "atom_covariance", cov)

    @property
    def covariance(self) -> np.ndarray:
        """:attr:`atom_covariance`, or ``diag(atom_counts)`` when none was given."""
        if self.atom_covariance is None:
            return poisson_covariance(self.atom_counts)
        return self.atom_covariance

    # -- counts -------------------------------------------------------------------------
    @property
    def n_unranged(self) -> int:
        """Ions in no range."""
        return self.n_ions - self.n_ranged

    @property
    def unranged_fraction(self) -> float:
        """Fraction of all ions that fell in no range (NaN for no ions)."""
        return self.n_unranged / self.n_ions if self.n_ions else float("nan")

    @property
    def n_atoms(self) -> int:
        """All atoms of all elements."""
        return int(self.atom_counts.sum())

    def atoms(self, element: str) -> int:
        """Atom count of ``element``."""
        return int(self.atom_counts[self._column(element)])

    def _column(self, element: str) -> int:
        try:
            return self.elements.index(element)
        except ValueError:
            same_case = [e for e in self.elements if e.lower() == str(element).lower()]
            near = same_case or difflib.get_close_matches(str(element), self.elements, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ParameterError(
                f"element {element!r} is not in the ranges; {hint}known elements: "
                f"{', '.join(self.elements) or '(none)'}"
            ) from None

    # -- atomic fractions ---------------------------------------------------------------
    def fraction(self, element: str) -> float:
        """Atomic fraction of ``element`` among all atoms (NaN when there are none)."""
        a = self.atoms(element)
        return a / self.n_atoms if self.n_atoms else float("nan")

    def fractions(self) -> tuple[np.ndarray, np.ndarray]:
        """All atomic fractions and their σ (:func:`liprobe.counting.fractions_with_sigma`)."""
        return fractions_with_sigma(self.atom_counts, self.covariance)

    def fraction_sigma(self, element: str) -> float:
        """σ of :meth:`fraction`: delta method with the atom covariance (binomial
        ``sqrt(p (1 - p) / N)`` for monatomic ions; larger when O comes as O2)."""
        return float(self.fractions()[1][self._column(element)])

    def fraction_interval(
        self, element: str, *, confidence: float = 0.95, method: str = "wilson"
    ) -> tuple[float, float]:
        """Confidence interval ``(low, high)`` of :meth:`fraction`.

        ``method`` is ``"wilson"`` (score interval with the effective count
        ``p (1 - p) / σ²``, which equals the atom count for monatomic ions) or ``"wald"``
        (``p ± z σ``); see :func:`liprobe.counting.interval`.
        """
        value, sigma = self.fraction(element), self.fraction_sigma(element)
        low, high = interval(value, sigma, confidence=confidence, method=method)
        return (float(low), float(high))

    # -- ratios -------------------------------------------------------------------------
    def _ratio_set(self, to: str | Iterable[str] | None) -> tuple[str, ...]:
        if to is None:
            chosen = tuple(e for e in DEFAULT_DENOMINATOR if e in self.elements)
            if not chosen:
                raise ParameterError(
                    "none of Ni, Co, Mn is in the ranges to normalise to; pass to=<elements>"
                )
            return chosen
        chosen = (to,) if isinstance(to, str) else tuple(to)
        if not chosen:
            raise ParameterError("to= must name at least one element")
        for element in chosen:
            self._column(element)
        return tuple(dict.fromkeys(chosen))

    def ratio(self, element: str, to: str | Iterable[str] | None = None) -> float:
        """Atoms of ``element`` over the summed atoms of the elements ``to``.

        ``to`` defaults to Ni + Co + Mn (those present), the metal-normalised ratios of
        Chae et al. (2021). NaN when the denominator is 0.

        Examples
        --------
        >>> import numpy as np
        >>> c = Composition(("Li", "Ni", "O"), np.array([10, 8, 19]), ("Li", "Ni", "O"),
        ...                 np.array([10, 8, 19]), 40, 37)
        >>> c.ratio("Li"), c.ratio("O", to="Ni")
        (1.25, 2.375)
        """
        return float(self.ratios(to)[0][self._column(element)])

    def ratios(self, to: str | Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All ratios to ``to`` and their σ (:func:`liprobe.counting.ratios_with_sigma`)."""
        return ratios_with_sigma(self.atom_counts, self.elements, self._ratio_set(to),
                                 self.covariance)

    def ratio_sigma(self, element: str, to: str | Iterable[str] | None = None) -> float:
        """σ of :meth:`ratio`: delta method with the full atom covariance.

        For monatomic ions: ``sqrt(r (1 - r) / D)`` inside the set, ``r sqrt(1/a + 1/D)``
        outside; a zero count has σ = 1/D (:mod:`liprobe.counting`).
        """
        return float(self.ratios(to)[1][self._column(element)])

    def ratio_interval(self, element: str, to: str | Iterable[str] | None = None, *,
                       confidence: float = 0.95, method: str = "wilson"
                       ) -> tuple[float, float]:
        """Confidence interval of :meth:`ratio` (:func:`liprobe.counting.interval`)."""
        inside = element in self._ratio_set(to)
        low, high = interval(self.ratio(element, to), self.ratio_sigma(element, to),
                             proportion=inside, confidence=confidence, method=method)
        return (float(low), float(high))

    # -- export -------------------------------------------------------------------------
    def to_dict(self, normalize_to: str | Iterable[str] | None = None) -> dict[str, Any]:
        """Plain-Python summary (the ``liprobe composition --json`` payload).

        Ion ``fraction`` is the share of the ranged ions; element ``fraction`` the atomic
        fraction; ``ratio`` is normalised to ``normalize_to`` (default: Ni + Co + Mn
        present; when there are none, ratios are null). σ from the full atom covariance.
        """
        try:
            chosen = self._ratio_set(normalize_to)
        except ParameterError:
            if normalize_to is not None:
                raise
            chosen = ()
        ions = {
            name: {
                "count": int(count),
                "fraction": count / self.n_ranged if self.n_ranged else float("nan"),
            }
            for name, count in zip(self.ion_names, self.ion_counts)
        }
        elements: dict[str, Mapping[str, Any]] = {}
        frac, frac_sigma = self.fractions()
        nan = np.full(len(self.elements), np.nan)
        rat, rat_sigma = self.ratios(chosen) if chosen else (nan, nan)
        for e, element in enumerate(self.elements):
            elements[element] = {
                "atoms": self.atoms(element),
                "fraction": float(frac[e]),
                "fraction_sigma": float(frac_sigma[e]),
                "ratio": float(rat[e]),
                "ratio_sigma": float(rat_sigma[e]),
            }
        return {
            "n_ions": self.n_ions,
            "n_ranged": self.n_ranged,
            "unranged_fraction": self.unranged_fraction,
            "ions": ions,
            "elements": elements,
            "normalized_to": list(chosen),
        }


    def to_frame(self, normalize_to: str | Iterable[str] | None = None) -> Any:
        """A pandas DataFrame: one row per element with ``atoms, fraction, fraction_sigma,
        ratio, ratio_sigma`` (ratios to ``normalize_to``, as :meth:`to_dict`)."""
        import pandas as pd

        payload = self.to_dict(normalize_to)
        frame = pd.DataFrame([{"element": el, **v} for el, v in payload["elements"].items()])
        frame.attrs["normalized_to"] = payload["normalized_to"]
        return frame

    def _summary(self) -> str:
        return (f"{self.n_ions} ions, {self.n_ranged} ranged; ratios to "
                + ("+".join(self.to_dict()["normalized_to"]) or "-"))


def composition_from_counts(
    ion_counts: IonCounts | np.ndarray, ranges: RangeTable, *, n_ions: int | None = None
) -> Composition:
    """Composition from ion counts per species of ``ranges``.

    Parameters
    ----------
    ion_counts : IonCounts or (n_species,) int array
        Ions per species (as from :func:`liprobe.apt.ranging.count_ions`).
    ranges : RangeTable
        Gives the species and the atoms they decompose into.
    n_ions : int, optional
        All ions including unranged ones; default ``IonCounts.n_ions`` or, for a plain
        array, the sum of the counts (no unranged ions).

    Examples
    --------
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("Li2O", (("Li", 2), ("O", 1))),), [29.9], [30.1], [0])
    >>> composition_from_counts([5], r, n_ions=6).atom_counts.tolist()
    [10, 5]
    """
    if isinstance(ion_counts, IonCounts):
        counts = ion_counts.counts
        total = ion_counts.n_ions if n_ions is None else n_ions
    else:
        counts = np.asarray(ion_counts)
        total = None if n_ions is None else n_ions
    if counts.shape != (ranges.n_ions,) or counts.dtype.kind not in "iu":
        raise ParameterError(
            f"ion_counts must be {ranges.n_ions} integers (one per ion species), got "
            f"shape {counts.shape} dtype {counts.dtype}"
        )
    counts = counts.astype(np.int64)
    if np.any(counts < 0):
        raise ParameterError("ion_counts must not be negative")
    n_ranged = int(counts.sum())
    total = n_ranged if total is None else int(total)
    if total < n_ranged:
        raise ParameterError(f"n_ions={total} is smaller than the {n_ranged} ranged ions")
    elements, matrix = atoms_per_species(ranges)
    return Composition(
        ion_names=ranges.ion_names,
        ion_counts=counts,
        elements=elements,
        atom_counts=counts @ matrix,
        n_ions=total,
        n_ranged=n_ranged,
        atom_covariance=atom_covariance(counts, matrix),
    )


def compose(
    ions_or_mass: IonTable | np.ndarray, ranges: RangeTable, *, overlap: str = "error"
) -> Composition:
    """Range and count ions, then decompose them into atoms.

    Parameters
    ----------
    ions_or_mass : IonTable or (N,) array
        The ions, or their mass-to-charge ratios in Da (any float dtype and byte order).
    ranges : RangeTable
        Mass ranges (``low_da <= m < high_da``).
    overlap : {"error", "first", "narrowest"}
        Overlap rule, see :mod:`liprobe.apt.ranging`.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("Li", (("Li", 1),)), Ion("O2", (("O", 2),))),
    ...                [6.9, 31.8], [7.1, 32.2], [0, 1])
    >>> c = compose(np.array([7.0, 7.0, 32.0, 50.0], np.float32), r)
    >>> c.atom_counts.tolist(), c.fraction("Li"), c.unranged_fraction
    ([2, 2], 0.5, 0.25)
    """
    return composition_from_counts(count_ions(ions_or_mass, ranges, overlap=overlap), ranges)

"""Composition of a ranged atom-probe data set, with counting-statistics uncertainty.

Ranged ions are decomposed into atoms (a molecular ion NiO2 counts as 1 Ni + 2 O), then
atomic fractions and ratios are formed from the atom counts.

Uncertainties (counting statistics only; detection efficiency, peak overlaps and
background are not included):

* atomic fraction ``p = a / N`` of ``a`` atoms out of ``N``: binomial standard error
  ``sqrt(p (1 - p) / N)`` (Danoix et al. 2007); confidence intervals from
  :func:`scipy.stats.binomtest` (Wilson score or Clopper-Pearson "exact").
* ratios treat atom counts as independent Poisson variables. For X inside the
  normalising set, ``r = a / (a + b)`` with ``b`` the other atoms of the set; first-order
  propagation gives ``var r = (b² a + a² b) / (a + b)⁴ = r (1 - r) / (a + b)``.
  For X outside the set, ``r = a / b`` and ``var r = a / b² + a² / b³``
  (``= r² (1/a + 1/b)`` for ``a > 0``).

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

from liprobe._tabular import FrameView
from liprobe.apt.ranging import IonCounts, count_ions
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = [
    "TRANSITION_METALS",
    "Composition",
    "atoms_per_ion",
    "compose",
    "composition_from_counts",
]

#: d-block elements used as the default normalising set of :meth:`Composition.ratio`
#: (Sc..Zn, Y..Cd, Hf..Hg).
TRANSITION_METALS = frozenset(
    "Sc Ti V Cr Mn Fe Co Ni Cu Zn Y Zr Nb Mo Tc Ru Rh Pd Ag Cd Hf Ta W Re Os Ir Pt Au Hg".split()
)


def atoms_per_ion(ranges: RangeTable) -> tuple[tuple[str, ...], np.ndarray]:
    """Elements and the atoms each ion species decomposes into.

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
    >>> elements, matrix = atoms_per_ion(r)
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
    """

    ion_names: tuple[str, ...]
    ion_counts: np.ndarray
    elements: tuple[str, ...]
    atom_counts: np.ndarray
    n_ions: int
    n_ranged: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "ion_counts", _frozen(self.ion_counts))
        object.__setattr__(self, "atom_counts", _frozen(self.atom_counts))

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

    def fraction_sigma(self, element: str) -> float:
        """Binomial standard error ``sqrt(p (1 - p) / N_atoms)`` of :meth:`fraction`."""
        p = self.fraction(element)
        return float(np.sqrt(p * (1.0 - p) / self.n_atoms)) if self.n_atoms else float("nan")

    def fraction_interval(
        self, element: str, *, confidence: float = 0.95, method: str = "wilson"
    ) -> tuple[float, float]:
        """Confidence interval ``(low, high)`` of :meth:`fraction`.

        ``method`` is ``"wilson"`` (score interval) or ``"exact"`` (Clopper-Pearson), as
        computed by ``scipy.stats.binomtest(k, n).proportion_ci``.
        """
        from scipy.stats import binomtest

        if method not in ("wilson", "exact"):
            raise ParameterError(f"method={method!r} is not known; use 'wilson' or 'exact'")
        if not 0.0 < confidence < 1.0:
            raise ParameterError(f"confidence must lie in (0, 1), got {confidence}")
        a = self.atoms(element)
        if self.n_atoms == 0:
            return (float("nan"), float("nan"))
        ci = binomtest(a, self.n_atoms).proportion_ci(confidence_level=confidence, method=method)
        return (float(ci.low), float(ci.high))

    # -- ratios -------------------------------------------------------------------------
    def _ratio_set(self, to: str | Iterable[str] | None) -> tuple[str, ...]:
        if to is None:
            chosen = tuple(e for e in self.elements if e in TRANSITION_METALS)
            if not chosen:
                raise ParameterError(
                    "no transition metal in the ranges to normalise to; pass to=<elements>"
                )
            return chosen
        chosen = (to,) if isinstance(to, str) else tuple(to)
        if not chosen:
            raise ParameterError("to= must name at least one element")
        for element in chosen:
            self._column(element)
        return tuple(dict.fromkeys(chosen))

    def _ratio_terms(self, element: str, to: str | Iterable[str] | None) -> tuple[int, int, bool]:
        chosen = self._ratio_set(to)
        a = self.atoms(element)
        total = sum(self.atoms(e) for e in chosen)
        inside = element in chosen
        return a, (total - a if inside else total), inside

    def ratio(self, element: str, to: str | Iterable[str] | None = None) -> float:
        """Atoms of ``element`` over the summed atoms of the elements ``to``.

        ``to`` defaults to the transition metals present (Sc..Zn, Y..Cd, Hf..Hg), giving
        the metal-normalised ratios of Chae et al. (2021). NaN when the denominator is 0.

        Examples
        --------
        >>> import numpy as np
        >>> c = Composition(("Li", "Ni", "O"), np.array([10, 8, 19]), ("Li", "Ni", "O"),
        ...                 np.array([10, 8, 19]), 40, 37)
        >>> c.ratio("Li"), c.ratio("O", to="Ni")
        (1.25, 2.375)
        """
        a, b, inside = self._ratio_terms(element, to)
        denominator = a + b if inside else b
        return a / denominator if denominator else float("nan")

    def ratio_sigma(self, element: str, to: str | Iterable[str] | None = None) -> float:
        """Standard error of :meth:`ratio` from Poisson statistics of the atom counts.

        Inside the set: ``sqrt(r (1 - r) / (a + b))``; outside: ``sqrt(a/b² + a²/b³)``.
        """
        a, b, inside = self._ratio_terms(element, to)
        if inside:
            n = a + b
            if n == 0:
                return float("nan")
            r = a / n
            return float(np.sqrt(r * (1.0 - r) / n))
        if b == 0:
            return float("nan")
        return float(np.sqrt(a / b**2 + a**2 / b**3))

    # -- export -------------------------------------------------------------------------
    def to_dict(self, normalize_to: str | Iterable[str] | None = None) -> dict[str, Any]:
        """Plain-Python summary (the ``liprobe composition --json`` payload).

        Ion ``fraction`` is the share of the ranged ions; element ``fraction`` the atomic
        fraction; ``ratio`` is normalised to ``normalize_to`` (default: the transition
        metals present; when there are none, ratios are null).
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
        for element in self.elements:
            elements[element] = {
                "atoms": self.atoms(element),
                "fraction": self.fraction(element),
                "fraction_sigma": self.fraction_sigma(element),
                "ratio": self.ratio(element, chosen) if chosen else float("nan"),
                "ratio_sigma": self.ratio_sigma(element, chosen) if chosen else float("nan"),
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
    elements, matrix = atoms_per_ion(ranges)
    return Composition(
        ion_names=ranges.ion_names,
        ion_counts=counts,
        elements=elements,
        atom_counts=counts @ matrix,
        n_ions=total,
        n_ranged=n_ranged,
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

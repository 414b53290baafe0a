"""Composition corrected for peak overlaps: isotope-fitted shares applied to whole ranges.

A range whose window holds peaks of several ion species (O+ and O2 2+ at 16 Da, O2+ and
64Ni2+ at 32 Da ...) is counted by ranging as its labelled ion only. Ions of one m/q have
one flight time, hence one peak shape and one thermal tail, so the *share* of each
species among the ions of such a range is the share of its expected peak counts, taken
from the isotope deconvolution (:func:`liprobe.apt.overlaps.deconvolve_overlaps`, natural
abundances, weighted least squares with covariance). For a range ``r`` with ``n_r`` ions
and fitted species totals ``N_s``::

    E_rs = N_s A_rs                 A_rs: abundance of the peaks of s inside range r
    share_rs = E_rs / sum_t E_rt

and the range's ions are re-attributed ``n_r share_rs`` to the composition of ``s`` (the
16 Da range with O2 2+ share φ then carries ``n16 (1 + φ)`` O atoms; the 32 Da range with
64Ni2+ share ψ ``2 n32 (1 - ψ)`` O and ``n32 ψ`` Ni). Because the shares apply to the
whole range, its tails and everything else the range file counts are kept. Shares are
not clipped to [0, 1]: a small species whose fitted count comes out negative from noise
keeps its (negative) share and its σ, so the corrected counts stay unbiased; only the
corrected ion counts are floored at 0.

Uncertainty of the corrected composition (its ``atom_covariance``, used by every fraction
and ratio through :mod:`liprobe.counting`): counting, the ions of each range Poisson
(multinomial for fractions and ratios), each carrying its share-weighted atoms
``v_r = Σ_s share_rs m_s`` (``Σ_r n_r v_r v_rᵀ``: an O2 ion moves two O, a 64Ni2+ share in
the 32 Da range feeds Ni and takes O), plus the share part ``J Σ_N Jᵀ`` (``J = ∂a/∂N``,
delta method; ``Σ_N`` the deconvolution's covariance). Against the material's composition
this is the whole variance: the isotope sampling of a range's own ions about its expected
shares is inside the Poisson counting term; it separates the estimate from *this
specimen's* atoms and is kept apart (``realised_covariance``). Over 500 synthetic specimens
of 10 000-40 000 ions, ±1σ covers the generator's truth 0.62-0.72 of the time for every
element (``benchmarks/bench_counting_coverage.py``). The O2 2+ share is read from a few
ions of its 0.5 % isotopologues there; the isotope fit's covariance adds one ion to each
window's Poisson variance (:func:`liprobe.apt.overlaps.deconvolve_window_counts`), without
which the corrected O covered 0.57 at 10 000 ions. Below ~5 000 ions the O interval is
conservative (0.75 at 5 000 ions).

References
----------
D. J. Larson et al., *Local Electrode Atom Probe Tomography* (Springer, 2013), §6.3 (peak
overlaps, isotopic deconvolution). M. K. Miller, *Atom Probe Tomography* (Kluwer, 2000).
Danoix et al., Ultramicroscopy 107 (2007) 734 (counting-statistics errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt._overlap_shares import largest_remainder, range_abundance, range_shares
from liprobe.apt.composition import Composition, atoms_per_species
from liprobe.apt.isotope_patterns import parse_species
from liprobe.apt.overlap_statistics import (
    BACKGROUND_BIN_DA,
    OverlapStatistics,
    _formula_key,
    overlap_species_for,
    overlap_statistics,
)
from liprobe.apt.overlaps import OverlapResult, deconvolve_window_counts
from liprobe.counting import atom_covariance, ratios_with_sigma
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["OverlapCorrection", "correct_composition", "correct_composition_from_statistics",
           "overlap_species_for", "composition_of", "OVERLAP_CORRECTIONS"]

#: Overlap corrections a composition can be computed with (:func:`composition_of`).
OVERLAP_CORRECTIONS = ("isotopes", "none")


@dataclass(frozen=True, eq=False)
class OverlapCorrection:
    """Species shares of the overlapped ranges and the corrected atom counts, with σ.

    Attributes
    ----------
    deconvolution : OverlapResult
        The isotope fit the shares come from.
    range_index : (k,) int64
        Ranges of the table that hold peaks of several fitted species.
    range_low_da, range_high_da : (k,) float64
    range_ions : (k,) int64
        Ions counted in each of those ranges.
    range_ion_names : tuple of str
        The ion each of those ranges is labelled with in the range table.
    relabelled : (k, n_species) bool
        Species whose composition differs from the range's ion (their share is moved).
    shares, share_sigmas : (k, n_species) float64
        Share of each fitted species (``deconvolution.species``) among a range's ions.
    elements : tuple of str
    atom_counts : (n_elements,) float64
        Corrected atoms (before rounding to the integer :class:`Composition`).
    naive_atom_counts : (n_elements,) int64
        Atoms of the uncorrected composition.
    counting_variance : (n_elements,) float64
        Counting variance of the corrected atom counts (diagonal of
        ``counting_covariance``).
    share_covariance : (n_elements, n_elements) float64
        Covariance of the corrected atom counts from the fitted species totals (the share
        uncertainty, ``J Σ_N Jᵀ``).
    counting_covariance : (n_elements, n_elements) float64
        Counting covariance: ions of each range Poisson, each carrying its share-weighted
        atoms (``Σ_r n_r v_r v_rᵀ``), so O2 and metal-oxide ions correlate the elements.
    realised_covariance : (n_elements, n_elements) float64
        Isotope sampling of a range's own ions about its expected shares: what separates
        the estimate from *this specimen's* atoms, not from the material's expectation
        (already inside the counting term for the latter); reported, not added.
    """

    deconvolution: OverlapResult
    range_index: np.ndarray
    range_low_da: np.ndarray
    range_high_da: np.ndarray
    range_ions: np.ndarray
    range_ion_names: tuple[str, ...]
    relabelled: np.ndarray
    shares: np.ndarray
    share_sigmas: np.ndarray
    elements: tuple[str, ...]
    atom_counts: np.ndarray
    naive_atom_counts: np.ndarray
    counting_variance: np.ndarray
    share_covariance: np.ndarray
    counting_covariance: np.ndarray | None = None
    realised_covariance: np.ndarray | None = None

    @property
    def covariance(self) -> np.ndarray:
        """Covariance of the corrected atoms: counting plus shares (what fractions and
        ratios use; :attr:`Composition.atom_covariance` of the corrected composition)."""
        counting = (np.diag(self.counting_variance) if self.counting_covariance is None
                    else self.counting_covariance)
        return counting + self.share_covariance

    @property
    def species(self) -> tuple[str, ...]:
        """Fitted species (columns of :attr:`shares`)."""
        return self.deconvolution.species

    def _column(self, element: str) -> int:
        if element not in self.elements:
            raise ParameterError(f"element {element!r} is not in the corrected composition; "
                                 f"known: {', '.join(self.elements)}")
        return self.elements.index(element)

    def atoms(self, element: str) -> tuple[float, float]:
        """Corrected atoms of ``element`` and σ (counting and share uncertainty)."""
        e = self._column(element)
        return float(self.atom_counts[e]), float(np.sqrt(max(self.covariance[e, e], 0.0)))

    def share_sigma(self, element: str) -> float:
        """σ of the corrected atoms of ``element`` from the shares alone."""
        e = self._column(element)
        return float(np.sqrt(max(self.share_covariance[e, e], 0.0)))

    def ratio(self, element: str, to: Sequence[str] = ("Ni", "Co", "Mn")) -> tuple[float, float]:
        """``a_X / Σ_T a_T`` of the corrected atoms and σ: delta method with
        :attr:`covariance` (:func:`liprobe.counting.ratios_with_sigma`)."""
        e = self._column(element)
        names = tuple(dict.fromkeys(to))
        for t in names:
            self._column(t)
        r, sigma = ratios_with_sigma(self.atom_counts, self.elements, names, self.covariance)
        return float(r[e]), float(sigma[e])

    def ratio_share_sigma(self, element: str, to: Sequence[str] = ("Ni", "Co", "Mn")) -> float:
        """σ of ``a_X / Σ_T a_T`` from the share uncertainty alone (``g Σ gᵀ``)."""
        e = self._column(element)
        cols = [self._column(t) for t in dict.fromkeys(to)]
        b = float(self.atom_counts[cols].sum())
        if b <= 0:
            return float("nan")
        r = float(self.atom_counts[e]) / b
        grad = np.zeros(len(self.elements))
        grad[cols] -= r / b
        grad[e] += 1.0 / b
        return float(np.sqrt(max(float(grad @ self.share_covariance @ grad), 0.0)))

    def moved_shares(self) -> dict[str, float]:
        """Shares moved to another composition, keyed ``share_<range centre>da_<species>``
        (spaces as ``_``), with ``..._sigma`` entries: e.g. ``share_16.0da_O2_2+``."""
        out: dict[str, float] = {}
        for k in range(self.range_index.size):
            centre = 0.5 * (self.range_low_da[k] + self.range_high_da[k])
            for s in np.flatnonzero(self.relabelled[k]):
                key = f"share_{centre:.1f}da_{self.species[s].replace(' ', '_')}"
                out[key] = float(self.shares[k, s])
                out[f"{key}_sigma"] = float(self.share_sigmas[k, s])
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One row per (corrected range, species): range, ions, share and σ."""
        out = []
        for k, r in enumerate(self.range_index):
            for s, name in enumerate(self.species):
                if self.shares[k, s] > 0 or self.share_sigmas[k, s] > 0:
                    out.append({"range": int(r), "low_da": float(self.range_low_da[k]),
                                "high_da": float(self.range_high_da[k]),
                                "ions": int(self.range_ions[k]), "species": name,
                                "share": float(self.shares[k, s]),
                                "share_sigma": float(self.share_sigmas[k, s])})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: shares per range, corrected and naive atoms with σ."""
        return {"ranges": self.rows(),
                "atoms": {el: {"corrected": float(self.atom_counts[e]),
                               "sigma": self.atoms(el)[1],
                               "share_sigma": self.share_sigma(el),
                               "naive": int(self.naive_atom_counts[e])}
                          for e, el in enumerate(self.elements)},
                "deconvolution": self.deconvolution.to_dict()}


def _check_background(background: Any) -> None:
    if isinstance(background, str) and background != "estimate":
        raise ParameterError(f"background={background!r}: pass 'estimate', None, a "
                             "Background or a density in counts per Da")


def correct_composition(
    ions_or_mass: IonTable | np.ndarray,
    ranges: RangeTable,
    composition: Composition,
    *,
    species: Sequence[str] | None = None,
    background: Any = "estimate",
    half_width_da: float = 0.12,
    min_abundance: float = 1e-4,
    overlap: str = "error",
) -> tuple[Composition, OverlapCorrection]:
    """Re-attribute the ions of overlapped ranges by isotope-fitted species shares.

    Parameters
    ----------
    ions_or_mass : IonTable or (N,) array
        The ions (or their mass-to-charge ratios in Da) ``composition`` was counted from.
    ranges : RangeTable
        The range table of ``composition``.
    composition : Composition
        Uncorrected composition (:func:`~liprobe.apt.composition.compose` or
        :func:`~liprobe.apt.composition.composition_from_counts`), same ion order.
    species : sequence of str, optional
        Species fitted together (see :func:`~liprobe.apt.overlaps.deconvolve_overlaps`).
        Default: :data:`~liprobe.apt.overlaps.NCM_OVERLAP_SPECIES` members whose
        composition is an ion of ``ranges`` (:func:`overlap_species_for`).
    background : "estimate", Background, float or None
        Background under the isotope windows: ``"estimate"`` fits the constant-TOF
        background (:func:`~liprobe.apt.spectrum.estimate_background`, 0.05 Da bins).
    half_width_da, min_abundance : float
        Isotope windows of the fit; peaks below ``min_abundance`` define no share.
    overlap : {"error", "first", "narrowest"}
        Overlapping-range rule used to count the ions per range.

    Returns
    -------
    composition : Composition
        Same ions as ``composition`` (plus any fitted species' composition that the range
        table lacks, appended), with the overlapped ranges' ions re-attributed (integer
        counts by largest remainder; ranged and total ions unchanged).
    correction : OverlapCorrection
        Shares with σ, corrected atoms as floats with counting and share covariance.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.apt.isotope_patterns import species_pattern
    >>> from liprobe.apt.composition import compose
    >>> from liprobe.data import Ion, RangeTable
    >>> rng = np.random.default_rng(0)
    >>> def draw(name, n):
    ...     mz, p = np.array(species_pattern(name)).T
    ...     return rng.choice(mz, n, p=p / p.sum()) + rng.normal(0, 0.005, n)
    >>> m = np.concatenate([draw("O+", 300_000), draw("O2 2+", 100_000)]).astype(np.float32)
    >>> r = RangeTable((Ion("O", (("O", 1),)), Ion("O2", (("O", 2),))),
    ...                [15.9, 16.4, 16.9, 17.9], [16.1, 16.6, 17.1, 18.1], [0, 1, 0, 0])
    >>> fixed, corr = correct_composition(m, r, compose(m, r), background=None)
    >>> o, sigma = corr.atoms("O")
    >>> bool(abs(o - 500_000) < 3 * sigma), fixed.atoms("O") > compose(m, r).atoms("O")
    (True, True)
    """
    _check_composition(ranges, composition)
    _check_background(background)
    statistics = overlap_statistics(
        ions_or_mass, ranges, species=species, half_width_da=half_width_da,
        min_abundance=min_abundance, overlap=overlap,
        spectrum_bin_da=BACKGROUND_BIN_DA if isinstance(background, str) else None)
    return correct_composition_from_statistics(statistics, ranges, composition,
                                               background=background)


def _check_composition(ranges: RangeTable, composition: Composition) -> None:
    if tuple(composition.ion_names) != tuple(ranges.ion_names):
        raise ParameterError("composition and ranges list different ions; pass the "
                             "composition counted with these ranges")


def correct_composition_from_statistics(
    statistics: OverlapStatistics,
    ranges: RangeTable,
    composition: Composition,
    *,
    background: Any = "estimate",
) -> tuple[Composition, OverlapCorrection]:
    """:func:`correct_composition` from counts summed over the chunks of a file.

    The correction needs the ions only through their isotope-window counts, coarse
    spectrum and range counts, which add over chunks
    (:func:`~liprobe.apt.overlap_statistics.overlap_statistics`); the result from the sum
    of the chunks' statistics equals :func:`correct_composition` on all the ions.

    Parameters
    ----------
    statistics : OverlapStatistics
        Of the ions ``composition`` was counted from (species, window options and the
        overlap rule are taken from it).
    ranges : RangeTable
        The range table the statistics and ``composition`` were counted with.
    composition : Composition
        Uncorrected composition of the same ions, same ion order as ``ranges``.
    background : "estimate", Background, float or None
        As :func:`correct_composition`; ``"estimate"`` needs the statistics' spectrum.

    Returns
    -------
    composition : Composition
    correction : OverlapCorrection
        As :func:`correct_composition`.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.apt.isotope_patterns import species_pattern
    >>> from liprobe.apt.composition import compose
    >>> from liprobe.apt.overlap_statistics import overlap_statistics
    >>> from liprobe.data import Ion, RangeTable
    >>> rng = np.random.default_rng(0)
    >>> def draw(name, n):
    ...     mz, p = np.array(species_pattern(name)).T
    ...     return rng.choice(mz, n, p=p / p.sum()) + rng.normal(0, 0.005, n)
    >>> m = np.concatenate([draw("O+", 30_000), draw("O2 2+", 10_000)]).astype(np.float32)
    >>> r = RangeTable((Ion("O", (("O", 1),)), Ion("O2", (("O", 2),))),
    ...                [15.9, 16.4, 16.9, 17.9], [16.1, 16.6, 17.1, 18.1], [0, 1, 0, 0])
    >>> stats = sum(overlap_statistics(m[i:i + 10_000], r) for i in range(0, m.size, 10_000))
    >>> _, streamed = correct_composition_from_statistics(stats, r, compose(m, r))
    >>> _, whole = correct_composition(m, r, compose(m, r))
    >>> streamed.atoms("O") == whole.atoms("O")
    True
    """
    _check_composition(ranges, composition)
    _check_background(background)
    if not isinstance(statistics, OverlapStatistics):
        raise ParameterError(f"statistics must be OverlapStatistics (from "
                             f"overlap_statistics), got {type(statistics).__name__}")
    statistics.check_ranges(ranges)
    chosen, min_abundance = statistics.species, statistics.min_abundance
    fit = deconvolve_window_counts(
        statistics.window_counts, species=chosen, half_width_da=statistics.half_width_da,
        background=(statistics.estimate_background() if isinstance(background, str)
                    else background), min_abundance=min_abundance)
    abundance = range_abundance(ranges, chosen, min_abundance)
    mixed = np.flatnonzero((abundance > 0).sum(axis=1) >= 2)
    range_ions = statistics.range_counts[mixed]

    # ion compositions: the table's, then fitted compositions it lacks
    ions = list(ranges.ions)
    keys = [_formula_key(ion.atoms) for ion in ions]
    species_ion = []
    for name in chosen:
        atoms = parse_species(name)[0]
        key = _formula_key(atoms)
        if key not in keys:
            ions.append(Ion("".join(s if n == 1 else f"{s}{n}" for s, n in atoms), atoms))
            keys.append(key)
        species_ion.append(keys.index(key))
    extended = RangeTable(tuple(ions), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    elements, matrix = atoms_per_species(extended)
    matrix = matrix.astype(np.float64)
    base = np.zeros(len(ions))
    base[: ranges.n_ions] = composition.ion_counts

    n_sp = len(chosen)
    shares, jac, realised, ok = range_shares(fit.counts, abundance[mixed])
    share_cov = np.einsum("ksu,uv,ktv->kst", jac, fit.covariance, jac) + realised
    share_sigmas = np.sqrt(np.clip(np.einsum("kss->ks", share_cov), 0, None))

    corrected = base.copy()
    to_ion = np.zeros((n_sp, len(ions)))
    to_ion[np.arange(n_sp), species_ion] = 1.0
    atoms_jac = np.zeros((len(elements), n_sp))  # d atoms / d N
    per_species_atoms = to_ion @ matrix  # (n_sp, n_elements)
    # counting: the ions of each range are Poisson (multinomial over ranges for fractions
    # and ratios); a mixed range's ion carries the share-weighted atoms v_k
    unmixed = base.copy()
    counting_cov = np.zeros((len(elements), len(elements)))
    for k, r in enumerate(mixed):
        if not ok[k]:
            continue
        n_r = float(range_ions[k])
        corrected[ranges.ion_index[r]] -= n_r
        unmixed[ranges.ion_index[r]] -= n_r
        corrected += n_r * shares[k] @ to_ion
        atoms_jac += n_r * per_species_atoms.T @ jac[k]
        v = shares[k] @ per_species_atoms
        counting_cov += n_r * np.outer(v, v)
    corrected = np.maximum(corrected, 0.0)
    atoms = corrected @ matrix
    counting_cov += atom_covariance(np.maximum(unmixed, 0.0), matrix)
    counting_var = np.diag(counting_cov).copy()
    share_atom_cov = atoms_jac @ fit.covariance @ atoms_jac.T
    realised_cov = np.zeros_like(share_atom_cov)
    for k in range(mixed.size):
        p = per_species_atoms.T * float(range_ions[k])
        realised_cov += p @ realised[k] @ p.T

    relabelled = np.array([[species_ion[s] != ranges.ion_index[r] and abundance[r, s] > 0
                            for s in range(n_sp)] for r in mixed],
                          dtype=bool).reshape(mixed.size, n_sp)
    integer = largest_remainder(corrected, int(round(corrected.sum())))
    fixed = Composition(ion_names=tuple(ion.name for ion in ions), ion_counts=integer,
                        elements=elements, atom_counts=integer @ matrix.astype(np.int64),
                        n_ions=composition.n_ions, n_ranged=int(integer.sum()),
                        atom_covariance=counting_cov + share_atom_cov)
    naive = np.array([composition.atoms(el) if el in composition.elements else 0
                      for el in elements], dtype=np.int64)
    correction = OverlapCorrection(
        deconvolution=fit, range_index=mixed.astype(np.int64),
        range_low_da=ranges.low_da[mixed].astype(np.float64),
        range_high_da=ranges.high_da[mixed].astype(np.float64),
        range_ions=np.asarray(range_ions, np.int64),
        range_ion_names=tuple(ranges.ion_names[ranges.ion_index[r]] for r in mixed),
        relabelled=relabelled, shares=shares, share_sigmas=share_sigmas,
        elements=elements, atom_counts=atoms, naive_atom_counts=naive,
        counting_variance=counting_var, share_covariance=share_atom_cov,
        counting_covariance=counting_cov, realised_covariance=realised_cov,
    )
    return fixed, correction


def composition_of(
    ions: IonTable, ranges: RangeTable, *, overlap_correction: str = "isotopes",
    overlap: str = "error", species: np.ndarray | None = None, background: Any = "estimate",
) -> tuple[Composition, OverlapCorrection | None]:
    """The composition of a data set as a study computes it (one file, one answer).

    ``overlap_correction="isotopes"`` (default) applies :func:`correct_composition` when
    the range table names a species that can overlap (:func:`overlap_species_for`);
    ``"none"`` returns the ranged counts. The CLI ``composition`` command and a study's
    per-specimen analysis both call this. ``background`` is that of
    :func:`correct_composition` (pass :func:`~liprobe.apt.spectrum.background_of` of the
    ions when another estimate needs it too).

    Returns
    -------
    composition : Composition
    correction : OverlapCorrection or None
        None when no correction was applied.
    """
    from liprobe.apt.composition import composition_from_counts
    from liprobe.apt.ranging import IonCounts, count_ions, species_per_ion

    if overlap_correction not in OVERLAP_CORRECTIONS:
        raise ParameterError(f"overlap_correction={overlap_correction!r}: use one of "
                             f"{', '.join(OVERLAP_CORRECTIONS)}")
    correct = overlap_correction != "none" and bool(overlap_species_for(ranges))
    if species is None and correct:
        # one pass over the ions counts the ranges and what the correction needs
        _check_background(background)
        statistics = overlap_statistics(
            ions, ranges, overlap=overlap,
            spectrum_bin_da=BACKGROUND_BIN_DA if isinstance(background, str) else None)
        counted = IonCounts(ion_names=ranges.ion_names, counts=statistics.ion_counts,
                            range_counts=statistics.range_counts,
                            n_unranged=statistics.n_unranged, n_ions=statistics.n_ions)
        return correct_composition_from_statistics(
            statistics, ranges, composition_from_counts(counted, ranges), background=background)
    if species is None:
        comp = composition_from_counts(count_ions(ions, ranges, overlap=overlap), ranges)
    else:
        from liprobe.apt.species import ions_per_species

        known = species_per_ion(ions, ranges, overlap=overlap, known=species)
        comp = composition_from_counts(ions_per_species(known, ranges.n_ions), ranges,
                                       n_ions=ions.n_ions)
    if not correct:
        return comp, None
    return correct_composition(ions, ranges, comp, overlap=overlap, background=background)

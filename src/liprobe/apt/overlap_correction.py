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

Uncertainty of a corrected atom count ``a_e``: counting (Poisson on the ions, ``Σ_i c_i
m_ie²`` with ``c_i`` ions of composition ``i`` and ``m_ie`` its atoms of ``e``) plus the
share part: ``J Σ_N Jᵀ`` with ``J = ∂a/∂N`` (delta method; ``Σ_N`` the deconvolution's
covariance) and the isotope sampling of the range's own ions (the ions of ``s`` in range
``r`` scatter binomially, ``N_s A_rs (1 - A_rs)``, about their expectation: this dominates
for a rare isotope such as 64Ni, 0.9 % of Ni). Ratios add the share part of
``r = a_e / Σ_T a_T`` the same way.

References
----------
D. J. Larson et al., *Local Electrode Atom Probe Tomography* (Springer, 2013), §6.3 (peak
overlaps, isotopic deconvolution). M. K. Miller, *Atom Probe Tomography* (Kluwer, 2000).
Danoix et al., Ultramicroscopy 107 (2007) 734 (counting-statistics errors).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt._isotopes import parse_species, species_pattern
from liprobe.apt.composition import Composition, atoms_per_ion
from liprobe.apt.overlaps import NCM_OVERLAP_SPECIES, OverlapResult, deconvolve_overlaps
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["OverlapCorrection", "correct_composition", "overlap_species_for"]

#: Bin width (Da) of the spectrum the default background estimate is fitted to.
BACKGROUND_BIN_DA = 0.05
#: Ions histogrammed per pass for the background (bounds the converted copy).
SPECTRUM_CHUNK = 1 << 22


def _formula_key(atoms: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    merged: dict[str, int] = {}
    for symbol, count in atoms:
        merged[symbol] = merged.get(symbol, 0) + int(count)
    return tuple(sorted((s, n) for s, n in merged.items() if n))


def overlap_species_for(ranges: RangeTable,
                        candidates: Sequence[str] = NCM_OVERLAP_SPECIES) -> tuple[str, ...]:
    """The candidate species whose composition is an ion of ``ranges``.

    The default species set of :func:`correct_composition`: a range file that names no
    Li2O ion, for instance, fits no Li2O+ (fitting a species that is absent only adds
    variance).

    Examples
    --------
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("O", (("O", 1),)), Ion("O2", (("O", 2),))), [15.9, 31.9],
    ...                [16.1, 32.1], [0, 1])
    >>> overlap_species_for(r)
    ('O+', 'O2 2+', 'O2+')
    """
    present = {_formula_key(ion.atoms) for ion in ranges.ions}
    return tuple(s for s in candidates if _formula_key(parse_species(s)[0]) in present)


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
        Poisson variance of the corrected atom counts.
    share_covariance : (n_elements, n_elements) float64
        Covariance of the corrected atom counts from the share uncertainty.
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
        var = self.counting_variance[e] + self.share_covariance[e, e]
        return float(self.atom_counts[e]), float(np.sqrt(max(var, 0.0)))

    def share_sigma(self, element: str) -> float:
        """σ of the corrected atoms of ``element`` from the shares alone."""
        e = self._column(element)
        return float(np.sqrt(max(self.share_covariance[e, e], 0.0)))

    def ratio(self, element: str, to: Sequence[str] = ("Ni", "Co", "Mn")) -> tuple[float, float]:
        """``a_X / Σ_T a_T`` of the corrected atoms and σ (Poisson + share covariance).

        Counting part as :meth:`Composition.ratio_sigma` (binomial inside the set,
        ``r²(1/a + 1/b)`` outside), plus ``g Σ gᵀ`` with ``g = ∂r/∂a``.
        """
        e = self._column(element)
        cols = [self._column(t) for t in dict.fromkeys(to)]
        a = float(self.atom_counts[e])
        b = float(self.atom_counts[cols].sum())
        if b <= 0:
            return float("nan"), float("nan")
        r = a / b
        var_count = r * (1 - r) / b if e in cols else (r * r * (1 / a + 1 / b) if a > 0
                                                      else 1 / b**2)
        share = self.ratio_share_sigma(element, to)
        return r, float(np.sqrt(max(var_count, 0.0) + share * share))

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


def _range_abundance(ranges: RangeTable, species: tuple[str, ...],
                     min_abundance: float) -> np.ndarray:
    """(n_ranges, n_species) abundance of each species' peaks inside each range."""
    table = np.zeros((ranges.n_ranges, len(species)))
    for s, name in enumerate(species):
        for mz, ab in species_pattern(name):
            if ab < min_abundance:
                continue
            inside = (ranges.low_da <= mz) & (mz < ranges.high_da)
            table[inside, s] += ab
    return table


def _range_shares(counts: np.ndarray, abundance: np.ndarray):
    """Shares of the species in each range, their Jacobian in the species totals and the
    isotope-sampling covariance; ``ok`` is False for a range with no expected ions.

    ``counts``: (S,) fitted species totals N; ``abundance``: (k, S) A of each range.
    """
    n_sp = counts.size
    expected = counts[None, :] * abundance
    total = expected.sum(axis=1)
    ok = total > 0
    shares = np.where(ok[:, None], expected / np.where(ok, total, 1.0)[:, None], 0.0)
    jac = np.zeros((abundance.shape[0], n_sp, n_sp))
    realised = np.zeros_like(jac)
    for k in np.flatnonzero(ok):
        a_r = abundance[k]
        # d share_s / d N_u = (δ_su A_s - share_s A_u) / D
        jac[k] = (np.diag(a_r) - shares[k][:, None] * a_r[None, :]) / total[k]
        # isotope sampling: the ions of s that fell in the range scatter about N_s A_s by
        # N_s A_s (1 - A_s) (binomial); through share = x / sum(x) that adds G W G^T
        w = np.maximum(counts, 0.0) * a_r * (1.0 - a_r)
        g = (np.eye(n_sp) - shares[k][:, None]) / total[k]
        realised[k] = g @ np.diag(w) @ g.T
    return shares, jac, realised, ok


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Non-negative integers close to ``values`` (>= 0) that sum to ``total``."""
    floor = np.floor(values).astype(np.int64)
    left = int(total - floor.sum())
    if left > 0:
        order = np.argsort(-(values - floor), kind="stable")
        floor[order[:left]] += 1
    return floor


def _resolve_background(mass, background):
    if isinstance(background, str):
        if background != "estimate":
            raise ParameterError(f"background={background!r}: pass 'estimate', None, a "
                                 "Background or a density in counts per Da")
        from liprobe.apt.spectrum import MassSpectrum, estimate_background, mass_spectrum

        # histogram chunk by chunk: a big-endian memmap is converted one chunk at a time
        top = max(float(np.nanmax(mass)) if mass.size else 1.0, 1.0) + BACKGROUND_BIN_DA
        counts = None
        for start in range(0, max(mass.shape[0], 1), SPECTRUM_CHUNK):
            part = mass_spectrum(mass[start:start + SPECTRUM_CHUNK],
                                 bin_width_da=BACKGROUND_BIN_DA, range_da=(0.0, top))
            counts = part.counts if counts is None else counts + part.counts
        return estimate_background(MassSpectrum(part.edges_da, counts, BACKGROUND_BIN_DA))
    return background


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
    >>> from liprobe.apt._isotopes import species_pattern
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
    if tuple(composition.ion_names) != tuple(ranges.ion_names):
        raise ParameterError("composition and ranges list different ions; pass the "
                             "composition counted with these ranges")
    from liprobe.apt.ranging import count_ions

    chosen = overlap_species_for(ranges) if species is None else tuple(species)
    if not chosen:
        raise ParameterError("no species to fit: the range table names none of "
                             f"{', '.join(NCM_OVERLAP_SPECIES)}; pass species=...")
    mass = ions_or_mass.mass_to_charge_da if isinstance(ions_or_mass, IonTable) else (
        np.asarray(ions_or_mass))
    fit = deconvolve_overlaps(mass, species=chosen, half_width_da=half_width_da,
                              background=_resolve_background(mass, background),
                              min_abundance=min_abundance)
    abundance = _range_abundance(ranges, chosen, min_abundance)
    mixed = np.flatnonzero((abundance > 0).sum(axis=1) >= 2)
    range_ions = count_ions(mass, ranges, overlap=overlap).range_counts[mixed]

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
    elements, matrix = atoms_per_ion(extended)
    matrix = matrix.astype(np.float64)
    base = np.zeros(len(ions))
    base[: ranges.n_ions] = composition.ion_counts

    n_sp = len(chosen)
    shares, jac, realised, ok = _range_shares(fit.counts, abundance[mixed])
    share_cov = np.einsum("ksu,uv,ktv->kst", jac, fit.covariance, jac) + realised
    share_sigmas = np.sqrt(np.clip(np.einsum("kss->ks", share_cov), 0, None))

    corrected = base.copy()
    to_ion = np.zeros((n_sp, len(ions)))
    to_ion[np.arange(n_sp), species_ion] = 1.0
    atoms_jac = np.zeros((len(elements), n_sp))  # d atoms / d N
    per_species_atoms = to_ion @ matrix  # (n_sp, n_elements)
    for k, r in enumerate(mixed):
        if not ok[k]:
            continue
        n_r = float(range_ions[k])
        corrected[ranges.ion_index[r]] -= n_r
        corrected += n_r * shares[k] @ to_ion
        atoms_jac += n_r * per_species_atoms.T @ jac[k]
    corrected = np.maximum(corrected, 0.0)
    atoms = corrected @ matrix
    counting_var = corrected @ (matrix * matrix)
    share_atom_cov = atoms_jac @ fit.covariance @ atoms_jac.T
    for k in range(mixed.size):
        p = per_species_atoms.T * float(range_ions[k])
        share_atom_cov += p @ realised[k] @ p.T

    relabelled = np.array([[species_ion[s] != ranges.ion_index[r] and abundance[r, s] > 0
                            for s in range(n_sp)] for r in mixed],
                          dtype=bool).reshape(mixed.size, n_sp)
    integer = _largest_remainder(corrected, int(round(corrected.sum())))
    fixed = Composition(ion_names=tuple(ion.name for ion in ions), ion_counts=integer,
                        elements=elements, atom_counts=integer @ matrix.astype(np.int64),
                        n_ions=composition.n_ions, n_ranged=int(integer.sum()))
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
    )
    return fixed, correction

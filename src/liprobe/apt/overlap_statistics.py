"""What the isotope overlap correction needs from the ions, as counts that add over chunks.

:func:`liprobe.apt.overlap_correction.correct_composition` needs three things from the
ions: the ions in each isotope window of the deconvolution
(:func:`liprobe.apt.overlaps.isotope_windows`), a coarse spectrum (0.05 Da bins) for the
constant-time-of-flight background under those windows, and the ions in each range of the
range file. All three are counts, so they *add* over disjoint sets of ions:
:func:`overlap_statistics` of the chunks of a file summed with ``+`` (or ``sum``) equals
:func:`overlap_statistics` of the whole file, exactly (integer counts; the spectrum's
length follows the largest m/q, the maximum over the chunks). A file larger than memory is
then corrected exactly as it would be in memory
(:func:`~liprobe.apt.overlap_correction.correct_composition_from_statistics`).

References
----------
D. J. Larson et al., *Local Electrode Atom Probe Tomography* (Springer, 2013), §6.3 (peak
overlaps, isotopic deconvolution).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from liprobe.apt.isotope_patterns import parse_species
from liprobe.apt.overlaps import NCM_OVERLAP_SPECIES, isotope_windows
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["OverlapStatistics", "overlap_statistics", "overlap_species_for",
           "BACKGROUND_BIN_DA"]

#: Bin width (Da) of the spectrum the default background estimate is fitted to.
BACKGROUND_BIN_DA = 0.05
#: Ions converted to native float32 per pass (bounds the copy of a big-endian memmap).
SPECTRUM_CHUNK = 1 << 22


def _formula_key(atoms: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    merged: dict[str, int] = {}
    for symbol, count in atoms:
        merged[symbol] = merged.get(symbol, 0) + int(count)
    return tuple(sorted((s, n) for s, n in merged.items() if n))


def overlap_species_for(ranges: RangeTable,
                        candidates: Sequence[str] = NCM_OVERLAP_SPECIES) -> tuple[str, ...]:
    """The candidate species whose composition is an ion of ``ranges``.

    The default species set of :func:`~liprobe.apt.overlap_correction.correct_composition`
    and :func:`overlap_statistics`: a range file that names no Li2O ion, for instance, fits
    no Li2O+ (fitting a species that is absent only adds variance).

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
class OverlapStatistics:
    """Counts of a set of ions that the overlap correction needs; ``a + b`` adds them.

    Attributes
    ----------
    species : tuple of str
        Species of the isotope fit (fix the windows).
    half_width_da, min_abundance : float
        Window options of the fit (:func:`~liprobe.apt.overlaps.isotope_windows`).
    overlap : str
        Overlapping-range rule the range counts were made with.
    window_low_da, window_high_da : (n_windows,) float64
    window_counts : (n_windows,) int64
        Ions in each isotope window (background not removed).
    range_low_da, range_high_da : (n_ranges,) float64
        The range table's ranges (to check that the statistics belong to it).
    range_counts : (n_ranges,) int64
        Ions in each range.
    ion_counts : (n_ion_species,) int64
        Ions per ion species of the range table.
    spectrum_counts : (n_bins,) int64 or None
        Ions per bin ``[k w, (k + 1) w)`` of ``w = spectrum_bin_da``, from 0 Da up to
        ``max(largest m/q, 1 Da) + w``; None when no spectrum was asked for.
    spectrum_bin_da : float or None
    n_ions, n_unranged : int
        All ions counted; those in no range.
    """

    species: tuple[str, ...]
    half_width_da: float
    min_abundance: float
    overlap: str
    window_low_da: np.ndarray
    window_high_da: np.ndarray
    window_counts: np.ndarray
    range_low_da: np.ndarray
    range_high_da: np.ndarray
    range_counts: np.ndarray
    ion_counts: np.ndarray
    spectrum_counts: np.ndarray | None
    spectrum_bin_da: float | None
    n_ions: int
    n_unranged: int

    def _check_compatible(self, other: OverlapStatistics) -> None:
        same = (self.species == other.species and self.half_width_da == other.half_width_da
                and self.min_abundance == other.min_abundance and self.overlap == other.overlap
                and self.spectrum_bin_da == other.spectrum_bin_da
                and np.array_equal(self.range_low_da, other.range_low_da)
                and np.array_equal(self.range_high_da, other.range_high_da)
                and self.ion_counts.shape == other.ion_counts.shape)
        if not same:
            raise ParameterError("cannot add overlap statistics made with different species, "
                                 "window options, spectrum bins or range tables; compute every "
                                 "chunk's statistics with the same arguments")

    def __add__(self, other: OverlapStatistics) -> OverlapStatistics:
        if not isinstance(other, OverlapStatistics):
            return NotImplemented
        self._check_compatible(other)
        spectrum = None
        if self.spectrum_counts is not None and other.spectrum_counts is not None:
            a, b = self.spectrum_counts, other.spectrum_counts
            if a.size < b.size:
                a, b = b, a
            spectrum = a.copy()
            spectrum[: b.size] += b
        return OverlapStatistics(
            species=self.species, half_width_da=self.half_width_da,
            min_abundance=self.min_abundance, overlap=self.overlap,
            window_low_da=self.window_low_da, window_high_da=self.window_high_da,
            window_counts=self.window_counts + other.window_counts,
            range_low_da=self.range_low_da, range_high_da=self.range_high_da,
            range_counts=self.range_counts + other.range_counts,
            ion_counts=self.ion_counts + other.ion_counts, spectrum_counts=spectrum,
            spectrum_bin_da=self.spectrum_bin_da, n_ions=self.n_ions + other.n_ions,
            n_unranged=self.n_unranged + other.n_unranged)

    def __radd__(self, other: object) -> OverlapStatistics:
        if isinstance(other, int) and other == 0:  # sum(statistics) starts from 0
            return self
        return NotImplemented

    def check_ranges(self, ranges: RangeTable) -> None:
        """Raise :class:`~liprobe.errors.ParameterError` unless made with ``ranges``."""
        if not (ranges.n_ranges == self.range_low_da.size
                and np.array_equal(ranges.low_da, self.range_low_da)
                and np.array_equal(ranges.high_da, self.range_high_da)
                and ranges.n_ions == self.ion_counts.size):
            raise ParameterError("these overlap statistics were counted with another range "
                                 "table; pass the ranges given to overlap_statistics()")

    def spectrum(self):
        """The coarse mass spectrum (:class:`~liprobe.apt.spectrum.MassSpectrum`)."""
        from liprobe.apt.spectrum import MassSpectrum

        if self.spectrum_counts is None or self.spectrum_bin_da is None:
            raise ParameterError("these statistics hold no spectrum; compute them with "
                                 "spectrum_bin_da set, or pass a background")
        edges = np.arange(self.spectrum_counts.size + 1) * self.spectrum_bin_da
        return MassSpectrum(edges, self.spectrum_counts, self.spectrum_bin_da)

    def estimate_background(self):
        """Constant-TOF background of :meth:`spectrum`
        (:func:`~liprobe.apt.spectrum.estimate_background`)."""
        from liprobe.apt.spectrum import estimate_background

        return estimate_background(self.spectrum())


def _spectrum_of(m32: np.ndarray, bin_da: float) -> np.ndarray:
    """Histogram of ``[k w, (k+1) w)`` bins up to ``max(max m, 1) + w`` (NaN ignored)."""
    from liprobe.apt.spectrum import mass_spectrum

    top = max(float(np.fmax.reduce(m32, initial=-np.inf)), 1.0) + bin_da
    return mass_spectrum(m32, bin_width_da=bin_da, range_da=(0.0, top)).counts


def overlap_statistics(
    ions_or_mass: IonTable | np.ndarray,
    ranges: RangeTable,
    *,
    species: Sequence[str] | None = None,
    half_width_da: float = 0.12,
    min_abundance: float = 1e-4,
    overlap: str = "error",
    spectrum_bin_da: float | None = BACKGROUND_BIN_DA,
) -> OverlapStatistics:
    """Count what the overlap correction needs from a set of ions (one pass per chunk).

    Parameters
    ----------
    ions_or_mass : IonTable or (N,) array
        The ions, or their mass-to-charge ratios in Da (any float dtype and byte order;
        converted to native float32 in slices of 4 Mi ions, never copied whole).
    ranges : RangeTable
        The range table whose ranges are counted.
    species : sequence of str, optional
        Species of the isotope fit; default :func:`overlap_species_for` ``(ranges)``.
    half_width_da, min_abundance : float
        Window options (:func:`liprobe.apt.overlaps.isotope_windows`).
    overlap : {"error", "first", "narrowest"}
        Overlapping-range rule of the range counts (:func:`liprobe.apt.ranging.count_ions`).
    spectrum_bin_da : float or None
        Bin width of the coarse spectrum for the background estimate; None skips it (a
        background must then be passed to the correction).

    Returns
    -------
    OverlapStatistics
        Add the statistics of the chunks of a file with ``+`` or ``sum``: the sum equals
        the statistics of the whole file.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("O", (("O", 1),)), Ion("O2", (("O", 2),))), [15.9, 31.9],
    ...                [16.1, 32.1], [0, 1])
    >>> m = np.random.default_rng(0).normal(16.0, 0.01, 1000).astype(">f4")
    >>> whole = overlap_statistics(m, r)
    >>> halves = overlap_statistics(m[:400], r) + overlap_statistics(m[400:], r)
    >>> bool(np.array_equal(whole.window_counts, halves.window_counts))
    True
    >>> int(whole.range_counts[0]), whole.n_ions
    (1000, 1000)
    """
    from liprobe.apt.overlaps import _window_counts
    from liprobe.apt.ranging import count_ions

    chosen = overlap_species_for(ranges) if species is None else tuple(species)
    if not chosen:
        raise ParameterError("no species to fit: the range table names none of "
                             f"{', '.join(NCM_OVERLAP_SPECIES)}; pass species=...")
    if spectrum_bin_da is not None and not (np.isfinite(spectrum_bin_da)
                                            and spectrum_bin_da > 0):
        raise ParameterError(f"spectrum_bin_da must be positive or None, got {spectrum_bin_da}")
    _, _, low, high = isotope_windows(chosen, half_width_da=half_width_da,
                                      min_abundance=min_abundance)
    mass = ions_or_mass.mass_to_charge_da if isinstance(ions_or_mass, IonTable) else (
        np.asarray(ions_or_mass))
    if mass.ndim != 1 or mass.dtype.kind not in "fiu":
        raise ParameterError(f"mass-to-charge must be a 1-D numeric array, got shape "
                             f"{mass.shape} dtype {mass.dtype}")
    windows = np.zeros(low.size, np.int64)
    range_counts = np.zeros(ranges.n_ranges, np.int64)
    ion_counts = np.zeros(ranges.n_ions, np.int64)
    spectrum = None
    n_unranged = 0
    native = mass.dtype == np.float32 and mass.dtype.isnative
    buffer = None if native else np.empty(min(SPECTRUM_CHUNK, mass.shape[0]), np.float32)
    # equal slices of at most SPECTRUM_CHUNK ions: a short last slice would fall below the
    # size at which the compiled counting pays (the counts are the same either way)
    n_slices = max(1, -(-mass.shape[0] // SPECTRUM_CHUNK))
    cuts = np.linspace(0, mass.shape[0], n_slices + 1).astype(np.int64)
    for start, stop in zip(cuts[:-1], cuts[1:]):
        part = mass[start:stop]
        if buffer is not None:
            np.copyto(buffer[: part.shape[0]], part, casting="unsafe")  # byte-swap once
            part = buffer[: part.shape[0]]
        windows += _window_counts(part, low, high).astype(np.int64)
        counted = count_ions(part, ranges, overlap=overlap)
        range_counts += counted.range_counts
        ion_counts += counted.counts
        n_unranged += counted.n_unranged
        if spectrum_bin_da is not None:
            counts = _spectrum_of(part, float(spectrum_bin_da))
            if spectrum is None or spectrum.size < counts.size:
                counts, spectrum = (spectrum, counts.astype(np.int64))
            if counts is not None:
                spectrum[: counts.size] += counts
    return OverlapStatistics(
        species=chosen, half_width_da=float(half_width_da),
        min_abundance=float(min_abundance), overlap=overlap, window_low_da=low,
        window_high_da=high, window_counts=windows,
        range_low_da=np.asarray(ranges.low_da, np.float64),
        range_high_da=np.asarray(ranges.high_da, np.float64), range_counts=range_counts,
        ion_counts=ion_counts, spectrum_counts=spectrum,
        spectrum_bin_da=None if spectrum_bin_da is None else float(spectrum_bin_da),
        n_ions=int(mass.shape[0]), n_unranged=n_unranged)

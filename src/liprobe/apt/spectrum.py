"""Mass spectrum: histogram, background, peaks and isotope-pattern ranging for NCM.

The background of a laser-pulsed atom probe is uniform in time of flight between pulses.
Because t ∝ sqrt(m/q), a constant density in t becomes dN/dm ∝ 1/sqrt(m) in mass-to-charge:
:func:`estimate_background` fits that one-parameter model (iteratively σ-clipping the peaks).
Peaks are local maxima standing ``min_significance`` σ above it; :func:`propose_ranges` keeps
the NCM species whose natural isotope pattern explains the detected peaks and returns a
:class:`~liprobe.data.RangeTable`.

References: D. J. Larson et al., *Local Electrode Atom Probe Tomography* (Springer, 2013),
§6.2-6.3 (background in m/q, ranging); isotope abundances from ``periodictable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt._guards import require_finite_masses
from liprobe.apt.isotope_patterns import NCM_SPECIES, parse_species, species_pattern
from liprobe.data import Ion, RangeTable
from liprobe.errors import ParameterError

__all__ = ["MassSpectrum", "Background", "Peak", "mass_spectrum", "estimate_background",
           "background_of", "find_peaks", "propose_ranges", "unranged_peaks"]


@dataclass(frozen=True, eq=False)
class MassSpectrum:
    """Counts per mass-to-charge bin (``edges_da`` has one more entry than ``counts``)."""

    edges_da: np.ndarray
    counts: np.ndarray
    bin_width_da: float

    @property
    def centers_da(self) -> np.ndarray:
        """Bin centres in Da."""
        return 0.5 * (self.edges_da[1:] + self.edges_da[:-1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (centres and counts)."""
        return {"bin_width_da": self.bin_width_da, "centers_da": self.centers_da.tolist(),
                "counts": self.counts.tolist()}


@dataclass(frozen=True)
class Background:
    """Constant-time-of-flight background: counts per Da = ``amplitude / sqrt(m)``."""

    amplitude: float
    amplitude_sigma: float
    n_bins_used: int

    def per_da(self, mass_to_charge_da) -> np.ndarray:
        """Background density (counts per Da) at ``mass_to_charge_da``."""
        m = np.asarray(mass_to_charge_da, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.where(m > 0, self.amplitude / np.sqrt(np.maximum(m, 1e-12)), 0.0)

    def counts_in(self, low_da, high_da) -> np.ndarray:
        """Expected background counts in [low, high): 2 A (sqrt(high) - sqrt(low))."""
        lo = np.sqrt(np.maximum(np.asarray(low_da, np.float64), 0.0))
        hi = np.sqrt(np.maximum(np.asarray(high_da, np.float64), 0.0))
        return 2.0 * self.amplitude * (hi - lo)


@dataclass(frozen=True)
class Peak:
    """A detected peak: position, extent, net counts above background, significance."""

    position_da: float
    low_da: float
    high_da: float
    net_counts: float
    background_counts: float
    significance: float


def mass_spectrum(
    mass_to_charge_da: np.ndarray,
    *,
    bin_width_da: float = 0.01,
    range_da: tuple[float, float] | None = None,
) -> MassSpectrum:
    """Histogram of mass-to-charge ratios in fixed bins.

    Parameters
    ----------
    mass_to_charge_da : (N,) array
    bin_width_da : float
        Bin width in Da (default 0.01).
    range_da : (low, high), optional
        Histogram range; default (0, max m/q).

    Examples
    --------
    >>> s = mass_spectrum(np.array([7.0, 7.001, 16.0], np.float32), bin_width_da=0.5,
    ...                   range_da=(0, 20))
    >>> int(s.counts[14]), int(s.counts.sum())
    (2, 3)
    """
    if not (np.isfinite(bin_width_da) and bin_width_da > 0):
        raise ParameterError(f"bin_width_da must be positive, got {bin_width_da}")
    mass = np.asarray(mass_to_charge_da)
    require_finite_masses(mass, what="mass spectrum")
    if range_da is None:
        high = float(np.nanmax(mass)) + bin_width_da if mass.size else 1.0
        range_da = (0.0, high)
    low, high = float(range_da[0]), float(range_da[1])
    if not high > low:
        raise ParameterError(f"range_da must be (low, high) with high > low, got {range_da}")
    n_bins = int(np.ceil((high - low) / bin_width_da))
    if n_bins > 50_000_000:
        raise ParameterError(f"{n_bins} bins from {low:g} to {high:g} Da is too many; raise "
                             "bin_width_da, give range_da, or remove ions of absurd "
                             "mass-to-charge")
    edges = low + np.arange(n_bins + 1) * bin_width_da
    from liprobe.apt._range_kernels import COMPILED_MIN_IONS

    if mass.shape[0] >= COMPILED_MIN_IONS:
        # one pass over the ions inside [low, edges[-1]) with no mask, no filtered copy; a
        # big-endian (memory-mapped) float32 column is read in place, other dtypes are made
        # float32 block by block
        from liprobe.apt._columns import column_view
        from liprobe.apt.profile_kernels import window_histogram

        counts = np.zeros(n_bins, np.int64)
        low32, high = np.float32(low), float(edges[-1])
        in_place = mass.dtype in (np.dtype("<f4"), np.dtype(">f4"))
        step = mass.shape[0] if in_place else 1 << 22
        for start in range(0, mass.shape[0], max(step, 1)):
            block = mass[start:start + step]
            block = column_view(block) if in_place else block.astype(np.float32)
            window_histogram(block, low32, high, low, float(bin_width_da), counts)
    else:  # below the size that pays for numba's import: the same bins with NumPy
        # the float32 value of every mass, in float64 (exact), worked on in place
        single = mass.dtype.kind == "f" and mass.dtype.itemsize == 4
        x = (mass if single else mass.astype(np.float32)).astype(np.float64)
        keep = x >= float(np.float32(low))
        keep &= x < float(edges[-1])
        if not keep.all():
            x = x[keep]
        x -= low
        x *= 1.0 / float(bin_width_da)
        np.floor(x, out=x)
        np.clip(x, 0, n_bins - 1, out=x)
        counts = np.bincount(x.astype(np.intp), minlength=n_bins).astype(np.int64)
    return MassSpectrum(edges_da=edges, counts=counts, bin_width_da=float(bin_width_da))


def _median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D float array, without the ``numpy.ma`` import (tens of ms at
    start-up) that NumPy's own NaN check makes."""
    n = values.size
    if n == 0 or np.isnan(values).any():
        return float("nan")
    middle = [(n - 1) // 2, n // 2]
    return float(np.mean(np.partition(values, middle)[middle[0]:middle[1] + 1]))


def estimate_background(
    spectrum: MassSpectrum,
    *,
    fit_range_da: tuple[float, float] = (1.0, np.inf),
    clip_sigma: float = 3.0,
    iterations: int = 5,
) -> Background:
    """Fit the constant-time-of-flight background ``counts/Da = A / sqrt(m)``.

    Bins in ``fit_range_da`` are used; bins more than ``clip_sigma`` σ above the current
    model (peaks) are dropped and A re-estimated by maximum likelihood,
    A = Σ n / Σ (w / sqrt(m)), ``iterations`` times.
    """
    centres = spectrum.centers_da
    use = (centres >= fit_range_da[0]) & (centres < fit_range_da[1]) & (centres > 0)
    if not np.any(use):
        raise ParameterError(f"no spectrum bins inside fit_range_da {fit_range_da}")
    counts = spectrum.counts[use].astype(np.float64)
    shape = spectrum.bin_width_da / np.sqrt(centres[use])
    keep = np.ones(counts.shape, bool)
    amplitude = _median(counts / shape)
    for _ in range(int(iterations)):
        model = amplitude * shape
        keep = counts <= model + clip_sigma * np.sqrt(np.maximum(model, 1.0))
        total_shape = float(shape[keep].sum())
        amplitude = float(counts[keep].sum()) / total_shape if total_shape > 0 else 0.0
    sigma = float(np.sqrt(max(counts[keep].sum(), 1.0))) / float(shape[keep].sum())
    return Background(amplitude=amplitude, amplitude_sigma=sigma, n_bins_used=int(keep.sum()))


def background_of(mass_to_charge_da: np.ndarray, *, bin_width_da: float = 0.05) -> Background:
    """The constant-TOF background of a set of ions: :func:`estimate_background` of their
    spectrum in ``bin_width_da`` bins from 0 to the largest m/q (NaN ignored).

    The overlap correction and the window-loss estimate fit this same background; compute
    it once and pass it to both.
    """
    mass = np.asarray(mass_to_charge_da)
    top = max(float(np.fmax.reduce(mass, initial=-np.inf)), 1.0) + bin_width_da
    return estimate_background(mass_spectrum(mass, bin_width_da=bin_width_da,
                                             range_da=(0.0, top)))


def find_peaks(
    spectrum: MassSpectrum,
    background: Background | None = None,
    *,
    min_significance: float = 5.0,
    min_net_counts: float = 10.0,
    min_separation_da: float = 0.2,
) -> tuple[Peak, ...]:
    """Peaks standing above the background.

    A peak is a local maximum whose bin exceeds the background by ``min_significance``
    σ (Poisson). Its extent walks outward to where the counts fall to the background
    (+1 σ) or rise again; the net counts over the extent and significance
    net / sqrt(net + background) are reported.
    """
    from scipy import signal

    if background is None:
        background = estimate_background(spectrum)
    counts = spectrum.counts.astype(np.float64)
    bg_bins = background.counts_in(spectrum.edges_da[:-1], spectrum.edges_da[1:])
    distance = max(1, int(round(min_separation_da / spectrum.bin_width_da)))
    excess = counts - bg_bins - min_significance * np.sqrt(np.maximum(bg_bins, 1.0))
    idx, _ = signal.find_peaks(counts, distance=distance)
    idx = idx[excess[idx] > 0]
    level = bg_bins + np.sqrt(np.maximum(bg_bins, 1.0))
    peaks = []
    n = counts.size
    for i in idx:
        lo = i
        while lo > 0 and counts[lo - 1] > level[lo - 1] and counts[lo - 1] <= counts[lo]:
            lo -= 1
        hi = i
        while hi < n - 1 and counts[hi + 1] > level[hi + 1] and counts[hi + 1] <= counts[hi]:
            hi += 1
        total = float(counts[lo:hi + 1].sum())
        bg = float(bg_bins[lo:hi + 1].sum())
        net = total - bg
        if net < min_net_counts:
            continue
        peaks.append(Peak(
            position_da=float(spectrum.centers_da[i]), low_da=float(spectrum.edges_da[lo]),
            high_da=float(spectrum.edges_da[hi + 1]), net_counts=net, background_counts=bg,
            significance=net / np.sqrt(max(total, 1.0)),
        ))
    return tuple(peaks)


def _ion_name(atoms) -> str:
    return "".join(s if n == 1 else f"{s}{n}" for s, n in atoms)


def propose_ranges(
    peaks: Sequence[Peak],
    *,
    species: Sequence[str] | None = None,
    tolerance_da: float = 0.06,
    min_detectable: float = 10.0,
) -> RangeTable:
    """Ranges for the NCM species whose isotope pattern matches the detected peaks.

    A candidate species is accepted when its most abundant isotope peak is detected and
    every other isotope peak it predicts with more than ``min_detectable`` net counts
    (scaled from the main peak by the natural abundances) is detected too. Each matched
    peak is then ranged (its detected extent) as the accepted species predicted to give it
    the most counts. Ions are named by formula (``"Ni"`` for Ni+ and Ni2+, ``"O2"``).
    Bounds are the peak extents rounded to 1e-6 Da (bin edges without float noise).

    Parameters
    ----------
    peaks : sequence of Peak
        From :func:`find_peaks`.
    species : sequence of str, optional
        Candidate species names (default the NCM species,
        :data:`liprobe.apt.isotope_patterns.NCM_SPECIES`; for another material build them with
        :func:`liprobe.apt.isotope_patterns.species_for_elements`). Only candidates are ever
        assigned: a peak no candidate explains stays unranged (see :func:`unranged_peaks`).
    tolerance_da : float
        Largest distance between a predicted and a detected peak position.

    Raises
    ------
    ParameterError
        No peaks, or no candidate explains any peak (the message names the strongest peaks).
    """
    if not peaks:
        raise ParameterError("no peaks to range: lower min_significance or check the data")
    candidates = tuple(NCM_SPECIES) if species is None else tuple(species)
    positions = np.array([p.position_da for p in peaks])
    net = np.array([p.net_counts for p in peaks])

    def nearest(mz: float) -> int:
        j = int(np.argmin(np.abs(positions - mz)))
        return j if abs(positions[j] - mz) <= tolerance_da else -1

    accepted: list[tuple[str, float, list[tuple[int, float]]]] = []
    for name in candidates:
        pattern = species_pattern(name)
        main_mz, main_ab = max(pattern, key=lambda t: t[1])
        j_main = nearest(main_mz)
        if j_main < 0:
            continue
        scale = net[j_main] / main_ab
        matched, ok = [], True
        for mz, ab in pattern:
            j = nearest(mz)
            if j < 0:
                if scale * ab > min_detectable:
                    ok = False
                    break
                continue
            matched.append((j, scale * ab))
        if ok:
            accepted.append((name, scale, matched))
    if not accepted:
        strongest = sorted(peaks, key=lambda p: -p.net_counts)[:3]
        raise ParameterError(
            f"none of the {len(candidates)} candidate species explains the detected peaks "
            f"(strongest at {', '.join(f'{p.position_da:.2f}' for p in strongest)} Da); "
            "give the elements of the material (--species Si,O,... or --species all)")
    best: dict[int, tuple[float, str]] = {}
    for name, _, matched in accepted:
        for j, predicted in matched:
            if j not in best or predicted > best[j][0]:
                best[j] = (predicted, name)
    ions: list[Ion] = []
    names: dict[str, int] = {}
    low, high, index = [], [], []
    for j in sorted(best):
        atoms = parse_species(best[j][1])[0]
        ion_name = _ion_name(atoms)
        if ion_name not in names:
            names[ion_name] = len(ions)
            ions.append(Ion(ion_name, tuple(atoms)))
        low.append(round(peaks[j].low_da, 6))  # bin edges k * width: drop the float noise
        high.append(round(peaks[j].high_da, 6))
        index.append(names[ion_name])
    return RangeTable(tuple(ions), np.array(low), np.array(high), np.array(index))


def unranged_peaks(peaks: Sequence[Peak], ranges: RangeTable, *,
                   min_fraction_of_strongest: float = 0.0) -> tuple[Peak, ...]:
    """The peaks whose position lies in no range (``low_da <= m < high_da``).

    ``min_fraction_of_strongest`` keeps only those with at least that fraction of the net
    counts of the strongest peak (e.g. 0.01: the peaks a ranging must not miss).
    """
    if not peaks:
        return ()
    strongest = max(p.net_counts for p in peaks)
    low, high = np.asarray(ranges.low_da), np.asarray(ranges.high_da)
    return tuple(p for p in peaks
                 if not np.any((low <= p.position_da) & (p.position_da < high))
                 and p.net_counts >= min_fraction_of_strongest * strongest)

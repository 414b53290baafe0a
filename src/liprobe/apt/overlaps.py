"""Peak-overlap deconvolution from natural isotope abundances.

Several NCM species share mass-to-charge peaks: O+ and O2 2+ at 16 Da (and 17 Da),
O2+ and 64Ni2+ at 32 Da, Li2O+ and 60Ni2+ near 30 Da (and 58Ni2+ with 6Li7LiO+ near
29 Da). Naive ranging gives each peak to one ion and biases the O and Ni counts. Here
every isotope peak of every listed species gets a window; the window counts ``n_j`` are
modelled as ``n_j = sum_s A_js N_s + b_j`` with ``A_js`` the natural abundance of species
``s`` at peak ``j`` (``periodictable``) and ``b_j`` an optional background, and the
species totals ``N_s`` (ions of all isotopes) are solved by weighted least squares with
Poisson variances (iteratively reweighted with the fitted model). Their covariance
``(A^T W A)^-1`` gives σ of each species and of atom counts derived from them.

Reference: D. J. Larson et al., *Local Electrode Atom Probe Tomography* (Springer, 2013),
§6.3 (peak overlaps and isotopic deconvolution); M. K. Miller, *Atom Probe Tomography*
(Kluwer, 2000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt.isotope_patterns import parse_species, species_pattern
from liprobe.errors import ParameterError

__all__ = ["OverlapResult", "deconvolve_overlaps", "deconvolve_window_counts",
           "isotope_windows", "NCM_OVERLAP_SPECIES"]

#: Species to fit together for the overlaps that bias NCM compositions.
NCM_OVERLAP_SPECIES: tuple[str, ...] = (
    "Li+", "O+", "O2 2+", "O2+", "Ni2+", "Ni+", "Li2O+", "LiO+", "Co2+", "Mn2+",
)


@dataclass(frozen=True, eq=False)
class OverlapResult:
    """Deconvolved ion counts per species with their covariance.

    Attributes
    ----------
    species : tuple of str
    counts, sigmas : (n_species,) float64
        Ions of each species over all its isotopes, and σ.
    covariance : (n_species, n_species) float64
    naive_counts : (n_species,) float64
        What naive ranging gives: each peak window counted wholly for the first listed
        species that has a peak there.
    peaks_da, observed, fitted : (n_peaks,) float64
        Window centres, counts in the windows (background removed) and the model.
    chi2 : float
        Σ (observed - fitted)^2 / variance; ``dof`` = peaks - species.
    """

    species: tuple[str, ...]
    counts: np.ndarray
    sigmas: np.ndarray
    covariance: np.ndarray
    naive_counts: np.ndarray
    peaks_da: np.ndarray
    observed: np.ndarray
    fitted: np.ndarray
    chi2: float
    dof: int

    def atoms(self, element: str) -> tuple[float, float]:
        """Atoms of ``element`` in the fitted species, with σ (correlations included)."""
        weights = np.array([dict(parse_species(s)[0]).get(element, 0) for s in self.species],
                           dtype=np.float64)
        return float(weights @ self.counts), float(np.sqrt(weights @ self.covariance @ weights))

    def naive_atoms(self, element: str) -> float:
        """Atoms of ``element`` from :attr:`naive_counts`."""
        weights = np.array([dict(parse_species(s)[0]).get(element, 0) for s in self.species])
        return float(weights @ self.naive_counts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the species counts."""
        return {"species": {s: {"count": float(c), "sigma": float(e), "naive": float(n)}
                            for s, c, e, n in zip(self.species, self.counts, self.sigmas,
                                                  self.naive_counts)},
                "chi2": self.chi2, "dof": self.dof}


def _peak_table(species: Sequence[str], merge_da: float):
    rows = []  # (mz, species index, abundance)
    for s, name in enumerate(species):
        for mz, ab in species_pattern(name):
            rows.append((mz, s, ab))
    rows.sort()
    centres: list[list[float]] = []
    members: list[list[tuple[int, float]]] = []
    for mz, s, ab in rows:
        if centres and mz - centres[-1][0] / centres[-1][1] < merge_da:
            centres[-1][0] += mz * ab
            centres[-1][1] += ab
            members[-1].append((s, ab))
        else:
            centres.append([mz * ab, ab])
            members.append([(s, ab)])
    peaks = np.array([c / w for c, w in centres])
    design = np.zeros((peaks.size, len(species)))
    for j, mem in enumerate(members):
        for s, ab in mem:
            design[j, s] += ab
    return peaks, design


def _window_counts(mass_to_charge_da, low_da: np.ndarray, high_da: np.ndarray) -> np.ndarray:
    """Ions in each disjoint window ``low <= m < high`` (one fused pass, any byte order)."""
    from liprobe.apt.ranging import count_ions
    from liprobe.data import Ion, RangeTable

    windows = RangeTable((Ion("window", ()),), low_da, high_da, np.zeros(low_da.size, np.int64))
    return count_ions(mass_to_charge_da, windows).range_counts.astype(np.float64)


def isotope_windows(species: Sequence[str], *, half_width_da: float = 0.12,
                    min_abundance: float = 1e-4):
    """The isotope windows of a deconvolution: peak centres, design matrix and edges.

    Every isotope peak of every species gets a window of ``± half_width_da``; peaks closer
    than ``half_width_da`` are merged, windows of neighbours closer than two half-widths
    are shrunk to meet half-way (they never overlap), and peaks whose largest abundance is
    below ``min_abundance`` get none.

    Parameters
    ----------
    species : sequence of str
        Species fitted together (see :func:`deconvolve_overlaps`).
    half_width_da, min_abundance : float
        As :func:`deconvolve_overlaps`.

    Returns
    -------
    peaks_da : (n_peaks,) float64
        Window centres (abundance-weighted mean of the merged peaks).
    design : (n_peaks, n_species) float64
        Natural abundance of each species' peaks inside each window.
    low_da, high_da : (n_peaks,) float64
        Window edges, ``low <= m < high``.

    Examples
    --------
    >>> peaks, design, low, high = isotope_windows(("O+", "O2 2+"))
    >>> [round(float(p), 2) for p in peaks[:3]]
    [15.99, 16.5, 17.0]
    """
    if not species:
        raise ParameterError("species must list at least one ion species")
    if not (0 < half_width_da < 0.25):
        raise ParameterError(f"half_width_da must be in (0, 0.25) Da, got {half_width_da}")
    peaks, design = _peak_table(tuple(species), merge_da=half_width_da)
    keep = design.max(axis=1) >= min_abundance
    peaks, design = peaks[keep], design[keep]
    # windows must not overlap: shrink where neighbours are closer than 2 half-widths
    lo = peaks - half_width_da
    hi = peaks + half_width_da
    mid = 0.5 * (peaks[1:] + peaks[:-1])
    lo[1:] = np.maximum(lo[1:], mid)
    hi[:-1] = np.minimum(hi[:-1], mid)
    return peaks, design, lo, hi


def deconvolve_overlaps(
    mass_to_charge_da: np.ndarray,
    *,
    species: Sequence[str] = NCM_OVERLAP_SPECIES,
    half_width_da: float = 0.12,
    background=None,
    min_abundance: float = 1e-4,
    iterations: int = 3,
) -> OverlapResult:
    """Counts of overlapping species from their isotope patterns, with σ.

    Parameters
    ----------
    mass_to_charge_da : (N,) array or IonTable
        Mass-to-charge ratios in Da (any float dtype and byte order; counted in one
        pass without copies).
    species : sequence of str
        Species fitted together (names as :data:`NCM_OVERLAP_SPECIES`, or
        ``"<formula>+"``/``"<formula> <z>+"``); include every species with a peak in the
        windows, or its ions are attributed to the others.
    half_width_da : float
        Half-width of each peak window (below half the 0.5 Da spacing of 2+ peaks).
    background : Background or float, optional
        The background under the windows: a :class:`liprobe.apt.spectrum.Background`
        (from :func:`~liprobe.apt.spectrum.estimate_background`) or a constant density in
        counts per Da. Subtracted from the window counts; its Poisson noise is kept.
    min_abundance : float
        Isotope peaks below this abundance get no window.
    iterations : int
        Reweighting passes (variance from the fitted model).

    Returns
    -------
    OverlapResult

    See Also
    --------
    deconvolve_window_counts : the same fit from window counts (summed over chunks of a
        file larger than memory).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> from liprobe.apt.isotope_patterns import species_pattern
    >>> def draw(name, n):
    ...     mz, p = np.array(species_pattern(name)).T
    ...     return rng.choice(mz, n, p=p / p.sum()) + rng.normal(0, 0.01, n)
    >>> m = np.concatenate([draw("O2+", 50_000), draw("Ni2+", 200_000)])
    >>> res = deconvolve_overlaps(m, species=("O2+", "Ni2+"))
    >>> bool(abs(res.counts[0] - 50_000) < 3 * res.sigmas[0])
    True
    """
    _, _, lo, hi = isotope_windows(species, half_width_da=half_width_da,
                                   min_abundance=min_abundance)
    return deconvolve_window_counts(_window_counts(mass_to_charge_da, lo, hi),
                                    species=species, half_width_da=half_width_da,
                                    background=background, min_abundance=min_abundance,
                                    iterations=iterations)


def deconvolve_window_counts(
    window_counts: np.ndarray,
    *,
    species: Sequence[str] = NCM_OVERLAP_SPECIES,
    half_width_da: float = 0.12,
    background=None,
    min_abundance: float = 1e-4,
    iterations: int = 3,
) -> OverlapResult:
    """The isotope fit of :func:`deconvolve_overlaps` from the ions counted in its windows.

    Window counts add over disjoint sets of ions, so the ions of a file too large for
    memory can be counted chunk by chunk (:func:`liprobe.apt.overlap_statistics.
    overlap_statistics`) and fitted once: the result equals :func:`deconvolve_overlaps`
    on the whole file.

    Parameters
    ----------
    window_counts : (n_peaks,) array of int or float
        Ions in each window of :func:`isotope_windows` (same ``species``,
        ``half_width_da`` and ``min_abundance``), background not removed.
    species, half_width_da, background, min_abundance, iterations
        As :func:`deconvolve_overlaps`.

    Returns
    -------
    OverlapResult

    Examples
    --------
    >>> import numpy as np
    >>> peaks, design, low, high = isotope_windows(("O+", "O2 2+"))
    >>> truth = np.array([3e6, 1e6])  # O+ and O2 2+ ions, all isotopes
    >>> res = deconvolve_window_counts(np.round(design @ truth), species=("O+", "O2 2+"))
    >>> [round(float(c), -3) for c in res.counts]
    [3000000.0, 1000000.0]
    """
    species = tuple(species)
    peaks, design, lo, hi = isotope_windows(species, half_width_da=half_width_da,
                                            min_abundance=min_abundance)
    observed_raw = np.asarray(window_counts, dtype=np.float64)
    if observed_raw.shape != peaks.shape:
        raise ParameterError(f"window_counts has shape {observed_raw.shape}, but these species "
                             f"have {peaks.size} isotope windows; count the ions in the "
                             "windows of isotope_windows() with the same options")
    if not np.all(np.isfinite(observed_raw) & (observed_raw >= 0)):
        raise ParameterError("window_counts must be finite ion counts >= 0")
    if background is None:
        bg = np.zeros(peaks.size)
    elif hasattr(background, "counts_in"):
        bg = np.asarray(background.counts_in(lo, hi), dtype=np.float64)
    else:
        density = float(background)
        if not (np.isfinite(density) and density >= 0):
            raise ParameterError(f"background must be a Background or counts per Da >= 0, "
                                 f"got {background!r}")
        bg = np.full(peaks.size, density) * (hi - lo)
    observed = observed_raw - bg
    variance = np.maximum(observed_raw, 1.0)
    for _ in range(max(1, int(iterations))):
        weighted = design / variance[:, None]
        normal = design.T @ weighted
        try:
            cov = np.linalg.inv(normal)
        except np.linalg.LinAlgError as exc:
            raise ParameterError(
                "the species' isotope patterns cannot be told apart (singular system); "
                "drop one of the species that share every peak"
            ) from exc
        counts = cov @ (weighted.T @ observed)
        fitted = design @ counts
        variance = np.maximum(fitted + bg, 1.0)
    resid = observed - fitted
    chi2 = float(np.sum(resid * resid / variance))
    # the covariance at low counts: the Poisson variance of a window is read at its
    # fitted value, which is low exactly when the count came out low, so a species read
    # from a few ions (O2 2+ from its 0.5 % isotopologues) gets an interval that is too
    # short when it errs low. One ion added to every window's variance (the score
    # interval's upper half-width for a Poisson count n is about sqrt(n + 1); Mighell,
    # ApJ 518 (1999) 380 weights low counts by n + 1) restores the coverage and leaves
    # windows of hundreds of ions as they were.
    weighted = design / (variance + 1.0)[:, None]
    cov = np.linalg.inv(design.T @ weighted)
    naive = np.zeros(len(species))
    for j in range(peaks.size):
        first = int(np.flatnonzero(design[j] > 0)[0])
        naive[first] += observed[j]
    return OverlapResult(
        species=species, counts=counts, sigmas=np.sqrt(np.diag(cov)), covariance=cov,
        naive_counts=naive, peaks_da=peaks, observed=observed, fitted=fitted, chi2=chi2,
        dof=int(peaks.size - len(species)),
    )

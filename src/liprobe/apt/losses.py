"""Systematic losses beside the counting σ: detector dead time and range-window tails.

Range-window (thermal-tail) loss
--------------------------------
Laser-heated ions leave late: a peak has an exponential tail towards high m/q, and the
part of it beyond a range's upper edge is not counted. :func:`estimate_window_loss` fits,
per range, the tail inside the window's upper part (from ``core_sigmas`` core widths above
the peak, where the Gaussian core no longer contributes, to the edge) as an exponential
``exp(-(m - m0) / λ)`` (maximum likelihood of a truncated exponential, the expected
constant-TOF background removed), and extrapolates it past the edge: with ``n`` tail ions
in a fit region of length ``L``, ``lost = n / (e^{L/λ} - 1)``, σ by the delta method. The
core's loss below the lower edge is the Gaussian tail of the measured core width.
Neighbouring peaks beyond the edge do not enter (only ions inside the window are fitted).
A tail heavier than exponential (a spread of voltages) is under-estimated: the
figure is a lower bound of the loss, reported beside the counting σ.

Dead time
---------
Detector dead time loses the later of two ions of one pulse that arrive at (nearly) the
same time of flight and close together on the detector: two ions of the *same isotope
peak*. Single-hit pulses lose nothing, so their composition is the reference; in pulses
of ``g`` ions, random pairing predicts ``C(g, 2) q_r²`` same-range pairs for a range
holding a fraction ``q_r`` of the single hits. Each missing pair is (to first order) one
lost ion::

    L_r = Σ_pulses C(g_p, 2) q_r²  -  O_r         (O_r: same-range pairs observed)

with ``g_p`` the true multiplicity: each lost ion raised its pulse's pairs by the pulse's
observed multiplicity ``G - 1``, so the lost ions add about ``L (Ḡ - 1)`` pairs (``Ḡ`` the
pair-weighted mean multiplicity), solved by iteration; three ions of one isotope make three
pairs but lose two (``E[(k-1)+] = C(G,2) q² - C(G,3) q³ + ...``), and a pulse of two that
lost one reads as a single hit (removed from the reference). σ of
``L_r`` counts the Poisson scatter of the pairs and the sampling of ``q_r`` from the
single hits. The estimate assumes that multi-hit partners are drawn from the same
composition as single hits (true for a homogeneous region; correlated evaporation of
molecular fragments breaks it). :meth:`DeadTimeLoss.correct` adds the lost ions back to a
:class:`~liprobe.apt.composition.Composition`, with their variance in its covariance;
:meth:`DeadTimeLoss.element_loss` reports the loss beside the counting σ.

Reference: B. Gault et al., *Atom Probe Microscopy* (Springer, 2012), §5.6; F. Meisenkothen
et al., Ultramicroscopy 159 (2015) 101 (same-isotope multi-hit losses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt.composition import Composition
from liprobe.apt.species import atoms_per_species, species_per_ion
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["DeadTimeLoss", "estimate_dead_time_loss", "WindowLoss", "estimate_window_loss",
           "add_lost_ions"]


@dataclass(frozen=True, eq=False)
class DeadTimeLoss:
    """Ions lost to detector dead time per range, and per element.

    Attributes
    ----------
    range_ion_names : tuple of str
        Ion species each range is labelled with.
    lost_ions, lost_sigma : (n_ranges,) float64
        Estimated lost ions per range and σ.
    expected_pairs, observed_pairs : (n_ranges,) float64
        Same-range pairs within one pulse: random-pairing expectation and observed.
    elements : tuple of str
    lost_atoms : (n_elements,) float64
        Lost atoms per element (lost ions decomposed).
    lost_covariance : (n_elements, n_elements) float64
        Covariance of ``lost_atoms``.
    n_single_hits, n_multi_hit_pulses : int
    """

    range_ion_names: tuple[str, ...]
    lost_ions: np.ndarray
    lost_sigma: np.ndarray
    expected_pairs: np.ndarray
    observed_pairs: np.ndarray
    elements: tuple[str, ...]
    lost_atoms: np.ndarray
    lost_covariance: np.ndarray
    lost_ions_per_species: np.ndarray
    n_single_hits: int
    n_multi_hit_pulses: int

    def element_loss(self, composition: Composition) -> dict[str, tuple[float, float]]:
        """``{element: (lost fraction of its atoms, σ)}`` relative to ``composition``."""
        out = {}
        for e, el in enumerate(self.elements):
            measured = composition.atoms(el) if el in composition.elements else 0
            total = measured + self.lost_atoms[e]
            sigma = float(np.sqrt(max(self.lost_covariance[e, e], 0.0)))
            out[el] = ((float(self.lost_atoms[e] / total), sigma / total) if total > 0
                       else (float("nan"), float("nan")))
        return out

    def correct(self, composition: Composition) -> Composition:
        """``composition`` with the lost ions added back (covariance included).

        The lost ions are added to the species of their range (rounded to integers for
        the counts; the covariance carries their uncertainty).
        """
        if tuple(composition.elements) != self.elements[: len(composition.elements)] or (
                len(composition.ion_counts) < self.lost_ions_per_species.size):
            raise ParameterError("the composition was not counted with the range table of "
                                 "this dead-time estimate; pass the composition of the same "
                                 "ranges")
        added = np.zeros(len(composition.ion_counts))
        added[: self.lost_ions_per_species.size] = np.maximum(self.lost_ions_per_species, 0)
        counts = composition.ion_counts + np.rint(added).astype(np.int64)
        atoms = composition.atom_counts + np.rint(self.lost_atoms).astype(np.int64)
        e = len(composition.elements)
        cov = composition.covariance + self.lost_covariance[:e, :e]
        return Composition(composition.ion_names, counts, composition.elements, atoms,
                           composition.n_ions + int(np.rint(added.sum())),
                           composition.n_ranged + int(np.rint(added.sum())),
                           atom_covariance=cov)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary per element."""
        return {"lost_atoms": {el: float(v) for el, v in zip(self.elements, self.lost_atoms)},
                "lost_atoms_sigma": {el: float(np.sqrt(max(self.lost_covariance[e, e], 0)))
                                     for e, el in enumerate(self.elements)},
                "n_single_hits": self.n_single_hits,
                "n_multi_hit_pulses": self.n_multi_hit_pulses}


def estimate_dead_time_loss(ions: IonTable, ranges: RangeTable, *,
                            species: np.ndarray | None = None, overlap: str = "error"
                            ) -> DeadTimeLoss:
    """Estimate the ions lost to dead time from the multi-hit statistics (module docstring).

    Parameters
    ----------
    ions : IonTable
        Needs the ``ions_per_pulse`` field (EPOS or APT files): the first ion of a pulse
        holds the pulse's multiplicity, the others 0.
    ranges : RangeTable
    species : (N,) int array, optional
        Species per ion (:func:`liprobe.apt.ranging.species_per_ion`), to skip ranging.

    Returns
    -------
    DeadTimeLoss
    """
    if "ions_per_pulse" not in ions.fields:
        raise ParameterError("dead-time loss needs the ions_per_pulse field; read an EPOS or "
                             "APT file")
    species = species_per_ion(ions, ranges, overlap=overlap, known=species)
    range_of = _range_index(ions.mass_to_charge_da, ranges, species)
    ipp = np.asarray(ions.fields["ions_per_pulse"])
    n = ipp.shape[0]
    group = np.cumsum(ipp > 0) - 1
    valid = group >= 0
    n_groups = int(group[-1]) + 1 if n and group[-1] >= 0 else 0
    size = np.bincount(group[valid], minlength=n_groups).astype(np.float64)
    single = valid & (size[np.maximum(group, 0)] == 1)
    n_single = int(single.sum())
    n_r = ranges.n_ranges
    if n_single == 0:
        raise ParameterError("no single-hit pulses: the reference composition is missing")
    q = np.bincount(range_of[single & (range_of >= 0)], minlength=n_r) / n_single
    multi = valid & (size[np.maximum(group, 0)] >= 2)
    # same-range pairs observed within each pulse
    key = group[multi & (range_of >= 0)] * n_r + range_of[multi & (range_of >= 0)]
    per = np.bincount(key, minlength=n_groups * n_r) if key.size else np.zeros(0)
    k = per.reshape(-1, n_r) if per.size else np.zeros((n_groups, n_r))
    observed = (k * (k - 1) / 2).sum(axis=0)
    g = size[size >= 2]
    observed_pairs = float(np.sum(g * (g - 1) / 2))
    # each lost ion raised its pulse's pairs by the pulse's observed multiplicity, G - 1
    # (G true); pulses lose ions in proportion to their pairs, so the lost ions add about
    # L (Ḡ - 1) pairs, Ḡ the pair-weighted mean multiplicity; iterated
    g_pairs = (float(np.sum(g * g * (g - 1) / 2)) / observed_pairs - 1.0
               if observed_pairs else 0.0)
    # a pulse of two that lost one ion reads as a single hit: the singles hold about
    # f1 L_r survivors of lossy pairs (f1 the pairs' share in pulses of two), removed
    singles_r = q * n_single
    f1 = float(np.sum(g == 2)) / observed_pairs if observed_pairs else 0.0
    triple_ratio = (float(np.sum(g * (g - 1) * (g - 2) / 6)) / observed_pairs
                    if observed_pairs else 0.0)
    lost = np.zeros(n_r)
    for _ in range(20):
        survivors = f1 * np.maximum(lost, 0.0)
        q = np.maximum(singles_r - survivors, 0.0) / max(n_single - survivors.sum(), 1.0)
        pairs = observed_pairs + max(float(lost.sum()), 0.0) * g_pairs
        expected = pairs * q * q
        # three ions of one isotope make three pairs but lose two:
        # E[(k - 1)+] = C(G,2) q² - C(G,3) q³ + ... for k ~ Binomial(G, q)
        triples = 1.0 - q * triple_ratio
        previous, lost = lost, (expected - observed) * triples
        if np.allclose(lost, previous, atol=1e-6):
            break
    var_q = q * (1 - q) / n_single
    lost_var = expected + observed + (2 * pairs * q) ** 2 * var_q
    elements, atoms = atoms_per_species(ranges)
    per_ion_atoms = atoms[ranges.ion_index].astype(np.float64)  # (n_ranges, n_elements)
    lost_atoms = lost @ per_ion_atoms
    cov = np.einsum("r,re,rf->ef", lost_var, per_ion_atoms, per_ion_atoms)
    per_species = np.bincount(ranges.ion_index, weights=lost, minlength=ranges.n_ions)
    return DeadTimeLoss(
        range_ion_names=tuple(ranges.ion_names[i] for i in ranges.ion_index),
        lost_ions=lost, lost_sigma=np.sqrt(lost_var), expected_pairs=expected,
        observed_pairs=observed, elements=tuple(elements), lost_atoms=lost_atoms,
        lost_covariance=cov, lost_ions_per_species=per_species, n_single_hits=n_single,
        n_multi_hit_pulses=int(g.size))


def _range_index(mass: np.ndarray, ranges: RangeTable, species: np.ndarray) -> np.ndarray:
    """Range of each ion (-1 unranged): the range of its species that holds its m/q."""
    m = np.asarray(mass, dtype=np.float64)
    out = np.full(m.shape[0], -1, dtype=np.int64)
    for r in range(ranges.n_ranges):
        inside = (species == ranges.ion_index[r]) & (m >= ranges.low_da[r]) & (
            m < ranges.high_da[r])
        out[inside] = r
    return out


def add_lost_ions(composition: Composition, lost_per_species: np.ndarray,
                  lost_covariance: np.ndarray) -> Composition:
    """``composition`` with estimated lost ions added to their species (covariance added).

    ``lost_per_species``: (n_species of the range table,) ions; ``lost_covariance``: covariance
    of the lost atoms (elements of the range table, the composition's first elements).
    """
    n_sp = lost_per_species.size
    e = len(composition.elements)
    if len(composition.ion_counts) < n_sp or lost_covariance.shape[0] > e:
        raise ParameterError("the composition was not counted with the range table of this "
                             "loss estimate; pass the composition of the same ranges")
    from liprobe.apt.composition import atoms_per_species  # noqa: F401  (documentation link)

    added = np.zeros(len(composition.ion_counts))
    added[:n_sp] = np.maximum(lost_per_species, 0.0)
    integer = np.rint(added).astype(np.int64)
    # atoms of the added ions: the composition's atoms per ion, from its counts
    per_ion = _atoms_of(composition)
    cov = composition.covariance.copy()
    k = lost_covariance.shape[0]
    cov[:k, :k] += lost_covariance
    return Composition(composition.ion_names, composition.ion_counts + integer,
                       composition.elements, composition.atom_counts + integer @ per_ion,
                       composition.n_ions + int(integer.sum()),
                       composition.n_ranged + int(integer.sum()), atom_covariance=cov)


def _atoms_of(composition: Composition) -> np.ndarray:
    """(n_ions, n_elements) atoms per ion of a composition, from the ion names' formulas."""
    import re

    out = np.zeros((len(composition.ion_names), len(composition.elements)), np.int64)
    for i, name in enumerate(composition.ion_names):
        for symbol, count in re.findall(r"([A-Z][a-z]?)(\d*)", name):
            if symbol in composition.elements:
                out[i, composition.elements.index(symbol)] += int(count or 1)
    return out


@dataclass(frozen=True, eq=False)
class WindowLoss:
    """Ions of each range's peak that fall outside its window (thermal tail and core).

    Attributes
    ----------
    lost_ions, lost_sigma : (n_ranges,) float64
        Estimated ions beyond the window (upper tail plus lower core) and σ; 0 with σ 0 for
        a range with too few ions to fit (``fitted`` False).
    tail_length_da : (n_ranges,) float64
        Fitted exponential tail length λ (NaN where not fitted).
    fitted : (n_ranges,) bool
    elements : tuple of str
    lost_atoms : (n_elements,) float64
    lost_covariance : (n_elements, n_elements) float64
    lost_ions_per_species : (n_species,) float64
    """

    lost_ions: np.ndarray
    lost_sigma: np.ndarray
    tail_length_da: np.ndarray
    fitted: np.ndarray
    elements: tuple[str, ...]
    lost_atoms: np.ndarray
    lost_covariance: np.ndarray
    lost_ions_per_species: np.ndarray

    def element_loss(self, composition: Composition) -> dict[str, tuple[float, float]]:
        """``{element: (lost fraction of its atoms, σ)}`` relative to ``composition``."""
        out = {}
        for e, el in enumerate(self.elements):
            total = (composition.atoms(el) if el in composition.elements else 0) + (
                self.lost_atoms[e])
            sigma = float(np.sqrt(max(self.lost_covariance[e, e], 0.0)))
            out[el] = ((float(self.lost_atoms[e] / total), sigma / total) if total > 0
                       else (float("nan"), float("nan")))
        return out

    def correct(self, composition: Composition) -> Composition:
        """``composition`` with the ions outside the windows put back."""
        return add_lost_ions(composition, self.lost_ions_per_species, self.lost_covariance)


def _increasing_root(g, low: float, high: float) -> float:
    """Root of an increasing function by bisection in log space (to 1e-12 relative).

    A few lines instead of ``scipy.optimize.brentq``: importing SciPy costs more than the
    whole composition of a million ions, and this runs in every ``liprobe composition``.
    """
    for _ in range(200):
        mid = math.sqrt(low * high)
        if g(mid) < 0:
            low = mid
        else:
            high = mid
        if high - low <= 1e-12 * high:
            break
    return math.sqrt(low * high)


def _tail_beyond(offsets: np.ndarray, length: float, background: float):
    """Ions of an exponential tail beyond a window, from the ions ``offsets`` (Da above the
    fit start) in ``[0, length)``: the maximum-likelihood λ of a truncated exponential
    (mean ``λ - L / (e^{L/λ} - 1)``, the expected background's uniform share removed),
    then ``n_s / (e^{L/λ} - 1)``. Returns (lost, variance, λ) or None when the ions show no
    decay."""
    n = float(offsets.size)
    n_s = n - background
    if n_s <= 0:
        return None
    mean = (float(offsets.sum()) - background * length / 2) / n_s
    if not 0 < mean < 0.499 * length:
        return None

    def g(lam):
        return lam - length / np.expm1(length / lam) - mean

    lam = _increasing_root(g, length / 700.0, length * 1e4)  # e^700 is still a finite float
    h = 1.0 / np.expm1(length / lam)
    lost = n_s * h
    # delta method: var(n_s) = n; var(mean) = var(x) / n_s; dλ/dmean = 1 / g'(λ)
    u = length / lam
    dg = 1.0 - u * u / (np.expm1(u) * -np.expm1(-u))  # = 1 - u² e^u / (e^u - 1)²
    var_lam = float(np.var(offsets)) / n_s / max(dg, 1e-12) ** 2
    dh = h * (h + 1) * length / lam**2
    return lost, h * h * n + (n_s * dh) ** 2 * var_lam, lam


def _first_at_least(ordered: np.ndarray, value: float) -> int:
    """Index of the first element of sorted ``ordered`` that is ``>= value``, compared
    exactly (``value`` is a float64; ``ordered`` may be float32)."""
    kind, largest = ordered.dtype.type, float(np.finfo(ordered.dtype).max)
    if value > largest:
        bound = kind(np.inf)
    else:  # the smallest value of ordered's type that is >= value
        bound = kind(max(value, -largest))
        if float(bound) < value:
            bound = np.nextafter(bound, kind(np.inf))
    return int(np.searchsorted(ordered, bound))


def _sorted_histogram(ordered: np.ndarray, bins: int, range_da: tuple[float, float]):
    """``np.histogram(ordered, bins, range_da)`` of sorted values: one search per edge."""
    edges = np.histogram_bin_edges(ordered, bins=bins, range=range_da)
    at = np.searchsorted(ordered, edges)
    hist = np.diff(at)
    hist[-1] += np.searchsorted(ordered, edges[-1], side="right") - at[-1]  # closed last bin
    return hist, edges


def estimate_window_loss(ions_or_mass, ranges: RangeTable, *, core_sigmas: float = 5.0,
                         min_ions: int = 30, background=None) -> WindowLoss:
    """Ions of each range's peak lost outside its window (see the module docstring).

    Parameters
    ----------
    ions_or_mass : IonTable or (N,) array
        The ions or their m/q in Da.
    ranges : RangeTable
    core_sigmas : float
        The tail fit starts this many core widths (σ of the Gaussian core, from the
        peak's half width at half maximum) above the peak.
    min_ions : int
        Fewer ions in the fit region: the range is not fitted (no loss estimated).
    background : Background, optional
        Constant-TOF background; default estimated from a 0.05 Da spectrum.

    Returns
    -------
    WindowLoss
    """
    from liprobe.apt.spectrum import background_of

    mass = (ions_or_mass.mass_to_charge_da if isinstance(ions_or_mass, IonTable)
            else np.asarray(ions_or_mass))
    mass = np.asarray(mass)
    # sorted once, in the file's precision (native byte order, NaN last): the ions of
    # each range are then one slice
    dtype = mass.dtype.newbyteorder("=") if mass.dtype.kind == "f" else np.dtype(np.float64)
    ordered = np.array(mass, dtype=dtype)
    ordered.sort()
    if background is None:
        background = background_of(mass, bin_width_da=0.05)
    n_r = ranges.n_ranges
    lost, var = np.zeros(n_r), np.zeros(n_r)
    lam_out, fitted = np.full(n_r, np.nan), np.zeros(n_r, bool)
    for r in range(n_r):
        lo, hi = float(ranges.low_da[r]), float(ranges.high_da[r])
        inside = ordered[_first_at_least(ordered, lo):_first_at_least(ordered, hi)]
        inside = inside.astype(np.float64)
        if inside.size < 5 * min_ions:
            continue
        hist, edges = _sorted_histogram(inside, 200, (lo, hi))
        peak_bin = int(np.argmax(hist))
        peak = 0.5 * (edges[peak_bin] + edges[peak_bin + 1])
        above = np.flatnonzero(hist[peak_bin:] < hist[peak_bin] / 2)
        half = (above[0] if above.size else 1) * (edges[1] - edges[0])
        core_sigma = max(half, edges[1] - edges[0]) / 1.1774
        start = peak + core_sigmas * core_sigma
        if start >= hi:
            continue
        offsets = inside[inside >= start] - start
        if offsets.size < min_ions:
            continue
        fit = _tail_beyond(offsets, hi - start, float(background.counts_in(start, hi)))
        if fit is None:
            continue
        tail, tail_var, lam = fit
        core = inside.size * 0.5 * math.erfc((peak - lo) / (core_sigma * math.sqrt(2.0)))
        lost[r], var[r] = tail + core, max(tail_var, 0.0) + core
        lam_out[r], fitted[r] = lam, True
    elements, atoms = atoms_per_species(ranges)
    per_ion_atoms = atoms[ranges.ion_index].astype(np.float64)
    return WindowLoss(
        lost_ions=lost, lost_sigma=np.sqrt(var), tail_length_da=lam_out, fitted=fitted,
        elements=tuple(elements), lost_atoms=lost @ per_ion_atoms,
        lost_covariance=np.einsum("r,re,rf->ef", var, per_ion_atoms, per_ion_atoms),
        lost_ions_per_species=np.bincount(ranges.ion_index, weights=lost,
                                          minlength=ranges.n_ions))

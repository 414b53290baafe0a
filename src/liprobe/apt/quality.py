"""Lithium quality checks of one APT data set: what the usual tools do not report.

Every check is a statistical test with a p-value, and a verdict that warns only when the
deviation is both *significant after a multiplicity correction* (Holm by default, across
the checks of a report; a study corrects across all its specimens' checks,
:func:`liprobe.study.qc.adjust_study_qc`) and *larger than the check's tolerance*. Checks
are two-sided wherever a deviation either way is a problem.

``li_isotope_ratio``
    6Li/7Li (background-corrected counts at 6.015 and 7.016 Da) against the natural ratio
    from ``periodictable``, with a Wilson interval; two-sided z-test of the 6Li share.
    Detector dead time loses the second of two same-mass ions of one pulse, so the *major*
    isotope 7Li is lost first and the ratio rises; a 6Li deficit points at ranging.
``multi_hit_fraction``, ``li_same_species_multihits``
    Fraction of ions in multi-hit pulses (one-sided: only too many is a problem); and
    Li-Li pairs within one pulse against random pairing with the *local* Li fraction
    (each pulse's Li share taken from the ``pair_neighbours`` nearest single-hit ions in
    space, so Li-rich lines or a depth gradient do not read as correlated pairs). Two-sided:
    a deficit means dead-time Li loss (the major isotope 7Li first); an excess (e.g. a ratio
    of 1.9) means correlated evaporation of Li (molecular-ion dissociation, Li clusters
    below the neighbourhood scale) or a multiplicity field that does not follow the ion
    order: either way Li counted in multi-hits is not what random detection gives.
``li_trend``
    Li/metal in equal-count depth bins along the analysis direction, weighted straight-line
    fit of the ratio *relative to the expected depth profile*: ``expected_li_ratio`` (the
    study's fitted profile in the specimen's depth coordinate) when given, else a constant
    (a specimen of known homogeneity); the check says which. The slope left is what
    field-induced Li migration (Singh, Gault et al., arXiv 2309.07842) would add.
``o_metal``
    O/(Ni+Co+Mn) with a 95 % interval against the pass band ``o_metal_band`` (default
    1.6-2.2; APT under-measures O by neutral O2 loss); two-sided test of the distance
    outside the band, σ from the composition's covariance (O2 ions carry two O).

Reference: B. Gault et al., *Atom Probe Microscopy* (Springer, 2012), §5.6 (detector dead
time, multiple hits); S. Holm, Scand. J. Statist. 6 (1979) 65; Y. Benjamini & Y. Hochberg,
J. R. Statist. Soc. B 57 (1995) 289; DOMAIN.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt.composition import Composition
from liprobe.apt.multiplicity import CORRECTIONS, adjust_p_values
from liprobe.apt.profiles import concentration_profile
from liprobe.apt.species import METALS, atoms_per_species, ions_per_species, species_per_ion
from liprobe.apt.spectrum import estimate_background, mass_spectrum
from liprobe.counting import atom_covariance, binomial_interval, ratios_with_sigma
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.isotopes import element_isotopes

__all__ = ["QualityCheck", "QualityReport", "check_quality", "natural_li_ratio",
           "adjust_p_values", "decide", "fit_trend", "li_trend_check", "CORRECTIONS"]

_Z95 = 1.959963984540054
def _two_sided(z: float) -> float:
    # the normal tail as scipy.stats.norm.sf computes it (ndtr(-z)), without importing
    # scipy.stats (about 0.5 s on a first call)
    from scipy.special import ndtr

    return float(2 * ndtr(-abs(z))) if np.isfinite(z) else float("nan")


@dataclass(frozen=True)
class QualityCheck:
    """One check: ``verdict`` is ``"pass"`` or ``"warn"``; ``interval`` a 95 % interval.

    ``p_value`` tests "no problem" (two-sided where either deviation is one);
    ``exceeds_tolerance`` says whether the deviation is larger than the check's practical
    tolerance; ``adjusted_p`` is the p-value after the report's (or study's) multiplicity
    correction. The verdict is ``"warn"`` iff ``adjusted_p < α`` and the tolerance is
    exceeded; ``hint`` (what a warning would mean) is appended to the message then.
    """

    name: str
    verdict: str
    value: float
    interval: tuple[float, float]
    expected: float | tuple[float, float]
    message: str
    details: dict[str, float] | None = None
    p_value: float = float("nan")
    exceeds_tolerance: bool = True
    adjusted_p: float = float("nan")
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "verdict": self.verdict, "value": self.value,
                "interval": list(self.interval),
                "expected": list(self.expected) if isinstance(self.expected, tuple)
                else self.expected, "message": self.message, "details": self.details or {},
                "p_value": self.p_value, "adjusted_p": self.adjusted_p,
                "exceeds_tolerance": self.exceeds_tolerance}


@dataclass(frozen=True)
class QualityReport:
    """The checks that ran, those skipped with the reason, and the multiplicity correction
    (``correction`` across the ``len(checks)`` checks at level ``alpha``)."""

    checks: tuple[QualityCheck, ...]
    skipped: tuple[tuple[str, str], ...]
    correction: str = "holm"
    alpha: float = 0.05

    @property
    def verdict(self) -> str:
        """``"warn"`` if any check warns, else ``"pass"``."""
        return "warn" if any(c.verdict == "warn" for c in self.checks) else "pass"

    def __getitem__(self, name: str) -> QualityCheck:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check {name!r}; ran: {', '.join(c.name for c in self.checks)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"verdict": self.verdict, "checks": [c.to_dict() for c in self.checks],
                "skipped": [{"name": n, "reason": r} for n, r in self.skipped],
                "correction": f"{self.correction} across {len(self.checks)} checks, "
                              f"alpha = {self.alpha}"}


def natural_li_ratio() -> float:
    """Natural 6Li/7Li abundance ratio (7.59 % / 92.41 %, see :mod:`liprobe.isotopes`).

    Li of battery materials varies with its source (6Li-depleted lithium exists), so treat
    the isotope check as a change against a known reference rather than an absolute.

    Examples
    --------
    >>> round(natural_li_ratio(), 4)
    0.0821
    """
    (_, a6), (_, a7) = element_isotopes("Li")
    return a6 / a7


def _near_counts(mass, centres, half_width_da):
    """Ions within ``half_width_da`` of each centre, float32 as |m - c| < w: one pass for
    all centres without N-sized temporaries (a big-endian float32 column is read in place)."""
    from liprobe.apt._columns import column_view
    from liprobe.apt.profile_kernels import count_near

    in_place = mass.dtype in (np.dtype("<f4"), np.dtype(">f4"))  # read where it lies
    step = max(mass.shape[0], 1) if in_place else 1 << 22
    half = np.float32(half_width_da)
    totals = [0] * len(centres)
    for start in range(0, mass.shape[0], step):
        block = mass[start:start + step]
        block = column_view(block) if in_place else block.astype(np.float32)
        counted = count_near(block, np.asarray(centres, np.float32), half)
        for k in range(len(centres)):
            totals[k] += int(counted[k])
    return tuple(float(t) for t in totals)


def _li_isotopes(mass, tolerance, half_width_da, expected=None):
    (m6, _), (m7, _) = element_isotopes("Li")
    spectrum = mass_spectrum(mass, bin_width_da=0.01, range_da=(1.0, 120.0))
    background = estimate_background(spectrum)
    n6, n7 = _near_counts(np.asarray(mass), (m6, m7), half_width_da)
    b6 = float(background.counts_in(m6 - half_width_da, m6 + half_width_da))
    b7 = float(background.counts_in(m7 - half_width_da, m7 + half_width_da))
    k6, k7 = max(n6 - b6, 0.0), max(n7 - b7, 0.0)
    r0 = natural_li_ratio() if expected is None else float(expected)
    if not r0 > 0:
        raise ParameterError(f"expected_li6_li7 must be positive, got {expected}")
    if k7 <= 0:
        raise ParameterError("no 7Li+ counts at 7.016 Da: is Li ranged in this data set?")
    ratio = k6 / k7
    lo_f, hi_f = binomial_interval(k6, k6 + k7)
    interval = (lo_f / (1 - lo_f), hi_f / (1 - hi_f) if hi_f < 1 else float("inf"))
    deviation = ratio / r0 - 1.0
    # two-sided test of the 6Li share against r0 / (1 + r0); the background subtracted
    # adds its Poisson variance
    n = k6 + k7
    share0 = r0 / (1 + r0)
    var = (share0 * (1 - share0) * n + (1 - share0) ** 2 * b6 + share0**2 * b7) / n**2
    p_value = _two_sided((k6 / n - share0) / np.sqrt(var)) if n > 0 else float("nan")
    loss = 1.0 - r0 / ratio if ratio > 0 else float("nan")
    reference = "natural" if expected is None else "the given reference"
    msg = (f"6Li/7Li = {ratio:.4f} [{interval[0]:.4f}, {interval[1]:.4f}] vs {reference} "
           f"{r0:.4f} ({deviation:+.1%}, p = {p_value:.2g})")
    hint = (f"; implies {loss:.1%} of 7Li lost (detector dead time on same-isotope "
            "multi-hits) if the source Li has natural abundance" if deviation > 0 else
            "; 6Li deficit: check ranging of the 6 Da peak or a 12C2+ overlap")
    return QualityCheck("li_isotope_ratio", "pass", ratio, interval, r0, msg,
                        {"counts_6li": k6, "counts_7li": k7, "background_6li": b6,
                         "background_7li": b7, "implied_7li_loss": loss},
                        hint=hint, p_value=p_value, exceeds_tolerance=abs(deviation) > tolerance)


def _local_square(ions, is_li, single, anchors, k):
    """Unbiased estimate of the squared Li share near each anchor ion: ``m (m - 1) /
    (k (k - 1))`` with m Li among its ``k`` nearest single-hit ions in space (the square
    of the sampled share would be biased up by its variance, ``p (1 - p) / k``)."""
    from scipy.spatial import cKDTree

    ref = np.flatnonzero(single)
    k = int(min(k, ref.size))
    if k < 2 or anchors.size == 0:
        return np.zeros(anchors.size)
    xyz = np.asarray(ions.xyz_nm, dtype=np.float64)
    _, idx = cKDTree(xyz[ref]).query(xyz[anchors], k=k)
    m = is_li[ref][idx.reshape(anchors.size, k)].sum(axis=1).astype(np.float64)
    return m * (m - 1) / (k * (k - 1))


def _multi_hits(ions, species, li_species, max_fraction, pair_tolerance, neighbours):
    from scipy.stats import binom

    ipp = np.asarray(ions.fields["ions_per_pulse"])
    n = ipp.shape[0]
    in_multi = (ipp == 0) | (ipp >= 2)
    n_multi = float(np.count_nonzero(in_multi))
    fraction = n_multi / n
    # one-sided: only too many multi-hits is a problem
    p_frac = float(binom.sf(n_multi - 1, n, max_fraction)) if n else float("nan")
    frac_check = QualityCheck(
        "multi_hit_fraction", "pass", fraction, binomial_interval(n_multi, float(n)),
        (0.0, max_fraction),
        f"{fraction:.1%} of ions arrive in multi-hit pulses (limit {max_fraction:.0%})",
        {"ions_in_multi_hits": n_multi, "ions": float(n)}, p_value=p_frac,
        exceeds_tolerance=fraction > max_fraction)
    # pulse groups: a new group starts at every ion with ions_per_pulse > 0
    group = np.cumsum(ipp > 0) - 1
    valid = group >= 0
    n_groups = int(group[-1]) + 1 if n and group[-1] >= 0 else 0
    size = np.bincount(group[valid], minlength=n_groups).astype(np.float64)
    is_li = np.isin(species, li_species)
    n_li = np.bincount(group[valid & is_li], minlength=n_groups).astype(np.float64)
    single = valid & (size[np.maximum(group, 0)] == 1)
    multi_groups = np.flatnonzero(size >= 2)
    first_ion = np.flatnonzero(ipp > 0)
    anchors = first_ion[multi_groups] if first_ion.size == n_groups else np.zeros(0, int)
    p_squared = _local_square(ions, is_li, single, anchors, neighbours)
    observed = float(np.sum(n_li * (n_li - 1) / 2))
    pairs = size[multi_groups] * (size[multi_groups] - 1) / 2
    expected = float(np.sum(pairs * p_squared))
    if expected <= 0:
        return frac_check, None
    rho = observed / expected
    err = np.sqrt(expected) / expected  # Poisson pairs under random pairing
    interval = (rho - _Z95 * np.sqrt(max(observed, 1.0)) / expected,
                rho + _Z95 * np.sqrt(max(observed, 1.0)) / expected)
    p_value = _two_sided((rho - 1.0) / err)
    msg = (f"Li-Li pairs within one pulse: {observed:.0f} observed vs {expected:.0f} expected "
           f"for random pairing with the local Li share (ratio {rho:.2f} "
           f"[{interval[0]:.2f}, {interval[1]:.2f}], p = {p_value:.2g})")
    hint = ("; a deficit of same-species multi-hits means the detector dead time lost Li "
            "ions (the major isotope 7Li first)" if rho < 1 else
            "; an excess of Li-Li pairs: correlated Li evaporation (molecular dissociation, "
            "Li clusters) or a multiplicity field out of order; Li in multi-hits is not "
            "random detection")
    pair_check = QualityCheck(
        "li_same_species_multihits", "pass", rho, interval, 1.0, msg,
        {"observed_pairs": observed, "expected_pairs": expected,
         "li_ion_fraction": float(is_li.mean()) if n else 0.0},
        hint=hint, p_value=p_value, exceeds_tolerance=abs(rho - 1.0) > pair_tolerance)
    return frac_check, pair_check


def fit_trend(x: np.ndarray, y: np.ndarray, sigma: np.ndarray
              ) -> tuple[float, float, float, float]:
    """Weighted straight line through ``(x, y ± sigma)``: slope, its σ (scaled up by the
    reduced χ² when that exceeds 1), the weighted mean of y and the reduced χ²."""
    if x.size < 3:
        raise ParameterError("fewer than 3 depth bins with Li and metal: too little data")
    w = 1.0 / sigma**2
    xm = np.sum(w * x) / w.sum()
    ym = float(np.sum(w * y) / w.sum())
    sxx = np.sum(w * (x - xm) ** 2)
    slope = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    resid = y - (ym + slope * (x - xm))
    dof = int(x.size) - 2
    reduced = float(np.sum(w * resid**2) / dof) if dof > 0 else 1.0
    return slope, float(np.sqrt(max(reduced, 1.0) / sxx)), ym, reduced


def _li_trend(ions, ranges, species, n_bins, tolerance, expected_li_ratio=None):
    n_ranged = int(ions_per_species(species, ranges.n_ions).sum())
    profile = concentration_profile(ions, ranges, bin_ions=max(1, n_ranged // n_bins),
                                    species=species)
    elements = profile.elements
    denominator = tuple(m for m in METALS if m in elements)
    ratio, sigma = ratios_with_sigma(profile.atom_counts, elements, denominator,
                                     profile.atom_covariance)
    li = elements.index("Li")
    span = float(profile.end_nm[-1] - profile.start_nm[0])
    return li_trend_check(profile.center_nm, ratio[:, li], sigma[:, li], span_nm=span,
                          tolerance=tolerance, expected_li_ratio=expected_li_ratio)


def li_trend_check(center_nm: np.ndarray, li_ratio: np.ndarray, li_sigma: np.ndarray, *,
                   span_nm: float, tolerance: float = 0.05, expected_li_ratio=None
                   ) -> QualityCheck:
    """The ``li_trend`` check from a Li/metal profile (bin centres from the specimen top).

    With ``expected_li_ratio`` (a function of the distance from the specimen top, nm) the
    ratio is divided by the expected profile first, so the depth gradient the study
    expects is allowed; without it the specimen is taken as homogeneous. The verdict is
    left at ``"pass"``: :func:`decide` sets it after the multiplicity correction.
    """
    x = np.asarray(center_nm, dtype=np.float64)
    if expected_li_ratio is None:
        shape = np.ones_like(x)
        against = "a constant (specimen taken as homogeneous)"
    else:
        shape = np.asarray(expected_li_ratio(x), dtype=np.float64)
        against = "the study's fitted depth profile"
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.asarray(li_ratio, np.float64) / shape
        s = np.asarray(li_sigma, np.float64) / shape
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    if ok.sum() < 3:
        raise ParameterError("fewer than 3 depth bins with Li and metal: too little data")
    slope, slope_sigma, ym, reduced = fit_trend(x[ok], y[ok], s[ok])
    interval = (slope - _Z95 * slope_sigma, slope + _Z95 * slope_sigma)
    change = slope * span_nm / ym if ym else float("nan")
    p_value = _two_sided(slope / slope_sigma)
    unit = "Li/metal" if expected_li_ratio is None else "Li/metal relative to the profile"
    msg = (f"{unit}: slope {slope:+.3g} /nm [{interval[0]:+.3g}, {interval[1]:+.3g}] over "
           f"{span_nm:.0f} nm: {change:+.1%} of the mean {ym:.3f} (limit ±{tolerance:.0%}; "
           f"tested against {against}; p = {p_value:.2g})")
    hint = ("; a change beyond the expected depth profile: suspect field-induced Li "
            "migration, or a gradient the profile does not describe: compare specimens")
    return QualityCheck("li_trend", "pass", slope, interval, 0.0, msg,
                        {"relative_change": change, "depth_nm": span_nm, "mean_ratio": ym,
                         "reduced_chi2": reduced,
                         "against_profile": float(expected_li_ratio is not None)},
                        hint=hint, p_value=p_value, exceeds_tolerance=abs(change) > tolerance)


def _o_metal(ranges, species, band, composition=None):
    elements, atoms = atoms_per_species(ranges)
    if composition is None:
        ion_counts = ions_per_species(species, ranges.n_ions)
        counts = (ion_counts @ atoms).astype(np.float64)
        cov = atom_covariance(ion_counts, atoms)
        source = ""
    else:
        elements = tuple(composition.elements)
        counts = np.asarray(composition.atom_counts, dtype=np.float64)
        cov = composition.covariance
        source = ", from the given (e.g. overlap-corrected) composition"
    denominator = tuple(m for m in METALS if m in elements)
    ratio, sigma = ratios_with_sigma(counts, elements, denominator, cov)
    o = elements.index("O")
    value, err = float(ratio[o]), float(sigma[o])
    interval = (value - _Z95 * err, value + _Z95 * err)
    outside = max(band[0] - value, value - band[1], 0.0)
    p_value = min(1.0, _two_sided(outside / err)) if err > 0 else float("nan")
    msg = (f"O/metal = {value:.3f} ± {err:.3f} vs expected 2 (pass band {band[0]}-{band[1]}; "
           f"APT under-measures O by neutral O2 loss{source}; p = {p_value:.2g})")
    return QualityCheck("o_metal", "pass", value, interval, 2.0, msg,
                        {"sigma": err}, hint="; outside the band: check the O ranges and the "
                        "overlap correction", p_value=p_value, exceeds_tolerance=outside > 0)


def decide(checks, *, correction: str = "holm", alpha: float = 0.05) -> tuple[QualityCheck, ...]:
    """Checks with adjusted p-values and verdicts: warn iff ``adjusted_p < alpha`` and the
    deviation exceeds the check's tolerance (the correction spans ``checks``)."""
    from dataclasses import replace

    adjusted = adjust_p_values([c.p_value for c in checks], correction)
    out = []
    for check, q in zip(checks, adjusted):
        warn = bool(np.isfinite(q) and q < alpha and check.exceeds_tolerance)
        message = check.message.split("; adjusted p")[0]
        message += f"; adjusted p = {q:.2g} ({correction})" if np.isfinite(q) else ""
        out.append(replace(check, verdict="warn" if warn else "pass", adjusted_p=float(q),
                           message=message + (check.hint if warn else "")))
    return tuple(out)


def check_quality(
    ions: IonTable,
    ranges: RangeTable,
    *,
    li_ratio_tolerance: float = 0.05,
    li_isotope_half_width_da: float = 0.15,
    max_multi_hit_fraction: float = 0.5,
    li_pair_tolerance: float = 0.1,
    pair_neighbours: int = 100,
    trend_bins: int = 10,
    trend_tolerance: float = 0.05,
    expected_li_ratio=None,
    o_metal_band: tuple[float, float] = (1.6, 2.2),
    overlap: str = "error",
    composition: Composition | None = None,
    expected_li6_li7: float | None = None,
    species: np.ndarray | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
) -> QualityReport:
    """Run the Li quality checks (module docstring) on one data set.

    Checks that cannot run (no Li or O in the ranges, no multiplicity field) are listed in
    :attr:`QualityReport.skipped` with the reason. ``composition`` (optional) is used for
    O/metal instead of the ranged counts, e.g. the result of
    :func:`liprobe.apt.overlap_correction.correct_composition`, which puts back the O of
    O2 2+ ions hidden under O+ at 16 Da. ``expected_li6_li7`` replaces the natural 6Li/7Li
    (:func:`natural_li_ratio`) for Li from a source of known, non-natural abundance.
    ``expected_li_ratio`` (optional) is a function of the distance from the specimen top
    (nm) giving the expected Li/metal there (a study passes its fitted depth profile); the
    trend check then tests the Li ratio relative to it. ``species`` (optional) is the
    species index per ion from :func:`liprobe.apt.ranging.species_per_ion`, to skip ranging.
    ``correction`` (``"holm"`` or ``"bh"``) and ``alpha`` set the multiplicity correction
    across the checks of this report.

    Returns
    -------
    QualityReport

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.synth import generate_specimen, get_preset, ncm_ranges
    >>> params = get_preset("ncm-homogeneous", apex_radius_nm=12.0, n_ions=100_000)
    >>> ions, _ = generate_specimen(params, rng=np.random.default_rng(3))
    >>> report = check_quality(ions, ncm_ranges(params))
    >>> report.verdict, report["o_metal"].verdict
    ('pass', 'pass')
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie in (0, 1), got {alpha}")
    if correction not in CORRECTIONS:
        raise ParameterError(f"correction={correction!r}: use one of {', '.join(CORRECTIONS)}")
    species = species_per_ion(ions, ranges, overlap=overlap, known=species)
    elements, atoms = atoms_per_species(ranges)
    checks, skipped = [], []
    if "Li" in elements:
        checks.append(_li_isotopes(ions.mass_to_charge_da, li_ratio_tolerance,
                                   li_isotope_half_width_da, expected_li6_li7))
    else:
        skipped.append(("li_isotope_ratio", "no Li in the range table"))
    if "ions_per_pulse" in ions.fields and "Li" in elements:
        li_species = np.flatnonzero(atoms[:, elements.index("Li")] > 0)
        frac_check, pair_check = _multi_hits(ions, species, li_species,
                                             max_multi_hit_fraction, li_pair_tolerance,
                                             int(pair_neighbours))
        checks.append(frac_check)
        if pair_check is None:
            skipped.append(("li_same_species_multihits", "no multi-hit pulses with Li"))
        else:
            checks.append(pair_check)
    else:
        reason = ("no Li in the range table" if "ions_per_pulse" in ions.fields
                  else "no ions_per_pulse field (read an EPOS or APT file)")
        skipped.extend([("multi_hit_fraction", reason), ("li_same_species_multihits", reason)])
    has_metal = any(m in elements for m in METALS)
    if "Li" in elements and has_metal:
        checks.append(_li_trend(ions, ranges, species, trend_bins, trend_tolerance,
                                expected_li_ratio))
    else:
        skipped.append(("li_trend", "needs Li and a metal in the range table"))
    if "O" in elements and has_metal:
        checks.append(_o_metal(ranges, species, o_metal_band, composition))
    else:
        skipped.append(("o_metal", "needs O and a metal in the range table"))
    return QualityReport(checks=decide(checks, correction=correction, alpha=alpha),
                         skipped=tuple(skipped), correction=correction, alpha=alpha)

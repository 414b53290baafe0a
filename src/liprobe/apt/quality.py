"""Lithium quality checks of one APT data set: what the usual tools do not report.

Four checks, each a pass/warn verdict with the numbers behind it:

``li_isotope_ratio``
    6Li/7Li (background-corrected counts at 6.015 and 7.016 Da) against the natural ratio
    from ``periodictable``, with a Wilson interval. Detector dead time loses the second of
    two same-mass ions of one pulse, so the *major* isotope 7Li is lost first and the
    ratio rises. Warn when the natural value lies outside the interval *and* the relative
    deviation exceeds ``li_ratio_tolerance``; the implied 7Li loss is 1 - r0 / r.
``multi_hit_fraction``, ``li_same_species_multihits``
    Fraction of ions in multi-hit pulses; and Li-Li pairs within one pulse against the
    number expected if pulse partners were random (sum over pulses of C(g, 2) p_Li^2).
    Dead time removes same-isotope partners, so a deficit (ratio below 1 -
    ``li_pair_tolerance``, interval excluding 1) flags dead-time Li loss even when the
    isotope ratio barely moves. Both need the ``ions_per_pulse`` field of EPOS/APT files.
``li_trend``
    Li/metal in equal-count depth bins along the analysis direction, weighted straight-line
    fit: slope with a 95 % interval (field-induced Li migration, Singh, Gault et al., arXiv
    2309.07842). Warn when the interval excludes 0 and the change over the analysed depth
    exceeds ``trend_tolerance`` of the mean.
``o_metal``
    O/(Ni+Co+Mn) with a 95 % interval against the expected 2; APT under-measures O (neutral
    O2 loss), so the pass band is ``o_metal_band`` (default 1.6-2.2).

Reference: B. Gault et al., *Atom Probe Microscopy* (Springer, 2012), §5.6 (detector dead
time, multiple hits); DOMAIN.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt._fractions import ratios_with_sigma
from liprobe.apt._species_atoms import METALS, species_atoms, species_of
from liprobe.apt.composition import Composition
from liprobe.apt.profiles import concentration_profile
from liprobe.apt.spectrum import estimate_background, mass_spectrum
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.isotopes import element_isotopes

__all__ = ["QualityCheck", "QualityReport", "check_quality", "natural_li_ratio"]

_Z95 = 1.959963984540054


@dataclass(frozen=True)
class QualityCheck:
    """One check: ``verdict`` is ``"pass"`` or ``"warn"``; ``interval`` a 95 % interval."""

    name: str
    verdict: str
    value: float
    interval: tuple[float, float]
    expected: float | tuple[float, float]
    message: str
    details: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "verdict": self.verdict, "value": self.value,
                "interval": list(self.interval),
                "expected": list(self.expected) if isinstance(self.expected, tuple)
                else self.expected, "message": self.message, "details": self.details or {}}


@dataclass(frozen=True)
class QualityReport:
    """The checks that ran, and those skipped with the reason."""

    checks: tuple[QualityCheck, ...]
    skipped: tuple[tuple[str, str], ...]

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
                "skipped": [{"name": n, "reason": r} for n, r in self.skipped]}


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


def _wilson(k: float, n: float, z: float = _Z95) -> tuple[float, float]:
    if n <= 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _li_isotopes(mass, tolerance, half_width_da, expected=None):
    (m6, _), (m7, _) = element_isotopes("Li")
    spectrum = mass_spectrum(mass, bin_width_da=0.01, range_da=(1.0, 120.0))
    background = estimate_background(spectrum)
    m = np.asarray(mass)
    n6 = float(np.count_nonzero(np.abs(m - np.float32(m6)) < half_width_da))
    n7 = float(np.count_nonzero(np.abs(m - np.float32(m7)) < half_width_da))
    b6 = float(background.counts_in(m6 - half_width_da, m6 + half_width_da))
    b7 = float(background.counts_in(m7 - half_width_da, m7 + half_width_da))
    k6, k7 = max(n6 - b6, 0.0), max(n7 - b7, 0.0)
    r0 = natural_li_ratio() if expected is None else float(expected)
    if not r0 > 0:
        raise ParameterError(f"expected_li6_li7 must be positive, got {expected}")
    if k7 <= 0:
        raise ParameterError("no 7Li+ counts at 7.016 Da: is Li ranged in this data set?")
    ratio = k6 / k7
    lo_f, hi_f = _wilson(k6, k6 + k7)
    interval = (lo_f / (1 - lo_f), hi_f / (1 - hi_f) if hi_f < 1 else float("inf"))
    deviation = ratio / r0 - 1.0
    outside = not (interval[0] <= r0 <= interval[1])
    verdict = "warn" if outside and abs(deviation) > tolerance else "pass"
    loss = 1.0 - r0 / ratio if ratio > 0 else float("nan")
    reference = "natural" if expected is None else "the given reference"
    msg = (f"6Li/7Li = {ratio:.4f} [{interval[0]:.4f}, {interval[1]:.4f}] vs {reference} "
           f"{r0:.4f} ({deviation:+.1%})")
    if verdict == "warn":
        msg += (f"; implies {loss:.1%} of 7Li lost (detector dead time on same-isotope "
                "multi-hits) if the source Li has natural abundance" if deviation > 0 else
                "; 6Li deficit: check ranging of the 6 Da peak or a 12C2+ overlap")
    return QualityCheck("li_isotope_ratio", verdict, ratio, interval, r0, msg,
                        {"counts_6li": k6, "counts_7li": k7, "background_6li": b6,
                         "background_7li": b7, "implied_7li_loss": loss})


def _multi_hits(ions, species, li_species, max_fraction, pair_tolerance):
    ipp = np.asarray(ions.fields["ions_per_pulse"])
    n = ipp.shape[0]
    in_multi = (ipp == 0) | (ipp >= 2)
    n_multi = float(np.count_nonzero(in_multi))
    fraction = n_multi / n
    frac_check = QualityCheck(
        "multi_hit_fraction", "warn" if fraction > max_fraction else "pass", fraction,
        _wilson(n_multi, float(n)), (0.0, max_fraction),
        f"{fraction:.1%} of ions arrive in multi-hit pulses (limit {max_fraction:.0%})",
        {"ions_in_multi_hits": n_multi, "ions": float(n)})
    # pulse groups: a new group starts at every ion with ions_per_pulse > 0
    group = np.cumsum(ipp > 0) - 1
    valid = group >= 0
    n_groups = int(group[-1]) + 1 if n and group[-1] >= 0 else 0
    size = np.bincount(group[valid], minlength=n_groups).astype(np.float64)
    is_li = np.isin(species, li_species)
    n_li = np.bincount(group[valid & is_li], minlength=n_groups).astype(np.float64)
    p_li = float(is_li.sum()) / n if n else 0.0
    observed = float(np.sum(n_li * (n_li - 1) / 2))
    expected = float(np.sum(size * (size - 1) / 2)) * p_li * p_li
    if expected <= 0:
        return frac_check, None
    rho = observed / expected
    err = np.sqrt(max(observed, 1.0)) / expected
    interval = (rho - _Z95 * err, rho + _Z95 * err)
    low = not (interval[0] <= 1.0 <= interval[1]) and rho < 1.0 - pair_tolerance
    msg = (f"Li-Li pairs within one pulse: {observed:.0f} observed vs {expected:.0f} expected "
           f"for random pairing (ratio {rho:.2f} [{interval[0]:.2f}, {interval[1]:.2f}])")
    if low:
        msg += ("; a deficit of same-species multi-hits means the detector dead time lost "
                "Li ions (the major isotope 7Li first)")
    pair_check = QualityCheck(
        "li_same_species_multihits", "warn" if low else "pass", rho, interval, 1.0, msg,
        {"observed_pairs": observed, "expected_pairs": expected, "li_ion_fraction": p_li})
    return frac_check, pair_check


def _li_trend(ions, ranges, species, n_bins, tolerance):
    n_ranged = int(np.count_nonzero(species >= 0))
    profile = concentration_profile(ions, ranges, bin_ions=max(1, n_ranged // n_bins),
                                    species=species)
    elements = profile.elements
    denominator = tuple(m for m in METALS if m in elements)
    ratio, sigma = ratios_with_sigma(profile.atom_counts, elements, denominator)
    li = elements.index("Li")
    y, s, x = ratio[:, li], sigma[:, li], profile.center_nm
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    if ok.sum() < 3:
        raise ParameterError("fewer than 3 depth bins with Li and metal: too little data")
    w = 1.0 / s[ok] ** 2
    xm = np.sum(w * x[ok]) / w.sum()
    ym = np.sum(w * y[ok]) / w.sum()
    sxx = np.sum(w * (x[ok] - xm) ** 2)
    slope = float(np.sum(w * (x[ok] - xm) * (y[ok] - ym)) / sxx)
    resid = y[ok] - (ym + slope * (x[ok] - xm))
    dof = int(ok.sum()) - 2
    reduced = float(np.sum(w * resid**2) / dof) if dof > 0 else 1.0
    slope_sigma = float(np.sqrt(max(reduced, 1.0) / sxx))
    interval = (slope - _Z95 * slope_sigma, slope + _Z95 * slope_sigma)
    span = float(profile.end_nm[-1] - profile.start_nm[0])
    change = slope * span / ym if ym else float("nan")
    significant = not (interval[0] <= 0.0 <= interval[1])
    verdict = "warn" if significant and abs(change) > tolerance else "pass"
    msg = (f"Li/metal slope {slope:+.3g} /nm [{interval[0]:+.3g}, {interval[1]:+.3g}] over "
           f"{span:.0f} nm: {change:+.1%} of the mean {ym:.3f} (limit ±{tolerance:.0%})")
    if verdict == "warn":
        msg += "; suspect field-induced Li migration or a real gradient: compare specimens"
    return QualityCheck("li_trend", verdict, slope, interval, 0.0, msg,
                        {"relative_change": change, "depth_nm": span, "mean_ratio": ym,
                         "reduced_chi2": reduced})


def _o_metal(ranges, species, band, composition=None):
    if composition is None:
        elements, atoms = species_atoms(ranges)
        counts = np.bincount(species[species >= 0], minlength=ranges.n_ions) @ atoms
        source = ""
    else:
        elements = tuple(composition.elements)
        counts = np.asarray(composition.atom_counts, dtype=np.float64)
        source = ", from the given (e.g. overlap-corrected) composition"
    denominator = tuple(m for m in METALS if m in elements)
    ratio, sigma = ratios_with_sigma(counts[None, :], elements, denominator)
    o = elements.index("O")
    value, err = float(ratio[0, o]), float(sigma[0, o])
    interval = (value - _Z95 * err, value + _Z95 * err)
    verdict = "pass" if band[0] <= value <= band[1] else "warn"
    msg = (f"O/metal = {value:.3f} ± {err:.3f} vs expected 2 (pass band {band[0]}-{band[1]}; "
           f"APT under-measures O by neutral O2 loss{source})")
    return QualityCheck("o_metal", verdict, value, interval, 2.0, msg, {"sigma": err})


def check_quality(
    ions: IonTable,
    ranges: RangeTable,
    *,
    li_ratio_tolerance: float = 0.05,
    li_isotope_half_width_da: float = 0.15,
    max_multi_hit_fraction: float = 0.5,
    li_pair_tolerance: float = 0.1,
    trend_bins: int = 10,
    trend_tolerance: float = 0.05,
    o_metal_band: tuple[float, float] = (1.6, 2.2),
    overlap: str = "error",
    composition: Composition | None = None,
    expected_li6_li7: float | None = None,
    species: np.ndarray | None = None,
) -> QualityReport:
    """Run the Li quality checks (module docstring) on one data set.

    Checks that cannot run (no Li or O in the ranges, no multiplicity field) are listed in
    :attr:`QualityReport.skipped` with the reason. ``composition`` (optional) is used for
    O/metal instead of the ranged counts, e.g. the result of
    :func:`liprobe.apt.overlap_correction.correct_composition`, which puts back the O of
    O2 2+ ions hidden under O+ at 16 Da. ``expected_li6_li7`` replaces the natural 6Li/7Li
    (:func:`natural_li_ratio`) for Li from a source of known, non-natural abundance.
    ``species`` (optional) is the species index per ion from
    :func:`liprobe.apt.ranging.assign_ions`, to skip ranging again.

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
    species = species_of(ions, ranges, species, overlap=overlap)
    elements, atoms = species_atoms(ranges)
    checks, skipped = [], []
    if "Li" in elements:
        checks.append(_li_isotopes(ions.mass_to_charge_da, li_ratio_tolerance,
                                   li_isotope_half_width_da, expected_li6_li7))
    else:
        skipped.append(("li_isotope_ratio", "no Li in the range table"))
    if "ions_per_pulse" in ions.fields and "Li" in elements:
        li_species = np.flatnonzero(atoms[:, elements.index("Li")] > 0)
        frac_check, pair_check = _multi_hits(ions, species, li_species,
                                             max_multi_hit_fraction, li_pair_tolerance)
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
        checks.append(_li_trend(ions, ranges, species, trend_bins, trend_tolerance))
    else:
        skipped.append(("li_trend", "needs Li and a metal in the range table"))
    if "O" in elements and has_metal:
        checks.append(_o_metal(ranges, species, o_metal_band, composition))
    else:
        skipped.append(("o_metal", "needs O and a metal in the range table"))
    return QualityReport(checks=tuple(checks), skipped=tuple(skipped))

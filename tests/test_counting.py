"""One counting-statistics implementation: truth from multinomial resampling of ion counts,
textbook formulas, and the synthetic generator's material composition over many seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.counting import (
    DEFAULT_DENOMINATOR,
    atom_covariance,
    denominator_for,
    fractions_with_sigma,
    interval,
    ratios_with_sigma,
)
from liprobe.errors import ParameterError

ELEMENTS = ("Li", "O", "Ni", "Co", "Mn")
#: ion species: Li+, O+, O2+, NiO+, Ni2+, Co2+, Mn2+ (atoms per ion, ELEMENTS order)
ATOMS = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 2, 0, 0, 0], [0, 1, 1, 0, 0],
                  [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]])
IONS = np.array([3000, 1500, 2200, 400, 1800, 420, 140])


def _resampled(n_draws=200_000, seed=3):
    draws = np.random.default_rng(seed).multinomial(IONS.sum(), IONS / IONS.sum(), n_draws)
    return draws @ ATOMS


def test_covariance_of_molecular_ions_against_resampling():
    atoms = _resampled()
    cov = atom_covariance(IONS, ATOMS)
    # for scale-free quantities the multinomial equals Poisson; the covariance itself is
    # the Poisson one: check the O-Ni correlation the NiO+ ions create and O's dispersion
    assert cov[1, 2] == 400 and cov[1, 1] == 1500 + 4 * 2200 + 400
    f, s = fractions_with_sigma(IONS @ ATOMS, cov)
    empirical = (atoms / atoms.sum(axis=1, keepdims=True)).std(axis=0)
    np.testing.assert_allclose(s, empirical, rtol=0.02)
    r, rs = ratios_with_sigma(IONS @ ATOMS, ELEMENTS, None, cov)
    metals = atoms[:, 2:].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(rs, (atoms / metals).std(axis=0), rtol=0.02)
    # the atom binomial would be 10-30 % too small for O
    binomial = np.sqrt(f * (1 - f) / (IONS @ ATOMS).sum())
    assert s[1] > 1.1 * binomial[1]


def test_monatomic_counts_reduce_to_the_textbook_formulas():
    a = np.array([120.0, 300.0, 80.0])
    f, s = fractions_with_sigma(a)
    np.testing.assert_allclose(s, np.sqrt(f * (1 - f) / 500), rtol=1e-12)
    r, rs = ratios_with_sigma(a, ("Li", "Ni", "Co"))
    assert rs[0] == pytest.approx(r[0] * math.sqrt(1 / 120 + 1 / 380), rel=1e-12)
    assert rs[1] == pytest.approx(math.sqrt(300 / 380 * 80 / 380 / 380), rel=1e-12)


def test_one_zero_count_rule_in_every_caller():
    """The three places that used to disagree (0.0, 0.001 and NaN) now agree: σ = 1/D."""
    from liprobe.apt._fractions import ratios_with_sigma as profile_ratios
    from liprobe.apt.composition import composition_from_counts
    from liprobe.data import Ion, RangeTable
    from liprobe.study.aggregate import ratio_from_counts

    ranges = RangeTable(tuple(Ion(e, ((e, 1),)) for e in ("Li", "Ni", "Co", "Mn")),
                        [6.9, 28.8, 29.3, 27.3], [7.1, 29.2, 29.6, 27.6], [0, 1, 2, 3])
    counts = np.array([0, 800, 150, 50])
    comp = composition_from_counts(counts, ranges)
    via_composition = comp.ratio_sigma("Li")
    via_profile = profile_ratios(counts[None, :], ("Li", "Ni", "Co", "Mn"),
                                 ("Ni", "Co", "Mn"))[1][0, 0]
    via_study = float(ratio_from_counts(dict(zip(("Li", "Ni", "Co", "Mn"), counts)), "Li")[1])
    assert via_composition == via_profile == via_study == pytest.approx(1 / 1000)
    # an empty denominator: NaN everywhere
    assert math.isnan(float(ratio_from_counts({"Li": 5, "Ni": 0, "Co": 0, "Mn": 0}, "Li")[1]))


def test_one_default_denominator():
    assert DEFAULT_DENOMINATOR == ("Ni", "Co", "Mn")
    assert denominator_for(("Li", "Fe", "Ni", "O")) == ("Ni",)
    with pytest.raises(ParameterError, match="none of Ni, Co, Mn"):
        denominator_for(("Li", "Fe"))
    with pytest.raises(ParameterError, match="did you mean 'Ni'"):
        denominator_for(("Li", "Ni"), ["NI"])


def test_wilson_interval_is_the_score_interval_and_covers():
    from scipy.stats import norm

    k, n, z = 12, 400, norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = interval(p, math.sqrt(p * (1 - p) / n))
    assert (float(lo), float(hi)) == pytest.approx((centre - half, centre + half), rel=1e-9)
    # 95 % coverage of a small proportion over 4000 binomial draws (Wald would undercover)
    rng = np.random.default_rng(1)
    draws = rng.binomial(200, 0.02, 4000) / 200
    sig = np.where(draws > 0, np.sqrt(draws * (1 - draws) / 200), 1 / 200)
    lo, hi = interval(draws, sig)
    assert 0.93 <= np.mean((lo <= 0.02) & (0.02 <= hi)) <= 0.99
    # a ratio to a set without the element maps through q = r / (1 + r)
    lo, hi = interval(2.0, 0.1, proportion=False, method="wald")
    assert (float(lo), float(hi)) == pytest.approx((2 - z * 0.1, 2 + z * 0.1))
    lo, hi = interval(2.0, 0.1, proportion=False)
    assert lo < 2.0 < hi
    with pytest.raises(ParameterError):
        interval(0.5, 0.1, method="exact-ish")


def _coverage(overrides, correct, dead_time, seeds, n_ions=20_000, window=True):
    """±1σ hits of the material truth (the depth profile's ratios) per element."""
    from liprobe.apt.composition import compose
    from liprobe.apt.losses import estimate_dead_time_loss, estimate_window_loss
    from liprobe.apt.overlap_correction import correct_composition
    from liprobe.synth import generate_specimen, get_preset, ncm_ranges

    params = get_preset("ncm-homogeneous", n_ions=n_ions, apex_radius_nm=10.0, **overrides)
    ranges = ncm_ranges(params)
    order = ("Li", "Ni", "Co", "Mn", "O")
    ratio_true = np.array([getattr(params.profile, e.lower())[0] for e in order])
    fraction_true = ratio_true / ratio_true.sum()
    hits = []
    for seed in seeds:
        ions, _ = generate_specimen(params, rng=np.random.default_rng(seed))
        comp = compose(ions, ranges)
        if window:
            comp = estimate_window_loss(ions, ranges).correct(comp)
        if correct:
            comp, _ = correct_composition(ions, ranges, comp)
        if dead_time:
            comp = estimate_dead_time_loss(ions, ranges).correct(comp)
        idx = [comp.elements.index(e) for e in order]
        (f, fs), (r, rs) = comp.fractions(), comp.ratios()
        hits.append(np.concatenate([np.abs(f[idx] - fraction_true) < fs[idx],
                                    np.abs(r[idx] - ratio_true) < rs[idx]]))
    return np.mean(hits, axis=0)


@pytest.mark.slow
@pytest.mark.parametrize(("case", "n_ions"), [("plain", 20_000), ("isotopes", 20_000),
                                              ("isotopes+dead time", 20_000),
                                              ("isotopes", 10_000)])
def test_sigma_covers_the_generator_truth_68_percent_over_400_seeds(case, n_ions):
    """Every element's fraction and ratio: ±1σ covers the truth 0.62-0.74 of the time
    (two-sided: too wide fails as well as too narrow). ``plain``: no overlapping species,
    ranged counts; ``isotopes``: overlaps generated and corrected; with dead time the
    lost ions are estimated from the multi-hit statistics and put back. Window (tail)
    losses are corrected in all. 400 seeds: Monte Carlo SE 0.023, so the band is ±2.6 SE
    around 0.683. At 10 000 ions the O2 2+ share is read from a few ions of its
    isotopologues: the isotope fit's low-count covariance (one ion added to each window's
    variance) keeps the corrected O covered there too."""
    from liprobe.synth import DeadTime

    overrides, correct, dead = {"plain": ({"overlaps": False}, False, False),
                                "isotopes": ({}, True, False),
                                "isotopes+dead time": ({"dead_time": DeadTime(enabled=True)},
                                                       True, True)}[case]
    covered = _coverage(overrides, correct, dead, range(400), n_ions=n_ions)
    assert np.all((covered >= 0.62) & (covered <= 0.74)), covered.round(3)


def test_sigma_covers_the_generator_truth_fast():
    """A quick version: 40 seeds, pooled over elements (SE 0.023)."""
    covered = _coverage({}, True, False, range(1000, 1040), n_ions=15_000)
    assert 0.6 <= covered.mean() <= 0.77, covered.round(3)


def test_wilson_ends_of_a_zero_and_a_full_count_are_exact():
    from scipy.stats import norm

    # 0 or 100 of 100 (σ = 1/100 by the zero rule): Wilson's ends are 0 (or 1) exactly and
    # z² / (n + z²) from the other side
    z2 = norm.ppf(0.975) ** 2
    edge = z2 / (100 + z2)
    lo, hi = interval(0.0, 0.01)
    assert float(lo) == 0.0 and float(hi) == pytest.approx(edge, rel=1e-9)
    lo, hi = interval(1.0, 0.01)
    assert float(hi) == 1.0 and float(lo) == pytest.approx(1 - edge, rel=1e-9)


def test_binomial_interval_is_the_wilson_score_interval_of_k_of_n():
    # the textbook score interval of 12 of 400 at 95 % and 90 %; exact ends at 0 and n
    from scipy.stats import norm

    from liprobe.counting import binomial_interval

    for confidence in (0.95, 0.90):
        k, n, z = 12, 400, norm.ppf(0.5 + confidence / 2)
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        assert binomial_interval(k, n, confidence=confidence) == pytest.approx(
            (centre - half, centre + half), rel=1e-12)
    z2 = norm.ppf(0.975) ** 2
    assert binomial_interval(0, 50) == (0.0, pytest.approx(z2 / (50 + z2), rel=1e-12))
    assert binomial_interval(50, 50) == (pytest.approx(50 / (50 + z2), rel=1e-12), 1.0)
    assert all(math.isnan(v) for v in binomial_interval(0, 0))
    with pytest.raises(ParameterError):
        binomial_interval(1, 10, confidence=1.0)


def test_a_single_atom_still_has_a_fraction_and_a_ratio():
    # one atom in all: f = (1, 0); one atom in the denominator: r = (1, 1, 0)
    f, s = fractions_with_sigma(np.array([1, 0]))
    assert f.tolist() == [1.0, 0.0] and np.all(np.isfinite(s))
    r, rs = ratios_with_sigma(np.array([1, 1, 0]), ("Li", "Ni", "Co"))
    assert r.tolist() == [1.0, 1.0, 0.0] and np.all(np.isfinite(rs))


def test_ratio_interval_is_the_wilson_interval_of_a_over_a_plus_d():
    from scipy.stats import norm

    # r = a / D = 50 / 100 with σ = r sqrt(1/a + 1/D): the interval of q = a / (a + D),
    # Wilson for 50 of 150, mapped back by q / (1 - q)
    z, k, n = norm.ppf(0.975), 50, 150
    q = k / n
    centre = (q + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(q * (1 - q) / n + z * z / (4 * n * n))
    lo_q, hi_q = centre - half, centre + half
    lo, hi = interval(0.5, 0.5 * math.sqrt(1 / 50 + 1 / 100), proportion=False)
    assert (float(lo), float(hi)) == pytest.approx((lo_q / (1 - lo_q), hi_q / (1 - hi_q)),
                                                   rel=1e-9)


@pytest.mark.parametrize("confidence", [0.0, 1.0])
def test_interval_confidence_is_an_open_interval(confidence):
    with pytest.raises(ParameterError, match="confidence"):
        interval(0.5, 0.1, confidence=confidence)


def test_an_empty_denominator_gives_nan_ratios():
    r, s = ratios_with_sigma(np.array([5, 3]), ("Li", "O"), denominator=())
    assert np.isnan(r).all() and np.isnan(s).all()


def test_stacked_bins_are_each_their_own_binomial():
    # two bins of monatomic counts (Li, O, Ni, Co, Mn): each row is its own composition,
    # f = a / N and σ = sqrt(f (1 - f) / N) per row; the ratio to Ni + Co + Mn is
    # r = a / D with σ = r sqrt(1/a + 1/D) outside the set (Li, O)
    a = np.array([[300, 500, 160, 20, 20], [10, 40, 30, 10, 10]])
    f, s = fractions_with_sigma(a)
    n = a.sum(axis=1, keepdims=True).astype(float)
    assert f == pytest.approx(a / n, rel=1e-12)
    assert s == pytest.approx(np.sqrt(a / n * (1 - a / n) / n), rel=1e-9)
    r, rs = ratios_with_sigma(a, ELEMENTS)
    d = a[:, 2:].sum(axis=1, keepdims=True).astype(float)
    assert r == pytest.approx(a / d, rel=1e-12)
    assert rs[:, :2] == pytest.approx((a / d * np.sqrt(1 / a + 1 / d))[:, :2], rel=1e-9)


def test_an_empty_bin_is_nan_without_a_warning():
    # a bin with no atoms at all (pytest turns a RuntimeWarning into an error): NaN fraction
    # and σ there, the other bin unaffected; its interval is NaN too
    a = np.array([[0, 0, 0, 0, 0], [10, 40, 30, 10, 10]])
    f, s = fractions_with_sigma(a)
    assert np.isnan(f[0]).all() and np.isnan(s[0]).all()
    assert f[1] == pytest.approx(a[1] / 100, rel=1e-12)
    r, rs = ratios_with_sigma(a, ELEMENTS)
    assert np.isnan(r[0]).all() and np.isnan(rs[0]).all()
    for proportion in (True, False):
        lo, hi = interval(f[0], s[0], proportion=proportion)
        assert np.isnan(lo).all() and np.isnan(hi).all()


def test_a_named_denominator_and_the_hint_for_a_misspelt_one():
    # one element named as a string is that element, not its letters
    assert denominator_for(ELEMENTS, "Ni") == ("Ni",)
    a = np.array([300, 500, 160, 20, 20])
    r, rs = ratios_with_sigma(a, ELEMENTS, "O")
    assert r == pytest.approx(a / 500, rel=1e-12)
    assert rs[0] == pytest.approx(300 / 500 * math.sqrt(1 / 300 + 1 / 500), rel=1e-9)
    for wrong, meant in (("Nix", "Ni"), ("co", "Co")):
        with pytest.raises(ParameterError, match=f"did you mean '{meant}'"):
            denominator_for(ELEMENTS, (wrong,))

"""Li quality checks: truth is what the generator was told to do (dead time, Li trend)."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.quality import check_quality, natural_li_ratio
from liprobe.data import IonTable
from liprobe.synth import DeadTime, generate_specimen, get_preset, ncm_ranges


def _run(seed=3, **overrides):
    params = get_preset("ncm-homogeneous", apex_radius_nm=12.0, n_ions=300_000, **overrides)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(seed))
    return ions, truth, ncm_ranges(params)


def test_natural_ratio_is_the_iupac_best_measurement():
    # IUPAC best measurement of a single terrestrial source (NIST): 6Li 7.59 %, 7Li 92.41 %
    assert natural_li_ratio() == pytest.approx(0.0759 / 0.9241, rel=1e-9)


@pytest.mark.parametrize("seed", [3, 4])
def test_clean_specimen_passes_every_check(seed):
    ions, _, ranges = _run(seed)
    report = check_quality(ions, ranges)
    assert report.verdict == "pass", [c.message for c in report.checks]
    names = {c.name for c in report.checks}
    assert names == {"li_isotope_ratio", "multi_hit_fraction", "li_same_species_multihits",
                     "li_trend", "o_metal"}
    iso = report["li_isotope_ratio"]
    assert iso.interval[0] <= natural_li_ratio() <= iso.interval[1]
    # the generator's O/metal is 1.90 minus the O it loses to neutrals: below 2, above 1.6
    assert 1.6 < report["o_metal"].value < 2.0


def test_dead_time_loss_is_flagged():
    ions, truth, ranges = _run(dead_time=DeadTime(enabled=True))
    assert truth.lost_atom_counts["Li"] > 0
    report = check_quality(ions, ranges)
    assert report.verdict == "warn"
    pairs = report["li_same_species_multihits"]
    assert pairs.verdict == "warn" and pairs.interval[1] < 0.9
    # 7Li is the isotope lost: the 6Li/7Li ratio moves up, never down
    assert report["li_isotope_ratio"].value > natural_li_ratio()


def test_li_trend_along_z_is_flagged_with_its_slope():
    trend = 0.01  # generator: Li ratio x (1 + 0.01 (z - L/2)) per nm
    ions, _, ranges = _run(li_trend_per_nm=trend)
    check = check_quality(ions, ranges)["li_trend"]
    assert check.verdict == "warn"
    # d(Li/metal)/dz = 1.03 x trend for the uniform profile (Li ratio 1.03)
    assert check.interval[0] <= 1.03 * trend <= check.interval[1]


def test_isotope_check_flags_a_removed_7li_share(rng):
    # hand-made: natural Li with 20 % of the 7Li removed -> ratio x 1.25
    r0 = natural_li_ratio()
    n = 200_000
    is6 = rng.random(n) < r0 / (1 + r0)
    keep = is6 | (rng.random(n) > 0.2)
    mass = np.where(is6, 6.015, 7.016)[keep] + rng.normal(0, 0.01, keep.sum())
    metal = np.full(keep.sum(), 28.97)
    mass = np.concatenate([mass, metal]).astype(np.float32)
    from liprobe.data import Ion, RangeTable

    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
                        [5.9, 6.9, 28.8], [6.2, 7.2, 29.2], [0, 0, 1])
    xyz = np.zeros((mass.size, 3), np.float32)
    xyz[:, 2] = np.linspace(0, 50, mass.size)
    report = check_quality(IonTable(xyz, mass), ranges)
    iso = report["li_isotope_ratio"]
    assert iso.verdict == "warn"
    assert iso.details["implied_7li_loss"] == pytest.approx(0.2, abs=0.03)
    assert {name for name, _ in report.skipped} >= {"multi_hit_fraction", "o_metal"}


def test_o_metal_uses_a_given_overlap_corrected_composition():
    from liprobe.apt.composition import compose
    from liprobe.apt.overlap_correction import correct_composition

    ions, truth, ranges = _run(5)  # overlaps on: O2 2+ hides under O+ at 16 Da
    fixed, _ = correct_composition(ions, ranges, compose(ions, ranges))
    true = truth.element_counts()
    true_o_metal = true["O"] / (true["Ni"] + true["Co"] + true["Mn"])
    naive = check_quality(ions, ranges)["o_metal"]
    corrected = check_quality(ions, ranges, composition=fixed)["o_metal"]
    # ranged as is, O/metal is biased low well beyond its counting error ...
    assert true_o_metal - naive.value > 5 * naive.details["sigma"]
    # ... the corrected composition brings it to the truth within its share uncertainty
    assert abs(corrected.value - true_o_metal) < abs(naive.value - true_o_metal) / 3
    assert "overlap-corrected" in corrected.message


def test_li_isotope_check_against_a_given_source_abundance():
    ions, _, ranges = _run(4)
    assert check_quality(ions, ranges)["li_isotope_ratio"].verdict == "pass"
    # the same natural-abundance data against a 6Li-depleted source (4.85 % 6Li): 60 % too much 6Li
    depleted = 0.0485 / 0.9515
    check = check_quality(ions, ranges, expected_li6_li7=depleted)["li_isotope_ratio"]
    assert check.verdict == "warn"
    assert check.expected == pytest.approx(depleted)
    assert check.value / depleted - 1 == pytest.approx(0.0759 / 0.9241 / depleted - 1, abs=0.1)


def test_precomputed_species_give_the_same_report_and_are_checked():
    from liprobe.apt.ranging import species_per_ion
    from liprobe.errors import ParameterError

    ions, _, ranges = _run(3)
    species = species_per_ion(ions, ranges)
    fresh, reused = check_quality(ions, ranges), check_quality(ions, ranges, species=species)
    assert [(c.name, c.value) for c in fresh.checks] == [(c.name, c.value) for c in reused.checks]
    with pytest.raises(ParameterError, match="one index below"):
        check_quality(ions, ranges, species=species[:-1])
    with pytest.raises(ParameterError, match="one index below"):
        check_quality(ions, ranges, species=np.full(ions.n_ions, ranges.n_ions))


def test_multi_hit_checks_without_li_say_so_not_that_the_field_is_missing():
    from liprobe.data import Ion, RangeTable

    mass = np.full(100, 28.97, np.float32)
    ions = IonTable(np.zeros((100, 3), np.float32), mass,
                    {"ions_per_pulse": np.ones(100, np.int32)})
    ranges = RangeTable((Ion("Ni", (("Ni", 1),)),), [28.8], [29.2], [0])
    reasons = dict(check_quality(ions, ranges).skipped)
    assert reasons["multi_hit_fraction"] == "no Li in the range table"
    assert reasons["li_same_species_multihits"] == "no Li in the range table"
    without_field = dict(check_quality(IonTable(ions.xyz_nm, mass), ranges).skipped)
    assert "no ions_per_pulse field" in without_field["multi_hit_fraction"]


def test_holm_and_benjamini_hochberg_follow_their_definitions():
    from liprobe.apt.quality import adjust_p_values

    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # Holm: sorted p times (m, m-1, ...), running maximum, capped at 1 (m = 4 finite)
    ranked = np.sort(p[:4])
    holm = np.maximum.accumulate(ranked * np.array([4, 3, 2, 1]))
    got = adjust_p_values(p, "holm")
    np.testing.assert_allclose(np.sort(got[:4]), holm)
    assert np.isnan(got[4])
    # BH: p_(i) m / i, running minimum from the top
    bh = np.minimum.accumulate((ranked * 4 / np.arange(1, 5))[::-1])[::-1]
    np.testing.assert_allclose(np.sort(adjust_p_values(p, "bh")[:4]), np.sort(bh))


def test_multiplicity_correction_keeps_clean_checks_quiet():
    from liprobe.apt.quality import QualityCheck, decide

    rng = np.random.default_rng(0)
    # 350 checks of a clean study: uniform p-values, every deviation beyond tolerance
    checks = [QualityCheck("c", "pass", 0.0, (0, 0), 0.0, "m", p_value=float(p))
              for p in rng.random(350)]
    assert sum(c.verdict == "warn" for c in decide(checks)) == 0
    assert sum(float(c.p_value) < 0.05 for c in checks) > 10  # uncorrected: ~17 alarms
    # a real problem still warns; a significant but tiny deviation does not
    real = QualityCheck("c", "pass", 0.0, (0, 0), 0.0, "m", p_value=1e-9)
    tiny = QualityCheck("c", "pass", 0.0, (0, 0), 0.0, "m", p_value=1e-9,
                        exceeds_tolerance=False)
    verdicts = [c.verdict for c in decide([*checks, real, tiny])]
    assert verdicts[-2:] == ["warn", "pass"]


def test_an_excess_of_li_li_pairs_warns():
    """Pulses made of Li pairs (correlated evaporation): a pair ratio near 2 must warn."""
    from liprobe.data import Ion, RangeTable

    rng = np.random.default_rng(3)
    n_pulses = 30_000
    size = np.where(rng.random(n_pulses) < 0.2, 2, 1)
    li_pulse = rng.random(n_pulses) < 0.3
    # multi-hit pulses: both ions Li in Li pulses, both Ni otherwise (partners correlated)
    is_li = np.repeat(li_pulse, size)
    mass = np.where(is_li, 7.016, 58.93).astype(np.float32)
    ipp = np.zeros(mass.size, np.int32)
    ipp[np.concatenate([[0], np.cumsum(size)[:-1]])] = size
    xyz = rng.uniform(0, 20, (mass.size, 3)).astype(np.float32)
    ions = IonTable(xyz, mass, {"ions_per_pulse": ipp})
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
                        [6.9, 58.7], [7.2, 59.2], [0, 1])
    pairs = check_quality(ions, ranges)["li_same_species_multihits"]
    assert pairs.value > 1.8
    assert pairs.verdict == "warn" and "excess" in pairs.message


def test_li_trend_allows_the_expected_depth_gradient():
    """A surface specimen of a cycled particle has a real Li gradient (the generator's
    depth profile): tested as homogeneous it warns, against the profile it passes."""
    params = get_preset("ncm-300cycles-surface", apex_radius_nm=8.0, n_ions=300_000)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(2))
    ranges = ncm_ranges(params)
    profile = params.profile

    def expected(x_nm):
        return np.interp(params.specimen_depth_nm + x_nm, profile.depth_nm, profile.li)

    flat = check_quality(ions, ranges)["li_trend"]
    assert flat.verdict == "warn" and "homogeneous" in flat.message
    against = check_quality(ions, ranges, expected_li_ratio=expected)["li_trend"]
    assert against.verdict == "pass", against.message
    assert "fitted depth profile" in against.message

"""The expert range file: ranging a synthetic specimen recovers its truth (acceptance)."""

from __future__ import annotations

import json
import math

import numpy as np
import periodictable
import pytest

from liprobe.apt.composition import compose
from liprobe.apt.ranging import check_overlaps, species_per_ion
from liprobe.synth import ncm_ranges


def _natural_li6_over_li7() -> float:
    # IUPAC best measurement of a single terrestrial source (NIST): 7.59 % / 92.41 %
    return 0.0759 / 0.9241


def _compare(ions, truth, ranges):
    """Ranged atom fractions vs the true atom fractions of the same ranged ions."""
    measured = compose(ions, ranges)
    ranged = species_per_ion(ions, ranges) >= 0
    true_counts = truth.element_counts(ranged)
    n_true = sum(true_counts.values())
    rows = {}
    for element in ("Li", "Ni", "Co", "Mn", "O"):
        c_true = true_counts[element] / n_true
        c_meas = measured.fraction(element)
        rows[element] = dict(true=c_true, measured=c_meas, sigma=measured.fraction_sigma(element),
                             relative_bias=(c_meas - c_true) / c_true)
    return rows, measured, true_counts


def test_ranges_are_disjoint_and_ions_match_truth(specimen_default):
    params, _, truth = specimen_default
    ranges = ncm_ranges(params)
    check_overlaps(ranges)  # raises on overlapping ranges
    assert ranges.ions == truth.ions
    # every major isotope peak is ranged: 6Li, 7Li, 16O, 58Ni2+, 59Co2+, 55Mn2+, 58Ni+
    for mass in (6.0151, 7.0160, 15.9949, 28.9677, 29.4666, 27.4690, 57.9353, 31.9898):
        assert np.any((ranges.low_da <= mass) & (mass < ranges.high_da)), mass


def test_ranging_without_overlaps_recovers_truth_within_2_sigma(specimen_no_overlaps):
    params, ions, truth = specimen_no_overlaps
    rows, measured, _ = _compare(ions, truth, ncm_ranges(params))
    for element, row in rows.items():
        assert abs(row["measured"] - row["true"]) <= 2 * row["sigma"], (element, row)
    # and the ranged ratios recover the generating ratios (per total metal)
    tm = sum(measured.atoms(el) for el in ("Ni", "Co", "Mn"))
    assert measured.atoms("Li") / tm == pytest.approx(1.03, rel=0.02)
    assert measured.unranged_fraction < 0.05


def test_overlap_bias_is_measured_and_reported(specimen_default, artifact_dir):
    params, ions, truth = specimen_default
    rows, _, true_counts = _compare(ions, truth, ncm_ranges(params))
    report = {el: {k: round(v, 6) for k, v in row.items()} for el, row in rows.items()}
    print("overlap bias (ranged vs true atom fraction):", json.dumps(report))
    (artifact_dir / "synth_overlap_bias.json").write_text(json.dumps(report, indent=1))
    # independent prediction of the two overlaps: 64Ni2+ ions (0.93 % of Ni2+, 55 % of Ni)
    # sit under the O2+ range (Ni -1, O +2 each); 16O2 2+ ions (99.5 % of O2 2+) sit under
    # the O+ range (O -1 each)
    a64 = periodictable.Ni[64].abundance / 100
    ni_ranged = true_counts["Ni"]
    lost_ni = 0.55 * a64 * ni_ranged
    n_true = sum(true_counts.values())
    sp = {s.name: k for k, s in enumerate(truth.species)}
    o2_2plus = np.sum(truth.species_index == sp["O2 2+"])
    # O: +2 atoms per 64Ni2+ counted as O2, -1 per 16O2 2+ counted as O (O+ range)
    expected_o_delta = 2 * lost_ni - o2_2plus * 0.995
    expected_n_atoms = n_true + lost_ni - o2_2plus * 0.995
    expected_ni = (true_counts["Ni"] - lost_ni) / expected_n_atoms
    expected_o = (true_counts["O"] + expected_o_delta) / expected_n_atoms
    # O2 2+ read as O+ loses O atoms, so O is under-counted and every metal over-counted
    assert rows["O"]["relative_bias"] < -0.02
    assert all(rows[el]["relative_bias"] > 0.02 for el in ("Li", "Ni", "Co", "Mn"))
    assert rows["Ni"]["measured"] == pytest.approx(expected_ni, abs=4 * rows["Ni"]["sigma"])
    assert rows["O"]["measured"] == pytest.approx(expected_o, abs=4 * rows["O"]["sigma"])


def test_spectrum_peaks_and_lithium_isotope_ratio(specimen_default, artifact_dir):
    params, ions, truth = specimen_default
    mass = ions.mass_to_charge_da
    edges = np.arange(0.5, 100.0, 0.005)
    hist, _ = np.histogram(mass, bins=edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    # peak maxima at the isotope masses (AME 2020), within one bin and a bit
    for expected in (6.01512, 7.01600, 15.99491, 27.46902, 28.96767, 29.46660, 29.96539,
                     31.98983, 54.93804, 57.93534):
        window = np.abs(centres - expected) < 0.1
        top = centres[window][np.argmax(hist[window])]
        assert abs(top - expected) < 0.012, expected
    # tail: more counts just above a peak than just below it (7Li+)
    above = np.sum((mass > 7.016 + 0.02) & (mass < 7.016 + 0.08))
    below = np.sum((mass < 7.016 - 0.02) & (mass > 7.016 - 0.08))
    assert above > 3 * below
    # background floor between peaks (no species between 40 and 50 Da)
    floor = np.sum((mass > 40) & (mass < 50))
    assert floor > 0
    # 6Li/7Li within counting error of natural
    ranges = ncm_ranges(params)
    index = species_per_ion(ions, ranges)
    li = index == ranges.ion_names.index("Li")
    n6 = int(np.sum(li & (mass < 6.5)))
    n7 = int(np.sum(li & (mass > 6.5)))
    ratio, natural = n6 / n7, _natural_li6_over_li7()
    assert abs(ratio - natural) < 2 * ratio * math.sqrt(1 / n6 + 1 / n7)
    # O2+ isotope pattern: 16O18O / 16O16O = 2 * a18 / a16
    o34 = np.sum((mass > 33.95) & (mass < 34.2))
    o32 = np.sum((mass > 31.9) & (mass < 32.2)) * (1 - 0.0093 * 0.2)  # minus a little 64Ni2+
    expected = 2 * periodictable.O[18].abundance / periodictable.O[16].abundance
    assert o34 / o32 == pytest.approx(expected, rel=4 / math.sqrt(o34))
    _plot_spectrum(mass, ranges, artifact_dir / "synth_default_spectrum.png")


def _plot_spectrum(mass, ranges, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.hist(mass, bins=np.arange(0.5, 100, 0.02), histtype="step", color="k", lw=0.6)
    for lo, hi, k in zip(ranges.low_da, ranges.high_da, ranges.ion_index):
        ax.axvspan(lo, hi, color=ranges.ions[k].color, alpha=0.3, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("mass-to-charge (Da)")
    ax.set_ylabel("counts / 0.02 Da")
    ax.set_title("synthetic NCM811 specimen (default), ranges shaded")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    assert path.stat().st_size > 10_000

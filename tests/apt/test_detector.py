"""Detector-space analyses against the synthetic truth and closed-form physics."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.detector import (
    correlation_histogram,
    detector_hit_map,
    dissociation_track,
    match_track,
    pulse_pairs,
    same_isotope_pair_deficit,
    voltage_curve,
)
from liprobe.synth import DeadTime
from liprobe.synth.detector import generate_detector_run
from liprobe.synth.detector_params import DetectorRun, Dissociation, detector_specimen

LI, O16 = 7.016004, 15.994915
EVAPORATION = {"Li+": 0.8, "LiO+": 0.2, "Ni2+": 0.55, "Ni+": 0.35, "NiO+": 0.1, "Co2+": 0.6,
               "Co+": 0.4, "Mn2+": 0.6, "Mn+": 0.4, "O+": 0.4, "O2+": 0.45, "O2 2+": 0.15}


@pytest.fixture(scope="module")
def dissociating():
    run = DetectorRun(detector_specimen(n_ions=250_000, evaporation=EVAPORATION,
                                        dead_time=DeadTime(enabled=True)),
                      dissociations=(Dissociation(fraction=0.5),))
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(51))
    f = ions.fields
    pairs = pulse_pairs(ions.mass_to_charge_da, f["ions_per_pulse"],
                        detector_x_mm=f["detector_x_mm"], detector_y_mm=f["detector_y_mm"])
    return run, ions, truth, pairs


def test_track_closed_form():
    t = dissociation_track(parent_mass_da=LI + O16, parent_charge=1, first_mass_da=LI,
                           first_charge=1)
    # alpha -> 0: Li+ at its own m/q; the neutral O at M / alpha
    np.testing.assert_allclose(t.second_da, (LI + O16) / t.alpha, rtol=1e-12)
    assert t.first_da[0] == pytest.approx(LI / (t.alpha[0] * LI / (LI + O16) + 1 - t.alpha[0]))
    np.testing.assert_allclose(t.second_at(t.first_da), t.second_da, rtol=1e-9)


def test_saxey_plot_shows_the_lio_track_where_theory_puts_it(dissociating):
    _, ions, _, pairs = dissociating
    hist = correlation_histogram(pairs, ions.fields["ions_per_pulse"], range_da=(0, 120),
                                 bin_da=0.5)
    track = dissociation_track(parent_mass_da=LI + O16, parent_charge=1, first_mass_da=LI,
                               first_charge=1)
    match = match_track(pairs, track)
    assert match.enrichment > 5
    assert abs(match.median_offset_da) < 0.1
    # the ridge: in each Li-fragment column, the densest O bin sits on the curve
    centres = 0.5 * (hist.edges_da[1:] + hist.edges_da[:-1])
    for m1 in (9.0, 11.0, 14.0, 17.0):
        col = int(m1 / 0.5)
        predicted = float(track.second_at(np.array([centres[col]]))[0])
        rows = (centres > 24) & (centres < 120)
        ridge = centres[rows][np.argmax(hist.counts[col, rows])]
        assert ridge == pytest.approx(predicted, rel=0.05)
    control = dissociation_track(parent_mass_da=57.935 + O16, parent_charge=1,
                                 first_mass_da=57.935, first_charge=1)
    assert match_track(pairs, control).enrichment < 2


def test_pairs_count_every_pair_of_a_pulse(dissociating):
    _, ions, _, pairs = dissociating
    k = ions.fields["ions_per_pulse"].astype(np.int64)
    assert pairs.n_pairs == int(np.sum(k * (k - 1) // 2))
    assert np.all(pairs.mass_low_da <= pairs.mass_high_da)


def test_dead_time_signature(dissociating):
    _, _, truth, pairs = dissociating
    assert truth.n_lost_dead_time > 0
    deficit = same_isotope_pair_deficit(pairs)
    assert deficit.deficit_fraction > 0.8
    run = DetectorRun(detector_specimen(n_ions=250_000))
    ions, _ = generate_detector_run(run, rng=np.random.default_rng(52))
    f = ions.fields
    free = same_isotope_pair_deficit(pulse_pairs(
        ions.mass_to_charge_da, f["ions_per_pulse"], detector_x_mm=f["detector_x_mm"],
        detector_y_mm=f["detector_y_mm"]))
    assert abs(free.deficit_fraction) < 3 * free.deficit_sigma + 0.1


def test_hit_map_and_voltage_curve(dissociating):
    run, ions, truth, _ = dissociating
    f = ions.fields
    hit_map = detector_hit_map(f["detector_x_mm"], f["detector_y_mm"])
    assert hit_map.field_of_view_radius_mm == pytest.approx(
        run.specimen.detector_radius_mm, rel=0.03)
    assert hit_map.counts.sum() == ions.n_ions
    curve = voltage_curve(f["dc_voltage_kv"])
    sp = run.specimen
    assert curve.start_kv == pytest.approx(
        sp.field_factor * sp.evaporation_field_v_per_nm * sp.apex_radius_nm * 1e-3, rel=0.01)
    assert curve.slope_kv_per_million > 0

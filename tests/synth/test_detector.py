"""Detector-space synthesis: the point-projection geometry, voltages and times of flight."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.errors import ParameterError
from liprobe.synth._detection import AMU_KG, E_CHARGE_C
from liprobe.synth.detector import generate_detector_run, write_detector_run
from liprobe.synth.detector_params import DetectorRun, Dissociation, MarkerLayer, detector_specimen


@pytest.fixture(scope="module")
def planes_run():
    run = DetectorRun(detector_specimen(n_ions=60_000), lattice_spacing_nm=0.473,
                      plane_jitter_nm=0.0, marker_layers=(MarkerLayer(5.0, 3.0),))
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(5))
    return run, ions, truth


def test_hits_invert_to_the_true_positions(planes_run):
    run, ions, truth = planes_run
    sp = run.specimen
    x, y = ions.fields["detector_x_mm"].astype(float), ions.fields["detector_y_mm"].astype(float)
    real = ~truth.is_background
    distance = np.hypot(x, y)
    assert distance.max() <= sp.detector_radius_mm * (1 + 1e-6)
    theta = run.icf * np.arctan(distance / sp.flight_length_mm)  # point projection
    r = truth.radius_nm.astype(float)
    rho = np.hypot(truth.position_nm[:, 0], truth.position_nm[:, 1])
    np.testing.assert_allclose(rho[real], (r * np.sin(theta))[real], atol=2e-3)
    depth = truth.apex_depth_nm + r * (1 - np.cos(theta))
    np.testing.assert_allclose(-truth.position_nm[real, 2], depth[real], atol=2e-3)


def test_voltage_follows_the_cap_radius_and_the_shank(planes_run):
    run, ions, truth = planes_run
    sp = run.specimen
    v = ions.fields["dc_voltage_kv"].astype(float) * 1e3
    np.testing.assert_allclose(v, sp.field_factor * sp.evaporation_field_v_per_nm
                               * truth.radius_nm, rtol=1e-5)
    s = math.sin(math.radians(sp.shank_angle_deg))
    np.testing.assert_allclose(truth.radius_nm, sp.apex_radius_nm
                               + truth.apex_depth_nm * s / (1 - s), rtol=1e-5)
    assert np.all(np.diff(truth.apex_depth_nm) >= 0)  # evaporation order


def test_events_per_depth_follow_the_cap_geometry():
    """n = n_ev * pi * G * integral R^2 da, with G the projected cap area (independent)."""
    run = DetectorRun(detector_specimen(n_ions=80_000, shank_angle_deg=0.0,
                                        background_fraction=0.0))
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(1))
    omega = truth.atomic_volume_nm3
    eta = run.specimen.detection_efficiency
    theta = run.field_of_view_half_angle_rad
    volume = math.pi * (25.0 * math.sin(theta)) ** 2 * float(truth.apex_depth_nm[-1])
    assert ions.n_ions * omega / eta == pytest.approx(volume, rel=0.02)


def test_file_mass_is_the_time_of_flight_mass(planes_run):
    run, ions, _ = planes_run
    t = ions.fields["tof_ns"].astype(float) * 1e-9
    v = ions.fields["dc_voltage_kv"].astype(float) * 1e3
    length = run.specimen.flight_length_mm * 1e-3
    mass = 2 * E_CHARGE_C * v * t**2 / length**2 / AMU_KG
    np.testing.assert_allclose(ions.mass_to_charge_da, mass, rtol=2e-5)


def test_bowl_and_voltage_errors_shift_the_mass_as_specified():
    base = dict(n_ions=60_000, thermal_tail_fraction=0.0, background_fraction=0.0)
    run = DetectorRun(detector_specimen(**base), bowl_error=0.5, voltage_offset_kv=0.05)
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(2))
    d2 = ions.fields["detector_x_mm"].astype(float) ** 2 + ions.fields["detector_y_mm"] ** 2
    v = ions.fields["dc_voltage_kv"].astype(float)
    ratio = ions.mass_to_charge_da / truth.true_mass_to_charge_da
    expected = (1 + 0.5 * d2 / 100.0**2) * v / (v - 0.05)
    assert np.median(ratio / expected) == pytest.approx(1.0, abs=2e-4)


def test_atoms_sit_on_planes_and_markers_where_placed(planes_run):
    run, _, truth = planes_run
    depth = -truth.position_nm[~truth.is_background, 2].astype(float)
    phase = np.abs((depth / 0.473 + 0.5) % 1 - 0.5)
    assert np.median(phase) < 0.02
    co = np.array(["Co" in s.name for s in
                   __import__("liprobe.synth._chemistry", fromlist=["x"]).build_peak_table(
                       run.specimen.species_fractions).species])
    is_co = np.zeros(truth.species_index.shape, bool)
    ok = truth.species_index >= 0
    is_co[ok] = co[truth.species_index[ok]]
    d = -truth.position_nm[:, 2]
    inside = (d > 5.3) & (d < 7.7)
    outside = (d > 10) | (d < 4)
    assert is_co[inside].mean() > 2.5 * is_co[outside].mean()


def test_dissociation_fragments_share_a_pulse():
    ev = {"Li+": 0.7, "LiO+": 0.3, "Ni2+": 0.6, "Ni+": 0.4, "Co2+": 1, "Mn2+": 1, "O+": 0.5,
          "O2+": 0.5}
    run = DetectorRun(detector_specimen(n_ions=40_000, evaporation=ev, overlaps=False),
                      dissociations=(Dissociation(fraction=1.0),))
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(3))
    frag = np.flatnonzero(truth.is_fragment)
    assert frag.size > 1000 and frag.size % 2 == 0
    first, second = frag[0::2], frag[1::2]
    np.testing.assert_array_equal(second, first + 1)
    mult = ions.fields["ions_per_pulse"]
    starts = np.flatnonzero(mult > 0)
    pulse = np.searchsorted(starts, np.arange(ions.n_ions), side="right")
    np.testing.assert_array_equal(pulse[first], pulse[second])
    # the charged fragment lies between its own m/q and the parent's
    m1 = ions.mass_to_charge_da[first]
    assert np.all((m1 > 6.9) & (m1 < 23.2))


def test_write_detector_run_keeps_the_fields(tmp_path, planes_run):
    from liprobe.io import read_ions
    from liprobe.synth import ncm_ranges

    run, ions, truth = planes_run
    written = write_detector_run(tmp_path / "run.epos", ions, ncm_ranges(run.specimen), truth)
    back = read_ions(written["ions"])
    np.testing.assert_array_equal(back.fields["detector_x_mm"], ions.fields["detector_x_mm"])
    assert written["truth_npz"].exists() and written["truth_json"].exists()
    with pytest.raises(ParameterError, match="epos"):
        write_detector_run(tmp_path / "run.pos", ions, ncm_ranges(run.specimen))


def test_parameters_are_validated():
    with pytest.raises(ParameterError, match="field of view"):
        DetectorRun(detector_specimen(detector_radius_mm=200.0), icf=3.0)
    with pytest.raises(ParameterError, match="first_fragment"):
        Dissociation(parent="LiO+", first_fragment=(("Ni", 1),))
    with pytest.raises(ParameterError):
        MarkerLayer(1.0, -2.0)

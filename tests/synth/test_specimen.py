"""generate_specimen against physics and the generator's known inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import constants

from liprobe.errors import ParameterError
from liprobe.synth import (
    Cluster,
    DeadTime,
    DepthProfile,
    LineFeature,
    SpecimenParams,
    generate_specimen,
    paper_profile,
)
from liprobe.synth._geometry import cone_volume_nm3

SMALL = dict(apex_radius_nm=8.0, shank_angle_deg=2.0)


def _ratio_and_sigma(counts: dict[str, int], element: str) -> tuple[float, float]:
    tm = counts["Ni"] + counts["Co"] + counts["Mn"]
    r = counts[element] / tm
    return r, r * math.sqrt(1 / max(counts[element], 1) + 1 / tm)


def test_detected_atoms_follow_density_times_efficiency(rng):
    params = SpecimenParams(apex_radius_nm=10.0, shank_angle_deg=5.0, length_nm=20.0)
    ions, truth = generate_specimen(params, rng=rng)
    volume = cone_volume_nm3(10.0, math.tan(math.radians(5.0)), 20.0)
    expected_atoms = 119.0 * 0.37 * volume
    atoms = sum(truth.composition.total_atom_counts().values())
    assert atoms == pytest.approx(expected_atoms, rel=0.015)
    assert truth.length_nm == 20.0
    assert truth.is_background.mean() == pytest.approx(0.01, abs=0.002)


def test_n_ions_sizing_is_exact(rng):
    ions, truth = generate_specimen(SpecimenParams(n_ions=12_345), rng=rng)
    assert ions.n_ions == 12_345 == truth.ion_index.shape[0]


def test_true_composition_matches_generating_ratios(specimen_no_overlaps):
    params, ions, truth = specimen_no_overlaps
    counts = truth.composition.total_atom_counts()
    assert counts == truth.element_counts()
    for element, target in (("Li", 1.03), ("Ni", 0.80), ("Co", 0.15), ("Mn", 0.05),
                            ("O", 1.90)):
        r, sigma = _ratio_and_sigma(counts, element)
        assert abs(r - target) < 4 * sigma, element


def test_depth_profile_of_a_300_cycle_surface_specimen(rng):
    params = SpecimenParams(**SMALL, length_nm=60.0, profile=paper_profile(300))
    _, truth = generate_specimen(params, rng=rng, truth_bin_nm=5.0)
    comp = truth.composition
    counts, li, tm = comp.atom_counts, comp.atom_counts[:, 0], comp.atom_counts[:, 1:4].sum(1)
    assert counts.shape == (12, 5)
    for k, (lo, hi) in enumerate(zip(comp.depth_edges_nm[:-1], comp.depth_edges_nm[1:])):
        if hi > truth.length_nm:
            break
        # the bin's expected ratio: the profile averaged over the bin (uniform in z to
        # within the cone's slight widening)
        expected = params.profile.mean_ratios(lo, hi)["Li"]
        sigma = max(expected, 0.02) * math.sqrt(1 / max(li[k], 1) + 1 / tm[k])
        assert abs(li[k] / tm[k] - expected) < 4 * sigma, (lo, hi)
    top = li[:3].sum() / tm[:3].sum()
    assert top == pytest.approx(0.03, abs=0.006)  # Li-depleted top 15 nm


def test_li_trend_artefact_changes_generated_not_material(rng):
    params = SpecimenParams(**SMALL, length_nm=40.0, li_trend_per_nm=0.01)
    _, truth = generate_specimen(params, rng=rng, truth_bin_nm=4.0)
    comp = truth.composition
    assert np.allclose(comp.material_ratios[:, 0], 1.03)
    measured = comp.counted_ratios()[:, 0]
    slope = np.polyfit(comp.depth_centers_nm, measured, 1)[0]
    assert slope == pytest.approx(0.01 * 1.03, rel=0.15)


def test_line_feature_and_cluster_enrichment(rng):
    line = LineFeature((0, 0, 0), (0, 0, 30), radius_nm=2.0, li_enrichment=4.0)
    cluster = Cluster((4, 4, 15), radius_nm=2.0, element="Mn", enrichment=5.0)
    params = SpecimenParams(**SMALL, length_nm=30.0, line_features=(line,), clusters=(cluster,))
    _, truth = generate_specimen(params, rng=rng)
    pos = truth.position_nm
    rho = np.hypot(pos[:, 0], pos[:, 1])
    inside = truth.element_counts(rho < 1.9)
    outside = truth.element_counts(rho > 2.1)
    r_in, s_in = _ratio_and_sigma(inside, "Li")
    r_out, s_out = _ratio_and_sigma(outside, "Li")
    assert abs(r_in - 4 * 1.03) < 4 * s_in
    assert abs(r_out - 1.03) < 4 * s_out
    d = np.linalg.norm(pos - np.array([4, 4, 15], np.float32), axis=1)
    counts = truth.element_counts(d < 1.9)
    mn_share = counts["Mn"] / (counts["Ni"] + counts["Co"] + counts["Mn"])
    assert mn_share == pytest.approx(0.25 / 1.20, abs=0.05)  # Mn 0.05*5 of TM 0.8+0.15+0.25


def test_epos_fields_follow_time_of_flight_physics(specimen_default):
    params, ions, truth = specimen_default
    f = ions.fields
    for name in ("tof_ns", "dc_voltage_kv", "pulse_voltage_kv", "detector_x_mm",
                 "detector_y_mm", "pulses_since_last", "ions_per_pulse"):
        assert name in f
    volts = f["dc_voltage_kv"].astype(np.float64) * 1e3
    t_s = f["tof_ns"].astype(np.float64) * 1e-9
    length_m = params.flight_length_mm * 1e-3
    mass_da = 2 * constants.e * volts * t_s**2 / length_m**2 / constants.atomic_mass
    assert np.allclose(mass_da, ions.mass_to_charge_da, rtol=2e-5)
    assert np.all(f["pulse_voltage_kv"] == 0)  # laser mode
    assert np.all(np.diff(f["dc_voltage_kv"]) >= 0)  # voltage rises as the tip blunts
    # V = k F R at the apex: 3.3 * 25 V/nm * 25 nm
    assert f["dc_voltage_kv"][0] == pytest.approx(3.3 * 25 * 25 / 1e3, rel=1e-3)
    assert ions.xyz_nm.dtype == np.float32 and ions.mass_to_charge_da.dtype == np.float32


def test_multi_hit_convention_and_pulses(specimen_default):
    params, ions, _ = specimen_default
    ipp = ions.fields["ions_per_pulse"]
    psl = ions.fields["pulses_since_last"]
    first = np.flatnonzero(ipp > 0)
    assert ipp.sum() == ions.n_ions and first[0] == 0
    # n on the first ion, then n - 1 zeros
    assert np.array_equal(np.diff(np.append(first, ions.n_ions)), ipp[first])
    n_events = first.size
    multi = np.mean(ipp[first] > 1)
    assert abs(multi - 0.15) < 4 * math.sqrt(0.15 * 0.85 / n_events)
    assert np.all(psl[ipp == 0] == 0)
    assert psl[first].mean() == pytest.approx(1 / 0.005, rel=0.02)
    # ions of one pulse land close together on the detector
    second = first[ipp[first] > 1] + 1
    gap = np.hypot(ions.fields["detector_x_mm"][second] - ions.fields["detector_x_mm"][second - 1],
                   ions.fields["detector_y_mm"][second] - ions.fields["detector_y_mm"][second - 1])
    assert np.median(gap) < 3.0


def test_thermal_tail_delays_a_fraction_of_ions(specimen_default):
    params, ions, truth = specimen_default
    real = ~truth.is_background
    volts = ions.fields["dc_voltage_kv"][real].astype(np.float64) * 1e3
    m_true = truth.true_mass_to_charge_da[real].astype(np.float64)
    t_true = params.flight_length_mm * 1e-3 * np.sqrt(
        m_true * constants.atomic_mass / (2 * constants.e * volts)) * 1e9
    delay = ions.fields["tof_ns"][real] - t_true
    # Gaussian core is symmetric; the tail adds fraction * mean delay on average
    expected = params.thermal_tail_fraction * params.thermal_tail_ns
    sem = delay.std() / math.sqrt(delay.size)
    assert abs(delay.mean() - expected) < 5 * sem + 0.02
    # skewed toward late arrival (higher m/q)
    assert np.mean(delay > 3 * params.thermal_tail_ns) > 2 * np.mean(delay < -3 *
                                                                      params.thermal_tail_ns)


def test_background_is_uniform_in_time_of_flight(specimen_default):
    params, ions, truth = specimen_default
    lo, hi = params.background_range_da
    root = np.sqrt(ions.mass_to_charge_da[truth.is_background].astype(np.float64))
    # uniform TOF at fixed voltage <=> sqrt(m/q) uniform on [sqrt(lo), sqrt(hi)]
    a, b = math.sqrt(lo), math.sqrt(hi)
    assert abs(root.mean() - (a + b) / 2) < 4 * (b - a) / math.sqrt(12 * root.size)
    assert root.min() >= a - 1e-4 and root.max() <= b + 1e-4
    assert np.all(truth.ion_index[truth.is_background] == -1)


def test_dead_time_removes_same_isotope_pairs(rng):
    params = SpecimenParams(n_ions=200_000, multi_hit_probability=0.4,
                            dead_time=DeadTime(enabled=True, dead_time_ns=3.0,
                                               dead_zone_mm=3.0))
    ions, truth = generate_specimen(params, rng=rng)
    assert truth.lost_atom_counts["Li"] > 0
    ipp = ions.fields["ions_per_pulse"]
    assert ipp.sum() == ions.n_ions
    # no surviving pair of one pulse within the dead zone and the dead time
    first = np.flatnonzero(ipp > 0)
    event = np.repeat(np.arange(first.size), np.diff(np.append(first, ions.n_ions)))
    i = np.flatnonzero(event[1:] == event[:-1])
    j = i + 1
    close = np.hypot(ions.fields["detector_x_mm"][i] - ions.fields["detector_x_mm"][j],
                     ions.fields["detector_y_mm"][i] - ions.fields["detector_y_mm"][j]) < 3.0
    quick = np.abs(ions.fields["tof_ns"][i] - ions.fields["tof_ns"][j]) < 2.999
    assert not np.any(close & quick)
    # the abundant 7Li is lost more often than 6Li: 6Li/7Li rises above natural
    m = truth.true_mass_to_charge_da
    n6, n7 = np.sum(np.abs(m - 6.015) < 0.01), np.sum(np.abs(m - 7.016) < 0.01)
    natural = 0.0759 / 0.9241
    assert n6 / n7 > natural * (1 + 2 * math.sqrt(1 / n6 + 1 / n7))


def test_same_seed_same_arrays_different_seed_different(rng):
    params = SpecimenParams(n_ions=20_000, dead_time=DeadTime(enabled=True))
    a, ta = generate_specimen(params, rng=np.random.default_rng(5))
    b, tb = generate_specimen(params, rng=np.random.default_rng(5))
    c, _ = generate_specimen(params, rng=np.random.default_rng(6))
    assert a.xyz_nm.tobytes() == b.xyz_nm.tobytes()
    assert a.mass_to_charge_da.tobytes() == b.mass_to_charge_da.tobytes()
    assert all(a.fields[k].tobytes() == b.fields[k].tobytes() for k in a.fields)
    assert ta.species_index.tobytes() == tb.species_index.tobytes()
    assert a.mass_to_charge_da.tobytes() != c.mass_to_charge_da.tobytes()


def test_bad_arguments(rng):
    with pytest.raises(ParameterError):
        generate_specimen({"n_ions": 5}, rng=rng)
    with pytest.raises(ParameterError, match="O ratio"):
        generate_specimen(SpecimenParams(n_ions=100, profile=DepthProfile.uniform(o=0.01)),
                          rng=rng)

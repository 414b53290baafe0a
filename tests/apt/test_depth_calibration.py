"""Depth-scale calibration from lattice planes and marker layers; depth-band propagation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.apt.depth_calibration import (
    calibrate_depth_scale,
    depth_scale_band,
    measure_layer_thickness,
    measure_plane_spacing,
    z_distribution_map,
)
from liprobe.apt.reconstruct import detector_fields, reconstruct
from liprobe.errors import ParameterError
from liprobe.synth.detector import generate_detector_run
from liprobe.synth.detector_params import DetectorRun, MarkerLayer, detector_specimen
from tests.apt.test_reconstruct import generating_params

D003 = 0.473


def _planes(seed: int, n_ions: int = 200_000, **run):
    spec = detector_specimen(n_ions=n_ions, shank_angle_deg=0.0)
    r = DetectorRun(spec, lattice_spacing_nm=D003, **run)
    ions, truth = generate_detector_run(r, rng=np.random.default_rng(seed))
    return r, ions, truth


@pytest.fixture(scope="module")
def planes():
    return _planes(31)


def test_z_sdm_peaks_at_the_plane_spacing(planes):
    _, ions, truth = planes
    p = generating_params(truth, area_model="projected-cap")
    rec = reconstruct(*detector_fields(ions), params=p)
    sdm = z_distribution_map(rec.xyz_nm, max_dz_nm=1.5)
    window = (sdm.dz_nm > 0.3) & (sdm.dz_nm < 0.65)
    peak = sdm.dz_nm[window][np.argmax(sdm.counts[window])]
    assert peak == pytest.approx(D003, abs=0.02)


@pytest.mark.parametrize("free, wrong, true", [("field_factor", 3.0, 3.3), ("icf", 1.8, 1.65)])
def test_wrong_parameter_detected_and_corrected(planes, free, wrong, true):
    _, ions, truth = planes
    p = generating_params(truth, area_model="projected-cap", **{free: wrong})
    x, y, v = detector_fields(ions)
    before = measure_plane_spacing(reconstruct(x, y, v, params=p).xyz_nm, expected_nm=D003)
    assert abs(before.spacing_nm - D003) > 5 * before.sigma_nm  # detected
    cal = calibrate_depth_scale(x, y, v, params=p, free=free, plane_spacing_nm=D003)
    lo, hi = cal.interval
    assert lo <= true <= hi
    assert cal.sigma / cal.value < 0.01


@pytest.mark.slow
def test_plane_calibration_interval_coverage():
    """The 95 % interval of k_f covers the generating value in most of 10 seeds."""
    hits = 0
    for seed in range(10):
        _, ions, truth = _planes(100 + seed, n_ions=200_000)
        p = generating_params(truth, area_model="projected-cap", field_factor=3.1)
        cal = calibrate_depth_scale(*detector_fields(ions), params=p, plane_spacing_nm=D003,
                                    iterations=2)
        lo, hi = cal.interval
        hits += lo <= 3.3 <= hi
    assert hits >= 8


def test_layer_thickness_calibration():
    # boundaries between planes: the layer holds 13 whole planes, 13 * d(003) thick
    top, thickness = 21.5 * D003, 13 * D003
    r, ions, truth = _planes(32, n_ions=250_000,
                             marker_layers=(MarkerLayer(top, thickness, "Co", 4.0),))
    from liprobe.synth._chemistry import build_peak_table

    co = np.array(["Co" in s.name for s in build_peak_table(r.specimen.species_fractions).species])
    marker = np.zeros(ions.n_ions, bool)
    ok = truth.species_index >= 0
    marker[ok] = co[truth.species_index[ok]]
    col = np.hypot(truth.position_nm[:, 0], truth.position_nm[:, 1]) < 5
    value, sigma = measure_layer_thickness(truth.position_nm[col, 2], marker[col])
    assert abs(value - thickness) < 3 * sigma
    p = generating_params(truth, area_model="projected-cap", field_factor=3.0)
    cal = calibrate_depth_scale(*detector_fields(ions), params=p, layer_thickness_nm=thickness,
                                in_marker=marker, column_radius_nm=5.0)
    lo, hi = cal.interval
    assert lo <= 3.3 <= hi


def test_depth_band_matches_first_order_propagation(planes):
    """sigma_d / d = sqrt((2 s_k/k)^2 + (2 s_xi/xi)^2 + (s_eta/eta)^2) for Bas."""
    _, ions, truth = planes
    p = generating_params(truth)
    sigmas = {"icf": 0.03, "field_factor": 0.05, "detection_efficiency": 0.01}
    band = depth_scale_band(ions.fields["dc_voltage_kv"], [5.0, 15.0], params=p, sigmas=sigmas,
                            n_draws=400, rng=np.random.default_rng(3))
    rel = math.sqrt((2 * 0.05 / p.field_factor) ** 2 + (2 * 0.03 / p.icf) ** 2
                    + (0.01 / p.detection_efficiency) ** 2)
    np.testing.assert_allclose(band.sigma_nm / band.depth_nm, rel, rtol=0.12)
    assert np.all(band.low_nm < band.depth_nm) and np.all(band.high_nm > band.depth_nm)


def test_errors_name_the_fix(planes):
    _, ions, truth = planes
    with pytest.raises(ParameterError, match="exactly one"):
        calibrate_depth_scale(*detector_fields(ions), params=generating_params(truth))
    with pytest.raises(ParameterError, match="column"):
        measure_plane_spacing(np.zeros((10, 3), np.float32), expected_nm=D003)
    with pytest.raises(ParameterError, match="vary"):
        depth_scale_band(ions.fields["dc_voltage_kv"], [1.0], params=generating_params(truth),
                         sigmas={"nope": 1.0}, rng=np.random.default_rng(0))


def test_depleted_depth_moves_as_the_band_says():
    """Re-reconstructing with k_f one sigma higher moves the measured depleted depth of
    the 300-cycle Li profile by what the band predicts."""
    from liprobe.synth import paper_profile
    from liprobe.synth._chemistry import build_peak_table

    run = DetectorRun(detector_specimen(n_ions=300_000, profile=paper_profile(300)))
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(33))
    names = [s.name for s in build_peak_table(run.specimen.species_fractions).species]
    ok = truth.species_index >= 0
    li, tm = np.zeros(ions.n_ions, bool), np.zeros(ions.n_ions, bool)
    li[ok] = np.array(["Li" in n for n in names])[truth.species_index[ok]]
    tm[ok] = np.array([n[:2] in ("Ni", "Co", "Mn") for n in names])[truth.species_index[ok]]

    def depleted_depth(p) -> float:
        rec = reconstruct(*detector_fields(ions), params=p)
        order = np.argsort(-rec.xyz_nm[:, 2])
        depth = -rec.xyz_nm[order, 2]
        edges = np.arange(0, depth.max(), 1.0)
        n_li = np.histogram(depth[li[order]], edges)[0]
        n_tm = np.histogram(depth[tm[order]], edges)[0]
        r = np.convolve(n_li, np.ones(3), "same") / np.maximum(np.convolve(n_tm, np.ones(3),
                                                                           "same"), 1)
        centres = 0.5 * (edges[1:] + edges[:-1])
        level = 0.5 * (np.median(r[:8]) + np.median(r[-8:]))
        k = int(np.flatnonzero(r > level)[0])
        return float(np.interp(level, r[k - 1: k + 1], centres[k - 1: k + 1]))

    p = generating_params(truth)
    nominal = depleted_depth(p)
    sigma_k = 0.03 * p.field_factor
    moved = depleted_depth(p.with_values(field_factor=p.field_factor + sigma_k))
    band = depth_scale_band(ions.fields["dc_voltage_kv"], [nominal], params=p,
                            sigmas={"field_factor": sigma_k}, n_draws=400,
                            rng=np.random.default_rng(4))
    assert 10 < nominal < 30
    assert moved - nominal == pytest.approx(band.sigma_nm[0], rel=0.15)

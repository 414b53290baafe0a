"""Acceptance of the HAADF analysis against simulator truth (f, phases, depth, d003)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from liprobe.data import Image
from liprobe.errors import ParameterError
from liprobe.stem.analyze import analyze_haadf
from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf

BASE = HaadfParams(shape_px=(256, 256), rotation_deg=31.0)
BACKGROUND = BASE.background_fraction * BASE.dose_e_per_px  # no vacuum in view: known


@pytest.fixture(scope="module")
def ordered_reference():
    """The correct reference: the ordered crystal imaged under the same conditions."""
    image, _ = simulate_haadf(BASE, rng=np.random.default_rng(70))
    return image


@pytest.mark.parametrize("f", [0.0, 0.1, 0.25, 0.4, 0.5])
def test_exchange_fraction_within_0p02(f, ordered_reference):
    params = dataclasses.replace(BASE, disorder=DisorderProfile.uniform(f))
    image, truth = simulate_haadf(params, rng=np.random.default_rng(71))
    res = analyze_haadf(image, reference=ordered_reference, background=BACKGROUND)
    assert res.model == "exchange" and res.reference == "image"
    assert abs(res.f - f) <= 0.02
    assert res.f_ci[0] - 0.01 <= f <= res.f_ci[1] + 0.01
    assert abs(res.d003_nm - truth.d003_nm) < 0.005


@pytest.mark.parametrize("x", [0.15, 0.45])
def test_substitution_fraction_with_simulated_reference(x):
    params = dataclasses.replace(BASE, disorder=DisorderProfile.uniform(x),
                                 disorder_model="substitution")
    image, _ = simulate_haadf(params, rng=np.random.default_rng(72))
    res = analyze_haadf(image, reference="simulate", reference_params=params,
                        model="substitution", background=BACKGROUND)
    assert res.reference == "simulated-approximate"
    assert abs(res.f - x) <= 0.02


@pytest.fixture(scope="module")
def surface_to_bulk():
    profile = DisorderProfile((0.0, 3.0, 7.0), (0.5, 0.25, 0.03),
                              ("rock-salt", "spinel-like", "layered"))
    params = HaadfParams(shape_px=(320, 1024), rotation_deg=20.0, disorder=profile,
                         surface_depth_nm=1024 * 0.02 / 2 - 0.8, surface_normal_deg=0.0)
    image, truth = simulate_haadf(params, rng=np.random.default_rng(73))
    return params, image, truth


def test_phases_and_f_against_depth(surface_to_bulk):
    params, image, truth = surface_to_bulk
    res = analyze_haadf(image, reference="simulate", reference_params=params, window_nm=1.0)
    assert res.surface_found
    assert len(res.windows) >= 18
    correct = [w.phase == truth.phase_at(w.depth_nm) for w in res.windows]
    assert np.mean(correct) >= 0.95
    f_true = truth.f_at(np.array([w.depth_nm for w in res.windows]))
    f_meas = np.array([w.f for w in res.windows])
    assert np.median(np.abs(f_meas - f_true)) <= 0.02
    # the JSON shape of the CLI
    d = res.to_dict()
    assert {"d003_nm", "orientation_deg", "R", "R0", "f", "f_ci", "model", "windows"} <= set(d)
    assert {"depth_nm", "R", "f", "f_ci", "phase"} <= set(d["windows"][0])
    assert d["windows"][0]["depth_nm"] == pytest.approx(0.5)
    table = res.window_table()
    assert np.all(np.diff(table["depth_nm"]) > 0)


def test_depth_offset_for_an_image_inside_the_particle(ordered_reference):
    res = analyze_haadf(ordered_reference, reference=None, depth_offset_nm=700.0,
                        window_nm=2.0, background=BACKGROUND)
    assert not res.surface_found
    assert all(w.depth_nm == 700.0 for w in res.windows)
    assert math.isnan(res.f) and res.reference == "none"
    assert all(w.phase == "layered" for w in res.windows)


def test_missing_calibration_is_asked_for(ordered_reference):
    bare = Image(ordered_reference.pixels, None)
    with pytest.raises(ParameterError, match="pixel"):
        analyze_haadf(bare)
    res = analyze_haadf(bare, pixel_size_nm=0.02, reference=None, background=BACKGROUND)
    assert abs(res.d003_nm - 1.419 / 3) < 0.005
    with pytest.raises(ParameterError):
        analyze_haadf(ordered_reference, model="swap")
    with pytest.raises(ParameterError):
        analyze_haadf(ordered_reference, reference="bulk")


def test_rock_salt_and_spinel_only_image_finds_the_c_axis():
    # no layered material in view: the spinel superstructure of another {111}-type family
    # looks like (003); the indexing check rejects it and the true c axis is kept
    profile = DisorderProfile((0.0, 5.0), (0.5, 0.485), ("rock-salt", "spinel-like"))
    params = HaadfParams(shape_px=(512, 512), disorder=profile, surface_depth_nm=4.62,
                         coating_nm=1.0)
    image, truth = simulate_haadf(params, rng=np.random.default_rng(74))
    res = analyze_haadf(image, reference="simulate", reference_params=params)
    diff = (res.orientation_deg - truth.orientation_deg) % 180.0
    assert min(diff, 180.0 - diff) < 0.5
    labels = [(w.phase, truth.phase_at(w.depth_nm)) for w in res.windows]
    assert np.mean([a == b for a, b in labels]) >= 0.8
    assert abs(res.f - 0.49) < 0.03


def test_strong_spinel_superstructure_does_not_hide_the_layered_c_axis():
    # a spinel-like zone with f = 0.45 gives a superstructure reflection of another
    # {111}-type family near d(003) that outshines the layered (003) peak
    profile = DisorderProfile((0.0, 4.0, 8.0), (0.5, 0.45, 0.05),
                              ("rock-salt", "spinel-like", "layered"))
    params = HaadfParams(shape_px=(256, 640), rotation_deg=30.0, disorder=profile,
                         surface_depth_nm=5.8)
    image, truth = simulate_haadf(params, rng=np.random.default_rng(75))
    res = analyze_haadf(image, reference="simulate", reference_params=params)
    diff = (res.orientation_deg - truth.orientation_deg) % 180.0
    assert min(diff, 180.0 - diff) < 0.5
    correct = [w.phase == truth.phase_at(w.depth_nm) for w in res.windows]
    assert np.mean(correct) >= 0.95
    deep = [w.f for w in res.windows if w.depth_nm > 8.5]
    assert abs(np.median(deep) - 0.05) <= 0.02


@pytest.mark.parametrize("f", [0.0, 0.1])
def test_unknown_background_cancels_against_a_reference_under_the_same_conditions(
        f, ordered_reference):
    # no vacuum in view and no background given: nothing is subtracted from the image or
    # the reference, and the detector background B cancels exactly in the exchange model,
    # (I_Li + B) = (1 - f)(L + B) + f(T + B), because both share the same conditions
    params = dataclasses.replace(BASE, disorder=DisorderProfile.uniform(f))
    image, _ = simulate_haadf(params, rng=np.random.default_rng(76))
    recorded = analyze_haadf(image, reference=ordered_reference)
    simulated = analyze_haadf(image, reference="simulate", reference_params=params)
    for res in (recorded, simulated):
        assert not res.surface_found and res.background == 0.0
        assert res.background_source == "none"
        assert abs(res.f - f) <= 0.02


def test_vacuum_level_is_subtracted_from_the_recorded_reference_too(ordered_reference):
    # a surface in view gives the image's background (vacuum level); the reference, recorded
    # under the same conditions but without vacuum, must get the same subtraction
    half_field_nm = BASE.shape_px[1] * BASE.pixel_size_nm / 2.0
    params = dataclasses.replace(BASE, disorder=DisorderProfile.uniform(0.05),
                                 surface_depth_nm=half_field_nm - 1.0, rotation_deg=0.0)
    image, _ = simulate_haadf(params, rng=np.random.default_rng(77))
    res = analyze_haadf(image, reference=ordered_reference, window_nm=2.0)
    assert res.surface_found and res.background_source == "vacuum"
    assert res.background == pytest.approx(BACKGROUND, rel=0.05)
    assert abs(res.f - 0.05) <= 0.02

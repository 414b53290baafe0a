"""Proxigrams: an interface's compositions and width, distances, σ, the top surface layer."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.field import concentration_field
from liprobe.apt.isosurface import find_isosurfaces
from liprobe.apt.profiles import concentration_profile
from liprobe.apt.proxigram import (
    fit_interface,
    layer_depth_from_profile,
    proxigram,
    proxigram_to_dict,
    signed_distance_nm,
    surface_layer_thickness_from_proxigram,
)
from liprobe.apt.ranging import species_per_ion
from liprobe.apt.surface_layer import measure_surface_layer
from liprobe.errors import ParameterError
from liprobe.synth import DepthProfile, generate_specimen, get_preset, ncm_ranges
from liprobe.synth.features3d import feature_ranges, generate_interface, generate_precipitate


def _interface(width_nm, seed, box=(24, 24, 30)):
    ions, truth = generate_interface(rng=np.random.default_rng(seed), box_nm=box,
                                     width_nm=width_nm)
    rt = feature_ranges()
    threshold = 0.5 * (truth.composition_low["Li"] + truth.composition_high["Li"])
    surfaces = find_isosurfaces(concentration_field(ions, rt, element="Li"),
                                threshold=threshold, min_area_nm2=50)
    return ions, truth, rt, surfaces


@pytest.mark.parametrize("width_nm", [1.0, 3.0])
def test_interface_compositions_and_width_are_recovered(width_nm):
    ions, truth, rt, surfaces = _interface(width_nm, seed=21)
    profile = proxigram(ions, rt, surfaces, bin_nm=0.5, distance_range_nm=(-10, 10))
    fit = fit_interface(profile, element="Li")
    assert fit.success
    assert fit.width_nm == pytest.approx(width_nm, abs=max(0.1 * width_nm, 4 * fit.width_sigma_nm))
    assert abs(fit.position_nm) < 0.2
    for element in ("Li", "Ni", "O"):
        for side, true in (("low", truth.composition_low), ("high", truth.composition_high)):
            value, sigma = getattr(fit, side)[element], getattr(fit, side + "_sigma")[element]
            assert abs(value - true[element]) < 4 * sigma + 0.002, (element, side)


def test_signed_distance_of_a_plane_is_the_height_above_it():
    ions, truth, _, surfaces = _interface(1.0, seed=22)
    d = signed_distance_nm(ions.xyz_nm, surfaces, max_distance_nm=5.0)
    height = ions.xyz_nm[:, 2] - surfaces.surfaces[0].centroid_nm[2]
    ok = np.isfinite(d)
    assert ok.mean() > 0.2
    assert np.max(np.abs(d[ok] - height[ok])) < 0.3
    assert np.all(np.abs(height[ok]) < 5.0 + 0.3)


def test_proxigram_sigma_matches_the_scatter_of_plateau_bins():
    ions, _, rt, surfaces = _interface(1.0, seed=23, box=(24, 24, 40))
    profile = proxigram(ions, rt, surfaces, bin_nm=0.25, distance_range_nm=(-14, 14))
    far = profile.center_nm > 4
    frac, sigma = profile.fractions[far, 0], profile.sigmas[far, 0]
    assert np.std(frac) / np.mean(sigma) == pytest.approx(1.0, abs=0.35)
    out = proxigram_to_dict(profile)
    assert set(out) >= {"distance_nm", "fractions", "sigma", "n_ions"}
    assert sum(out["n_ions"]) == int(profile.ion_counts.sum())


def test_sphere_proxigram_inside_and_outside():
    ions, truth = generate_precipitate(rng=np.random.default_rng(24), box_nm=(24, 24, 24),
                                       radius_nm=7.0)
    rt = feature_ranges()
    surfaces = find_isosurfaces(concentration_field(ions, rt, delocalization_nm=1.0),
                                threshold=0.325, min_area_nm2=20)
    p = proxigram(ions, rt, surfaces, bin_nm=0.5, distance_range_nm=(-4, 4))
    li = p.fractions[:, 0]
    assert li[0] == pytest.approx(0.05, abs=0.01)   # 4 nm outside: matrix
    assert li[-1] == pytest.approx(0.6, abs=0.03)   # 4 nm inside: precipitate
    assert np.all(np.diff(li) > -0.02)


def test_top_surface_layer_thickness_beside_the_1d_profile():
    # Li-depleted top layer 6 nm deep (Li/TM 0.3 above, 1.03 below) on an NCM needle
    depth = 6.0
    prof = DepthProfile(depth_nm=(0, depth - 0.1, depth + 0.1), li=(0.3, 0.3, 1.03))
    params = get_preset("ncm-homogeneous", profile=prof, apex_radius_nm=15.0, n_ions=600_000)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(25))
    rt = ncm_ranges(params)
    species = species_per_ion(ions.mass_to_charge_da, rt, overlap="first")
    line = concentration_profile(ions, rt, bin_nm=0.25, species=species)
    li = line.fractions[:, line.elements.index("Li")]
    threshold = 0.5 * (np.median(li[4:20]) + np.median(li[32:80]))
    field = concentration_field(ions, rt, element="Li", species=species)
    surfaces = find_isosurfaces(field, threshold=threshold, min_area_nm2=100)
    p = proxigram(ions, rt, surfaces, bin_nm=0.5, distance_range_nm=(-12, 12),
                  species=species)
    layer = surface_layer_thickness_from_proxigram(p, side="low")
    one_d = layer_depth_from_profile(line, element="Li", threshold=threshold)
    # the 1-D profile measures from the first ion, which the depth blur puts a little
    # below the top; both within a bin (0.5 nm) of the truth and of each other
    assert layer.thickness_nm == pytest.approx(depth, abs=0.3)
    assert one_d == pytest.approx(depth, abs=0.5)
    assert layer.thickness_nm == pytest.approx(one_d, abs=0.5)
    # the one-call measurement for studies finds the same threshold and values
    measured = measure_surface_layer(ions, rt, element="Li", species=species)
    assert measured.threshold == pytest.approx(threshold, abs=0.01)
    assert measured.thickness_nm == pytest.approx(depth, abs=0.3)
    assert measured.profile_depth_nm == pytest.approx(depth, abs=0.5)
    assert measured.surface_fraction < measured.bulk_fraction
    with pytest.raises(ParameterError, match="top surface"):
        surface_layer_thickness_from_proxigram(
            proxigram(ions, rt, surfaces, distance_range_nm=(-3, 3), species=species))


def test_no_surface_no_proxigram():
    ions, _, rt, _ = _interface(1.0, seed=26, box=(10, 10, 12))
    none = find_isosurfaces(concentration_field(ions, rt), threshold=0.9)
    with pytest.raises(ParameterError, match="another threshold"):
        proxigram(ions, rt, none)

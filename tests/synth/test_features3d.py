"""3-D feature boxes: geometry and composition match what was asked, seeded, checked."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.ranging import species_per_ion
from liprobe.errors import ParameterError
from liprobe.synth.features3d import (
    FEATURE_ELEMENTS,
    feature_ranges,
    generate_clusters,
    generate_interface,
    generate_precipitate,
)


def _li_fraction(ions, mask):
    species = species_per_ion(ions.mass_to_charge_da, feature_ranges())
    return float(np.mean(species[mask] == 0)), int(mask.sum())


def test_every_ion_is_ranged_to_its_element():
    ions, _ = generate_clusters(rng=np.random.default_rng(0), box_nm=(10, 10, 10), n_clusters=1)
    species = species_per_ion(ions.mass_to_charge_da, feature_ranges())
    assert species.min() == 0 and species.max() == len(FEATURE_ELEMENTS) - 1
    assert ions.n_ions == round(30.0 * 1000)


def test_clusters_have_the_asked_places_and_composition():
    ions, truth = generate_clusters(rng=np.random.default_rng(1), box_nm=(30, 30, 30),
                                    n_clusters=6, radius_nm=2.0, min_gap_nm=2.0)  # 810 k ions
    c = truth.centers_nm
    gaps = np.linalg.norm(c[:, None] - c[None], axis=2)[np.triu_indices(6, 1)]
    assert gaps.min() >= 2 * 2.0 + 2.0
    # membership is the geometric sphere test, recomputed here
    d = np.linalg.norm(ions.xyz_nm[:, None, :] - c[None].astype(np.float32), axis=2)
    inside = d.min(axis=1) <= 2.0
    assert np.array_equal(inside, truth.cluster_index >= 0)
    f_in, n_in = _li_fraction(ions, inside)
    f_out, n_out = _li_fraction(ions, ~inside)
    assert abs(f_in - 0.5) < 4 * np.sqrt(0.25 / n_in)
    assert abs(f_out - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n_out)
    # expected ions in the spheres: density x volume (Poisson)
    expected = 30.0 * 6 * 4 / 3 * np.pi * 8
    assert abs(n_in - expected) < 4 * np.sqrt(expected)


def test_interface_profile_follows_the_error_function():
    ions, truth = generate_interface(rng=np.random.default_rng(2), box_nm=(20, 20, 30),
                                     width_nm=3.0)
    z = ions.xyz_nm[:, 2] - truth.position_nm
    f_far_low, _ = _li_fraction(ions, z < -6)
    f_far_high, _ = _li_fraction(ions, z > 6)
    f_mid, n = _li_fraction(ions, np.abs(z) < 0.1)
    assert abs(f_far_low - 0.05) < 0.01 and abs(f_far_high - 0.4) < 0.01
    assert abs(f_mid - 0.225) < 4 * np.sqrt(0.225 * 0.775 / n)
    # the 10-90 % points lie at +-width/2
    f_90, n90 = _li_fraction(ions, np.abs(z - 1.5) < 0.15)
    assert abs(f_90 - (0.05 + 0.9 * 0.35)) < 4 * np.sqrt(0.25 / n90)


def test_same_seed_same_ions_and_bad_input_is_refused():
    a, _ = generate_precipitate(rng=np.random.default_rng(3), box_nm=(10, 10, 10), radius_nm=3)
    b, _ = generate_precipitate(rng=np.random.default_rng(3), box_nm=(10, 10, 10), radius_nm=3)
    assert np.array_equal(a.xyz_nm, b.xyz_nm) and np.array_equal(a.mass_to_charge_da,
                                                                 b.mass_to_charge_da)
    with pytest.raises(ParameterError, match="does not fit"):
        generate_precipitate(rng=np.random.default_rng(0), box_nm=(10, 10, 10), radius_nm=6)
    with pytest.raises(ParameterError, match="summing to 1"):
        generate_clusters(rng=np.random.default_rng(0), cluster_composition={"Li": 0.5})
    with pytest.raises(ParameterError, match="unknown element"):
        generate_interface(rng=np.random.default_rng(0), composition_low={"Xx": 1.0})
    with pytest.raises(ParameterError, match="could not place"):
        generate_clusters(rng=np.random.default_rng(0), box_nm=(10, 10, 10), n_clusters=50)

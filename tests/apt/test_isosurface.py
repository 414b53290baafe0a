"""Isosurfaces: a closed sphere's volume and centre, an open plane, orientation, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.apt.field import concentration_field
from liprobe.apt.isosurface import find_isosurfaces
from liprobe.errors import ParameterError
from liprobe.synth.features3d import feature_ranges, generate_interface, generate_precipitate


@pytest.fixture(scope="module")
def precipitate():
    return generate_precipitate(rng=np.random.default_rng(11), box_nm=(26, 26, 26),
                                radius_nm=8.0)


def test_closed_sphere_volume_centroid_and_area(precipitate):
    ions, truth = precipitate
    sigma = 1.0
    field = concentration_field(ions, feature_ranges(), element="Li", delocalization_nm=sigma)
    threshold = 0.5 * (truth.precipitate_composition["Li"] + truth.matrix_composition["Li"])
    found = find_isosurfaces(field, threshold=threshold, min_area_nm2=20.0)
    assert len(found.surfaces) == 1
    s = found.surfaces[0]
    assert s.closed and s.encloses_high
    # stated tolerance: within 10 % of the true volume 4/3 pi R^3 ...
    assert abs(s.enclosed_volume_nm3 / truth.volume_nm3 - 1) < 0.10
    # ... and the shortfall is the delocalisation's: the mid-level surface of a sphere
    # blurred by σ_eff (Gaussian plus 1-nm voxel binning) sits σ_eff²/R inside it
    s2 = sigma**2 + 1.0 / 12
    r_eff = truth.radius_nm - s2 / truth.radius_nm
    assert s.enclosed_volume_nm3 == pytest.approx(4 / 3 * math.pi * r_eff**3, rel=0.04)
    assert s.area_nm2 == pytest.approx(4 * math.pi * r_eff**2, rel=0.08)
    assert np.linalg.norm(np.subtract(s.centroid_nm, truth.center_nm)) < 0.2


def test_a_depleted_pocket_encloses_the_low_side():
    ions, truth = generate_precipitate(
        rng=np.random.default_rng(12), box_nm=(20, 20, 20), radius_nm=6.0,
        precipitate_composition={"Li": 0.02, "Ni": 0.48, "O": 0.5},
        matrix_composition={"Li": 0.3, "Ni": 0.3, "O": 0.4})
    field = concentration_field(ions, feature_ranges(), element="Li", delocalization_nm=1.0)
    s = find_isosurfaces(field, threshold=0.16, min_area_nm2=20.0).surfaces[0]
    assert s.closed and s.encloses_high is False
    assert abs(s.enclosed_volume_nm3 / truth.volume_nm3 - 1) < 0.15
    # normals point to higher Li: outwards from the pocket's centre
    out = np.einsum("ij,ij->i", s.normals, s.vertices_nm - np.asarray(truth.center_nm))
    assert np.mean(out > 0) > 0.95


def test_a_plane_is_open_at_the_specimen_edge():
    ions, truth = generate_interface(rng=np.random.default_rng(13), box_nm=(20, 20, 24),
                                     width_nm=1.0)
    field = concentration_field(ions, feature_ranges(), element="Li", delocalization_nm=1.0)
    found = find_isosurfaces(field, threshold=0.225, min_area_nm2=20.0)
    assert len(found.surfaces) == 1
    s = found.surfaces[0]
    assert not s.closed and s.enclosed_volume_nm3 is None
    assert s.centroid_nm[2] == pytest.approx(truth.position_nm, abs=0.15)
    assert np.ptp(s.vertices_nm[:, 2]) < 1.5
    # a flat sheet over the box less its edge margin (delocalisation + half a cube)
    assert 14.0**2 < s.area_nm2 < 20.0**2
    assert np.mean(s.normals[:, 2]) > 0.95  # towards the Li-rich top


def test_no_surface_outside_the_field_range_and_bad_input(precipitate):
    ions, _ = precipitate
    field = concentration_field(ions, feature_ranges(), element="Li")
    assert find_isosurfaces(field, threshold=0.95).surfaces == ()
    with pytest.raises(ParameterError, match="between 0 and 1"):
        find_isosurfaces(field, threshold=30)
    with pytest.raises(ParameterError, match="ConcentrationField"):
        find_isosurfaces(np.zeros((3, 3, 3)), threshold=0.5)

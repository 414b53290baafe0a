"""Delocalised concentration fields and 2-D maps against generator truth and counting."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.field import concentration_field, concentration_map
from liprobe.apt.ranging import species_per_ion
from liprobe.errors import ParameterError
from liprobe.synth.features3d import feature_ranges, generate_clusters, generate_interface

UNIFORM = {"Li": 0.3, "Ni": 0.3, "O": 0.4}


@pytest.fixture(scope="module")
def uniform():
    return generate_clusters(rng=np.random.default_rng(5), box_nm=(20, 20, 20), n_clusters=0,
                             matrix_composition=UNIFORM)[0]


@pytest.mark.parametrize("delocalization_nm", [0.0, 1.0])
def test_sigma_matches_the_scatter_between_voxels(uniform, delocalization_nm):
    field = concentration_field(uniform, feature_ranges(), element="Li",
                                delocalization_nm=delocalization_nm)
    core = (slice(3, -3),) * 3  # away from the faces
    frac, sigma = field.fraction[core], field.sigma[core]
    assert np.nanmean(frac) == pytest.approx(0.3, abs=0.005)
    # the σ formula (effective counts n / Σw²) against the observed spread of the voxels
    assert np.nanstd(frac) / np.nanmean(sigma) == pytest.approx(1.0, abs=0.1)


def test_raw_counts_are_exact_without_delocalisation(uniform):
    field = concentration_field(uniform, feature_ranges(), element="Li", delocalization_nm=0)
    species = species_per_ion(uniform.mass_to_charge_da, feature_ranges())
    assert field.total_atoms.sum() == uniform.n_ions
    assert field.solute_atoms.sum() == np.sum(species == 0)
    # one voxel recounted by hand
    idx = np.floor((uniform.xyz_nm - field.origin_nm.astype(np.float32)) / 1.0).astype(int)
    here = np.all(idx == [4, 7, 9], axis=1)
    assert field.total_atoms[4, 7, 9] == here.sum()
    assert field.solute_atoms[4, 7, 9] == np.sum(here & (species == 0))


def test_delocalisation_keeps_the_edge_unbiased(uniform):
    field = concentration_field(uniform, feature_ranges(), element="Li", delocalization_nm=1.5)
    edge = field.fraction[0][field.inside[0]]
    assert np.mean(edge) == pytest.approx(0.3, abs=0.01)


def test_slab_map_of_an_interface_and_its_sigma():
    ions, truth = generate_interface(rng=np.random.default_rng(6), box_nm=(20, 20, 20),
                                     width_nm=0.0)
    rt = feature_ranges()
    m = concentration_map(ions, rt, element="Li", axis="y", pixel_nm=1.0, slab_nm=(8.0, 10.0))
    assert m.plane_axes == ("x", "z") and m.thickness_nm == 2.0
    # every ranged atom of the slab is in the map once
    y = ions.xyz_nm[:, 1]
    assert m.total_atoms.sum() == np.sum((y >= 8) & (y < 10))
    z = m.extent_nm[2] + (np.arange(m.fraction.shape[1]) + 0.5) * m.pixel_nm
    low, high = m.fraction[:, z < 8], m.fraction[:, z > 12]
    assert np.nanmean(low) == pytest.approx(0.05, abs=0.01)
    assert np.nanmean(high) == pytest.approx(0.4, abs=0.01)
    # plain binomial σ per pixel matches the scatter of the pixels
    assert np.nanstd(high) / np.nanmean(m.sigma[:, z > 12]) == pytest.approx(1.0, abs=0.12)
    assert concentration_map(ions, rt, axis="y").total_atoms.sum() == ions.n_ions
    proj = concentration_map(ions, rt, element="Li", axis="y", pixel_nm=2.0,
                             delocalization_nm=1.0)
    assert np.nanstd(proj.fraction[:, 7:]) / np.nanmean(proj.sigma[:, 7:]) == pytest.approx(
        1.0, abs=0.2)


def test_bad_options_name_the_fix(uniform):
    rt = feature_ranges()
    with pytest.raises(ParameterError, match="voxel_nm"):
        concentration_field(uniform, rt, voxel_nm=0)
    with pytest.raises(ParameterError, match="Xe"):
        concentration_field(uniform, rt, element="Xe")
    with pytest.raises(ParameterError, match="too large"):
        concentration_field(uniform, rt, voxel_nm=0.01)
    with pytest.raises(ParameterError, match="axis"):
        concentration_map(uniform, rt, axis="w")
    with pytest.raises(ParameterError, match="slab"):
        concentration_map(uniform, rt, slab_nm=(50.0, 60.0))

"""ROIs: masks checked against direct geometric computation on a regular grid."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.roi import Box, Cylinder, Sphere, mask_box, mask_cylinder, mask_sphere
from liprobe.errors import ParameterError


@pytest.fixture
def grid():
    axis = np.arange(-10.0, 10.0, 0.5) + 0.25
    xyz = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    return xyz.astype(np.float32)


def test_sphere_volume_matches_four_thirds_pi_r3(grid):
    mask = mask_sphere(grid, center_nm=(0, 0, 0), radius_nm=6.0)
    # each grid point stands for 0.125 nm^3
    assert mask.sum() * 0.125 == pytest.approx(4 / 3 * np.pi * 6.0**3, rel=0.02)


def test_box_counts_points_per_axis(grid):
    mask = mask_box(grid, lower_nm=(-2, -3, 0), upper_nm=(2, 3, 5))
    assert mask.sum() == 8 * 12 * 10


def test_tilted_cylinder_matches_point_line_distance(grid):
    axis = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    mask = mask_cylinder(grid, center_nm=(1, 0, 0), radius_nm=3.0, length_nm=8.0, axis=axis)
    rel = grid.astype(np.float64) - [1, 0, 0]
    along = rel @ axis
    radial = np.linalg.norm(rel - along[:, None] * axis, axis=1)
    expected = (np.abs(along) <= 4.0) & (radial <= 3.0)
    assert np.array_equal(mask, expected)
    assert mask.sum() * 0.125 == pytest.approx(np.pi * 9 * 8, rel=0.03)


def test_regions_compose_with_set_operators(grid):
    sphere = Sphere((0, 0, 0), 6.0)
    box = Box((0, -10, -10), (10, 10, 10))
    half = (sphere & box).mask(grid)
    assert half.sum() == pytest.approx(sphere.mask(grid).sum() / 2, rel=0.01)
    shell = (Sphere((0, 0, 0), 6.0) - Sphere((0, 0, 0), 3.0)).mask(grid)
    assert shell.sum() * 0.125 == pytest.approx(4 / 3 * np.pi * (6.0**3 - 3.0**3), rel=0.03)
    union = (Cylinder((0, 0, 0), 2.0, 20.0) | sphere).mask(grid)
    assert union.sum() == (Cylinder((0, 0, 0), 2.0, 20.0).mask(grid) | sphere.mask(grid)).sum()
    assert (~sphere).mask(grid).sum() == grid.shape[0] - sphere.mask(grid).sum()


def test_invalid_regions_raise(grid):
    with pytest.raises(ParameterError, match="radius_nm"):
        mask_sphere(grid, center_nm=(0, 0, 0), radius_nm=0.0)
    with pytest.raises(ParameterError, match="upper_nm"):
        mask_box(grid, lower_nm=(0, 0, 0), upper_nm=(1, -1, 1))
    with pytest.raises(ParameterError, match="center_nm"):
        mask_sphere(grid, center_nm=(0, 0), radius_nm=1.0)

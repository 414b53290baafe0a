"""DepthProfile interpolation and the published-profile construction."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from liprobe.errors import ParameterError
from liprobe.synth import DepthProfile, paper_profile
from tests.conftest import PUBLISHED

TABLE = PUBLISHED / "table2_apt.csv"


def _published_rows():
    with open(TABLE) as fh:
        return list(csv.DictReader(fh))


def test_linear_interpolation_and_constant_ends():
    p = DepthProfile(depth_nm=(10.0, 20.0), li=(0.2, 0.6), o=(1.8, 2.0))
    # halfway between knots: the mean of the knot values
    assert p.ratio_at("Li", 15.0) == pytest.approx(0.4)
    assert p.ratio_at("O", 12.5) == pytest.approx(1.85)
    # constant beyond both ends
    assert p.ratio_at("Li", 0.0) == pytest.approx(0.2)
    assert p.ratio_at("Li", 1e5) == pytest.approx(0.6)
    assert p.ratio_at("Ni", 15.0) == pytest.approx(0.80)


def test_uniform_and_from_function():
    u = DepthProfile.uniform(li=0.5)
    assert np.allclose(u.ratio_at("Li", [0.0, 50.0, 5000.0]), 0.5)
    f = DepthProfile.from_function(lambda d: 0.01 * d, depth_nm=np.arange(0, 101.0))
    assert f.ratio_at("Li", 37.5) == pytest.approx(0.375)
    assert f.mean_ratios(0.0, 100.0)["Li"] == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("bad", [dict(depth_nm=(1.0, 1.0)), dict(depth_nm=(0.0,), li=-1.0),
                                 dict(depth_nm=(0.0,), ni=0, co=0, mn=0)])
def test_invalid_profiles_raise(bad):
    with pytest.raises(ParameterError):
        DepthProfile(**bad)


def test_paper_profile_passes_through_published_points():
    for row in _published_rows():
        if not row["depth_nm"]:
            continue
        p = paper_profile(int(row["cycles"]))
        assert p.ratio_at("Li", float(row["depth_nm"])) == pytest.approx(float(row["li"]),
                                                                         abs=1e-9)


def test_paper_profile_uniform_conditions_match_table():
    rows = {int(r["cycles"]): r for r in _published_rows() if not r["depth_nm"]
            and r["region"] == "R"}
    for cycles in (0, 2):
        p = paper_profile(cycles)
        assert np.allclose(p.ratio_at("Li", [0.0, 300.0, 3000.0]), float(rows[cycles]["li"]))
        assert p.ratio_at("O", 100.0) == pytest.approx(float(rows[cycles]["o"]))


def test_300_cycles_surface_layer_and_monotone_recovery():
    p = paper_profile(300)
    # STEM: Li deficiency up to ~15 nm; APT surface value 0.03
    assert np.allclose(p.ratio_at("Li", np.linspace(0, 15, 31)), 0.03)
    depth = np.linspace(0, 4000, 4001)
    li = p.ratio_at("Li", depth)
    assert np.all(np.diff(li) >= -1e-12)  # monotone, no overshoot
    assert li.max() == pytest.approx(1.03)
    assert p.ratio_at("Ni", 50.0) == pytest.approx(0.80)


def test_100_cycles_bound_row_and_o_override():
    p = paper_profile(100, o_ratio=1.7)
    assert p.ratio_at("Li", 50.0) == pytest.approx(0.57)  # "< 100 nm" row at 50 nm
    assert p.ratio_at("Li", 0.0) == pytest.approx(0.57)
    assert np.allclose(p.ratio_at("O", [0.0, 500.0]), 1.7)


def test_unknown_cycle_number():
    with pytest.raises(ParameterError, match="0, 2, 100, 300"):
        paper_profile(50)

"""Capacity per cycle, specific capacity and retention, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.cell.cycling import (
    capacity_fade,
    discharge_capacity_from_records,
    discharge_capacity_per_cycle,
)
from liprobe.errors import ParameterError


def test_integrates_discharge_current_per_cycle():
    # cycle 1: charge +2 mA for 1 h, discharge -2 mA for 0.5 h -> 1 mAh
    # cycle 2: discharge -1 mA for 1.5 h -> 1.5 mAh
    t = np.array([0, 3600, 3600.001, 5400, 5400.001, 10800.001])
    i = np.array([2.0, 2.0, -2.0, -2.0, -1.0, -1.0])
    c = np.array([1, 1, 1, 1, 2, 2])
    cycles, cap = discharge_capacity_per_cycle(t, i, c)
    assert cycles.tolist() == [1, 2]
    np.testing.assert_allclose(cap, [1.0, 1.5], rtol=1e-5)


def test_paper_cell_fade():
    # Chae et al.: 137.5 mAh/g after 300 cycles is 76.0 % of the initial capacity
    cycle = np.arange(1, 301)
    initial = 137.5 / 0.76
    specific = initial * (1 - 0.24 * (cycle - 1) / 299)
    mass = 0.5
    fade = capacity_fade(cycle, specific * mass, active_mass_g=mass)
    assert fade.specific_capacity_mah_g[-1] == pytest.approx(137.5)
    assert fade.retention_at(300) == pytest.approx(0.76)
    assert fade.fade_per_cycle == pytest.approx(-0.24 / 299)
    assert fade.fade_per_cycle_se == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ParameterError, match="cycle 400"):
        fade.retention_at(400)


def test_running_capacity_columns_take_the_per_cycle_maximum():
    records = {"cycle": np.array([1, 1, 1, 2, 2]),
               "discharge_capacity_mah": np.array([0.0, 1.2, 2.5, 0.4, 2.4])}
    cycles, cap = discharge_capacity_from_records(records)
    assert cycles.tolist() == [1, 2]
    assert cap.tolist() == [2.5, 2.4]


def test_unknown_reference_cycle_is_an_error():
    with pytest.raises(ParameterError, match="reference_cycle"):
        capacity_fade(np.array([1, 2]), np.array([1.0, 0.9]), reference_cycle=5)

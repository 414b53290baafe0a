"""Per-cycle capacity as the sum over the steps of each direction, against hand-built records."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.cell.cycle_summary import capacity_increments, differential_capacity, summarize_cycles
from liprobe.errors import ParameterError


def _cell(rng=None):
    """Cycle 1: CC charge 2 mAh then CV charge 0.5 mAh; discharge in three steps of
    1.0, 0.8 and 0.4 mAh at 3.6, 3.5 and 3.4 V. Counters restart at every step (Neware)."""
    steps = [(1, "c", 2.0, 3.9), (1, "c", 0.5, 4.2), (1, "r", 0.0, 4.1),
             (1, "d", 1.0, 3.6), (1, "d", 0.8, 3.5), (1, "d", 0.4, 3.4)]
    rec = {k: [] for k in ("cycle", "step", "charge_capacity_mah", "discharge_capacity_mah",
                           "voltage_v")}
    for s, (cycle, kind, cap, volt) in enumerate(steps):
        q = np.linspace(cap / 10, cap, 10)
        rec["cycle"] += [cycle] * 10
        rec["step"] += [s] * 10
        rec["charge_capacity_mah"] += list(q if kind == "c" else np.zeros(10))
        rec["discharge_capacity_mah"] += list(q if kind == "d" else np.zeros(10))
        rec["voltage_v"] += [volt] * 10
    return {k: np.asarray(v, float) for k, v in rec.items()}


def test_several_discharge_steps_are_summed_not_maximised():
    summary = summarize_cycles(_cell(), restart_at_steps=True)
    assert summary.discharge_capacity_mah[0] == pytest.approx(2.2)  # max would give 1.0
    assert summary.charge_capacity_mah[0] == pytest.approx(2.5)
    assert summary.coulombic_efficiency[0] == pytest.approx(2.2 / 2.5)
    # constant voltage per step: energy = sum V * Q (the first record of each step has its
    # own voltage; all records of a step share it)
    energy = 3.6 * 1.0 + 3.5 * 0.8 + 3.4 * 0.4
    assert summary.discharge_energy_mwh[0] == pytest.approx(energy)
    assert summary.mean_discharge_voltage_v[0] == pytest.approx(energy / 2.2)


def test_restart_by_drop_finds_the_steps_without_a_step_column():
    records = _cell()
    del records["step"]
    assert summarize_cycles(records).discharge_capacity_mah[0] == pytest.approx(2.2)


def test_counter_running_over_the_steps_of_a_cycle_is_not_double_counted():
    # Arbin: the counter runs over the steps of a cycle and restarts at the next cycle
    cycle = np.array([1, 1, 1, 1, 2, 2, 2])
    dis = np.array([0.5, 1.0, 1.5, 2.0, 0.4, 0.9, 1.9])
    records = {"cycle": cycle, "step": np.array([0, 0, 1, 1, 2, 3, 3]),
               "charge_capacity_mah": np.zeros(7), "discharge_capacity_mah": dis}
    summary = summarize_cycles(records)
    np.testing.assert_allclose(summary.discharge_capacity_mah, [2.0, 1.9])


def test_impedance_records_are_excluded():
    records = _cell()
    records["impedance"] = np.zeros(records["cycle"].size, bool)
    # an impedance sweep recorded within a discharge step adds charge on the counter
    records["discharge_capacity_mah"][45:50] += 5.0
    records["impedance"][45:50] = True
    summary = summarize_cycles(records, restart_at_steps=True)
    assert summary.n_impedance_records == 5
    assert summary.discharge_capacity_mah[0] < 2.2 + 1e-9


def test_integrated_current_when_no_capacity_column():
    # charge +2 mA for 1 h, then discharge -1 mA for 1.5 h (1 s records)
    t = np.arange(0, 9000.0 + 1)
    i = np.where(t <= 3600, 2.0, -1.0)
    i[3601] = -1.0
    records = {"cycle": np.ones(t.size, int), "time_s": t, "current_ma": i,
               "voltage_v": np.full(t.size, 3.7)}
    summary = summarize_cycles(records)
    assert summary.capacity_source == "integrated current"
    assert summary.charge_capacity_mah[0] == pytest.approx(2.0, abs=1e-3)
    assert summary.discharge_capacity_mah[0] == pytest.approx(1.5, abs=1e-3)


def test_nan_capacity_and_fractional_cycle_are_errors():
    records = _cell()
    records["discharge_capacity_mah"][7] = np.nan
    with pytest.raises(ParameterError, match="record 8"):
        summarize_cycles(records)
    records = _cell()
    records["cycle"][3] = 1.5
    with pytest.raises(ParameterError, match="not an integer"):
        summarize_cycles(records)


def test_increments_of_a_step_counter():
    q = np.array([0.1, 0.2, 0.3, 0.05, 0.15])
    d = capacity_increments(q, cycle=np.ones(5, int))
    np.testing.assert_allclose(d, [0.1, 0.1, 0.1, 0.05, 0.1])


def test_differential_capacity_integrates_to_the_capacity(rng):
    # a plateau at 3.7 V holding 1 mAh of a 2 mAh discharge: dQ/dV peaks there
    q = np.linspace(0, 2.0, 2001)
    v = 4.2 - 0.5 * q / 2.0 - 0.2 * np.clip(q - 1.5, 0, None)
    v[500:1500] = np.linspace(3.95, 3.94, 1000)
    centre, dqdv = differential_capacity(v, q, voltage_step_v=0.005)
    assert np.sum(dqdv) * 0.005 == pytest.approx(2.0, rel=1e-9)
    assert 3.93 < centre[np.argmax(dqdv)] < 3.96

"""ICP-AES conversion against the paper's Table 1 and an independent Monte Carlo."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from liprobe.cell.icp import atomic_weight, ratios_to_wt_pct, wt_pct_to_ratios
from liprobe.errors import ParameterError
from tests.conftest import PUBLISHED

TABLE1 = PUBLISHED / "table1_icp_aes.csv"


def _table1() -> list[dict[str, str]]:
    with open(TABLE1, newline="") as fh:
        return list(csv.DictReader(fh))


def test_table1_ratios_from_weight_percent():
    rows = _table1()
    wt = {el: np.array([float(r[f"{el.lower()}_wt_pct"]) for r in rows])
          for el in ("Li", "Ni", "Co", "Mn")}
    ratios = wt_pct_to_ratios(wt).ratios
    # the acceptance numbers (3 decimals) for Li of the three samples
    assert np.round(ratios["Li"], 3).tolist() == [1.038, 0.944, 0.829]
    # Ni/Co/Mn of the pristine powder to 3 decimals
    assert [round(float(ratios[el][0]), 3) for el in ("Ni", "Co", "Mn")] == [0.804, 0.149, 0.048]
    # every printed ratio (2 decimals) is reproduced
    for el in ("Li", "Ni", "Co", "Mn"):
        printed = np.array([float(r[f"{el.lower()}_ratio"]) for r in rows])
        np.testing.assert_allclose(np.round(ratios[el], 2), printed, atol=1e-9)


def test_atomic_weights_are_standard():
    # IUPAC standard atomic weights (abridged)
    assert atomic_weight("Li") == pytest.approx(6.94, abs=0.01)
    assert atomic_weight("Ni") == pytest.approx(58.693, abs=1e-3)
    assert atomic_weight("Co") == pytest.approx(58.933, abs=1e-3)
    assert atomic_weight("Mn") == pytest.approx(54.938, abs=1e-3)


def test_round_trip_back_to_weight_percent():
    wt = {"Li": 6.16, "Ni": 44.36, "Co": 8.23, "Mn": 2.46}
    ratios = wt_pct_to_ratios(wt).ratios
    back = ratios_to_wt_pct(ratios, scale_to=("Ni", 44.36))
    for el, value in wt.items():
        assert float(back[el]) == pytest.approx(value, rel=1e-12)


def test_stoichiometric_oxide_weight_percent():
    # LiNi0.8Co0.15Mn0.05O2: Li wt% = M_Li / M_formula (independent hand computation)
    ratios = {"Li": 1.0, "Ni": 0.8, "Co": 0.15, "Mn": 0.05}
    m = 6.94 + 0.8 * 58.6934 + 0.15 * 58.9332 + 0.05 * 54.938 + 2 * 15.999
    wt = ratios_to_wt_pct(ratios, other_mass_per_tm_g=2 * 15.999)
    assert float(wt["Li"]) == pytest.approx(100 * 6.94 / m, rel=2e-4)


def test_sigma_matches_monte_carlo(rng):
    wt = {"Li": 6.77, "Ni": 44.31, "Co": 8.24, "Mn": 2.46}
    rel = 0.01
    result = wt_pct_to_ratios(wt, relative_sigma=rel)
    draws = {el: v * (1 + rel * rng.standard_normal(200_000)) for el, v in wt.items()}
    mc = wt_pct_to_ratios(draws).ratios
    for el in wt:
        assert float(result.sigma[el]) == pytest.approx(float(np.std(mc[el])), rel=0.03)


def test_missing_normaliser_is_an_error():
    with pytest.raises(ParameterError, match="Mn"):
        wt_pct_to_ratios({"Li": 6.0, "Ni": 44.0, "Co": 8.0})
    with pytest.raises(ParameterError, match="unknown element"):
        atomic_weight("Xx")

"""Isotope patterns and species tables (truth: natural abundances, AME masses)."""

from __future__ import annotations

import pytest

from liprobe.errors import ParameterError
from liprobe.synth.species import evaporation_table, isotope_pattern, species_peaks


def test_lithium_and_nickel_natural_abundance():
    li = dict(isotope_pattern("Li"))
    masses = sorted(li)
    assert masses == [pytest.approx(6.015123, abs=1e-5), pytest.approx(7.016003, abs=1e-5)]
    # IUPAC best measurement of a single terrestrial source (NIST): 6Li 7.59 %, 7Li 92.41 %
    assert li[masses[0]] == pytest.approx(0.0759, abs=1e-6)
    assert li[masses[0]] + li[masses[1]] == pytest.approx(1.0)
    ni = isotope_pattern("Ni")
    assert [round(m) for m, _ in ni] == [58, 60, 61, 62, 64]
    assert ni[0][1] == pytest.approx(0.6808, abs=0.001)
    assert ni[-1][1] == pytest.approx(0.0093, abs=0.0003)


def test_doubly_charged_and_molecular_peaks():
    ni2 = species_peaks("Ni2+")
    assert ni2[0][0] == pytest.approx(57.935342 / 2, abs=1e-5)
    o2 = dict(species_peaks("O2+"))
    main = max(o2, key=o2.get)
    assert main == pytest.approx(2 * 15.994915, abs=1e-5)
    assert o2[main] == pytest.approx(0.99757**2, abs=0.002)
    # 64Ni2+ and O2+ coincide within 0.05 Da: the overlap the range file must handle
    assert abs(ni2[-1][0] - main) < 0.05
    # O2 2+ main peak sits exactly on O+
    assert species_peaks("O2 2+")[0][0] == pytest.approx(species_peaks("O+")[0][0], abs=1e-9)
    # every pattern sums to one
    for name in ("NiO+", "LiO+", "Co+", "Mn2+"):
        assert sum(p for _, p in species_peaks(name)) == pytest.approx(1.0)


def test_evaporation_table_drops_overlaps_and_renormalises():
    table = dict((sp.name, f) for sp, f in evaporation_table(
        {"Li+": 1, "Ni2+": 0.5, "Ni+": 0.5, "Co+": 1, "CoO+": 1, "Mn+": 2,
         "O+": 0.4, "O2+": 0.4, "O2 2+": 0.2}, overlaps=False))
    assert "O2+" not in table and "O2 2+" not in table and "CoO+" not in table
    assert table["O+"] == pytest.approx(1.0)
    assert table["Mn+"] == pytest.approx(1.0)
    assert table["Ni2+"] == pytest.approx(0.5)


def test_evaporation_table_errors():
    with pytest.raises(ParameterError, match="known species"):
        evaporation_table({"Ni3+": 1.0}, overlaps=True)
    with pytest.raises(ParameterError, match="O"):
        evaporation_table({"Li+": 1, "Ni+": 1, "Co+": 1, "Mn+": 1, "O2+": 1}, overlaps=False)

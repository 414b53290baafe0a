import pytest

from liprobe.errors import ParameterError
from liprobe.isotopes import element_isotopes


def test_lithium_is_the_iupac_best_measurement_not_the_interval_midpoint():
    (m6, a6), (m7, a7) = element_isotopes("Li")
    # IUPAC best measurement from a single terrestrial source (NIST): 7.59(4) % 6Li
    assert a6 == pytest.approx(0.0759, abs=1e-9)
    assert a7 == pytest.approx(0.9241, abs=1e-9)
    assert m6 == pytest.approx(6.0151229, abs=1e-6)
    assert m7 == pytest.approx(7.0160034, abs=1e-6)


def test_other_elements_are_normalised_natural_abundances():
    ni = element_isotopes("Ni")
    assert [round(m) for m, _ in ni] == [58, 60, 61, 62, 64]
    assert sum(p for _, p in ni) == pytest.approx(1.0)
    # 58Ni 68.077 %, 64Ni 0.926 % (IUPAC)
    assert ni[0][1] == pytest.approx(0.68077, abs=2e-4)
    assert ni[-1][1] == pytest.approx(0.00926, abs=1e-4)
    assert element_isotopes("Co") == ((pytest.approx(58.9332, abs=1e-4), 1.0),)


def test_unknown_symbol_is_a_parameter_error():
    with pytest.raises(ParameterError, match="Xx"):
        element_isotopes("Xx")

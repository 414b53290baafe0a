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


def test_isotopologue_peaks_of_o2_doubly_charged():
    from liprobe.isotopes import isotopologue_peaks

    (m16, a16), (m17, a17), (m18, a18) = element_isotopes("O")
    peaks = isotopologue_peaks((("O", 2),), 2)
    # binomial isotopologues of O2 at half their mass; 16O18O and 17O17O (0.002 Da apart)
    # merge into one abundance-weighted peak
    p1818, p1717 = 2 * a16 * a18, a17**2
    merged_mass = (p1818 * (m16 + m18) / 2 + p1717 * m17) / (p1818 + p1717)
    expected = [(m16, a16**2), ((m16 + m17) / 2, 2 * a16 * a17), (merged_mass, p1818 + p1717)]
    for (mass, abundance), (mass_true, abundance_true) in zip(peaks[:3], expected):
        assert mass == pytest.approx(mass_true, abs=1e-9)
        assert abundance == pytest.approx(abundance_true, rel=1e-9)
    assert sum(p for _, p in peaks) == pytest.approx(1.0)


#: IUPAC/CIAAW representative isotopic compositions, (mass number, abundance, uncertainty)
#: as printed in J. Meija et al., "Isotopic compositions of the elements 2013", Pure Appl.
#: Chem. 88 (2016) 293, Table 1; Li is the IUPAC best measurement (see liprobe.isotopes).
IUPAC = {
    "H": ((1, 0.999885, 0.000070), (2, 0.000115, 0.000070)),
    "Li": ((6, 0.0759, 0.0004), (7, 0.9241, 0.0004)),
    "C": ((12, 0.9893, 0.0008), (13, 0.0107, 0.0008)),
    "O": ((16, 0.99757, 0.00016), (17, 0.00038, 0.00001), (18, 0.00205, 0.00014)),
    "Mn": ((55, 1.0, 0.0),),
    "Co": ((59, 1.0, 0.0),),
    "Ni": ((58, 0.680769, 0.000190), (60, 0.262231, 0.000150), (61, 0.011399, 0.000013),
           (62, 0.036345, 0.000040), (64, 0.009256, 0.000019)),
}


@pytest.mark.parametrize("symbol", sorted(IUPAC))
def test_every_abundance_is_the_iupac_value(symbol):
    """Pinned number by number: two swapped abundances (e.g. 61Ni and 62Ni) fail here."""
    got = element_isotopes(symbol)
    assert [round(m) for m, _ in got] == [a for a, _, _ in IUPAC[symbol]]
    for (_, p), (mass_number, p_iupac, u) in zip(got, IUPAC[symbol]):
        assert abs(p - p_iupac) <= max(u, 1e-9), (symbol, mass_number, p, p_iupac)


def test_every_element_of_the_ncm_species_is_pinned():
    from liprobe.apt.isotope_patterns import NCM_SPECIES

    used = {symbol for atoms, _ in NCM_SPECIES.values() for symbol, _ in atoms}
    assert used <= set(IUPAC)

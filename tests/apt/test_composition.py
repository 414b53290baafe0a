"""Composition: exact atom counts from known ion counts, and its counting statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from liprobe.apt.composition import (
    Composition,
    atoms_per_species,
    compose,
    composition_from_counts,
)
from liprobe.apt.ranging import count_ions
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError

#: Species, atoms, range [low, high) in Da, and how many ions the data set holds.
SPECIES = [
    ("Li+", (("Li", 1),), (6.8, 7.2), 1000),
    ("O+", (("O", 1),), (15.8, 16.2), 300),
    ("O2+", (("O", 2),), (31.8, 32.2), 400),
    ("Li2O+", (("Li", 2), ("O", 1)), (29.85, 30.1), 50),
    ("NiO2+", (("Ni", 1), ("O", 2)), (90.7, 91.2), 20),
    ("Ni++", (("Ni", 1),), (28.8, 29.2), 700),
    ("Co++", (("Co", 1),), (29.3, 29.6), 130),
    ("Mn++", (("Mn", 1),), (27.3, 27.6), 45),
]
N_UNRANGED = 100
# atoms counted by hand from the table above
LI, O, NI, CO, MN = 1000 + 2 * 50, 300 + 2 * 400 + 50 + 2 * 20, 720, 130, 45
N_ATOMS = LI + O + NI + CO + MN


def _ranges() -> RangeTable:
    ions = tuple(Ion(name, atoms) for name, atoms, _, _ in SPECIES)
    low = [r[0] for _, _, r, _ in SPECIES]
    high = [r[1] for _, _, r, _ in SPECIES]
    return RangeTable(ions, low, high, np.arange(len(SPECIES)))


def _masses(rng) -> np.ndarray:
    parts = [rng.uniform(lo, hi, n) for _, _, (lo, hi), n in SPECIES]
    parts.append(rng.uniform(40.0, 80.0, N_UNRANGED))  # outside every range
    mass = np.concatenate(parts).astype(np.float32)
    return mass[rng.permutation(mass.size)]


@pytest.fixture
def comp(rng) -> Composition:
    return compose(_masses(rng), _ranges())


def test_atoms_per_ion_decomposes_molecular_ions():
    elements, matrix = atoms_per_species(_ranges())
    assert elements == ("Li", "O", "Ni", "Co", "Mn")
    assert matrix.tolist() == [
        [1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 2, 0, 0, 0], [2, 1, 0, 0, 0],
        [0, 2, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1],
    ]


def test_counts_are_exact(comp):
    assert comp.ion_names == tuple(s[0] for s in SPECIES)
    assert comp.ion_counts.tolist() == [s[3] for s in SPECIES]
    assert comp.atom_counts.tolist() == [LI, O, NI, CO, MN]
    assert comp.n_ions == 2645 + N_UNRANGED
    assert comp.n_ranged == 2645
    assert comp.unranged_fraction == pytest.approx(100 / 2745, rel=1e-12)
    assert comp.fraction("Li") == pytest.approx(LI / N_ATOMS, rel=1e-12)
    assert comp.fraction("O") == pytest.approx(O / N_ATOMS, rel=1e-12)


def _resampled_atoms(comp, n_draws=200_000, seed=7):
    """Ion counts redrawn multinomially over the species, decomposed into atoms."""
    rng = np.random.default_rng(seed)
    n = comp.ion_counts
    draws = rng.multinomial(int(n.sum()), n / n.sum(), size=n_draws)
    return draws @ atoms_per_species(_ranges())[1]


def test_fraction_sigma_follows_the_ions_not_the_atoms(comp):
    """Multinomial resampling of the *ions* (O2+ moves two O at once): σ of every
    fraction; O is over-dispersed against the atom binomial, Mn (monatomic) is not."""
    atoms = _resampled_atoms(comp)
    fractions = atoms / atoms.sum(axis=1, keepdims=True)
    for e, element in enumerate(comp.elements):
        assert comp.fraction_sigma(element) == pytest.approx(fractions[:, e].std(), rel=0.02)
    binomial = {el: math.sqrt(a / N_ATOMS * (1 - a / N_ATOMS) / N_ATOMS)
                for el, a in (("O", O), ("Mn", MN))}
    assert comp.fraction_sigma("O") > 1.05 * binomial["O"]
    assert comp.fraction_sigma("Mn") == pytest.approx(binomial["Mn"], rel=0.01)


def test_fraction_sigma_is_binomial_for_monatomic_ions():
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
                        [6.9, 28.8], [7.1, 29.2], [0, 1])
    comp = composition_from_counts(np.array([300, 700]), ranges)
    assert comp.fraction_sigma("Li") == pytest.approx(math.sqrt(0.3 * 0.7 / 1000), rel=1e-12)


def test_fraction_interval_wilson_is_the_score_interval_for_monatomic_ions():
    """Against the textbook Wilson formula; "wald" is p ± z σ."""
    ranges = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
                        [6.9, 28.8], [7.1, 29.2], [0, 1])
    k, n, z = 45, 3000, norm.ppf(0.975)
    comp = composition_from_counts(np.array([k, n - k]), ranges)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = comp.fraction_interval("Li")
    assert (low, high) == pytest.approx((centre - half, centre + half), rel=1e-9)
    low, high = comp.fraction_interval("Li", confidence=0.9, method="wald")
    sd = math.sqrt(p * (1 - p) / n)
    assert (low, high) == pytest.approx((p - norm.ppf(0.95) * sd, p + norm.ppf(0.95) * sd))
    with pytest.raises(ParameterError):
        comp.fraction_interval("Li", method="exact-ish")
    # a zero count: Wilson upper end z^2 / (n + z^2), never a zero-width interval
    zero = composition_from_counts(np.array([0, n]), ranges)
    assert zero.fraction_interval("Li")[1] == pytest.approx(z * z / (n + z * z), rel=1e-9)


def test_ratios_normalised_to_metals(comp):
    metals = NI + CO + MN
    assert comp.ratio("Li") == pytest.approx(LI / metals, rel=1e-12)
    assert comp.ratio("Ni") == pytest.approx(NI / metals, rel=1e-12)
    assert comp.ratio("O", to=["Ni", "Co", "Mn"]) == pytest.approx(O / metals, rel=1e-12)
    assert comp.ratio("Li", to="O") == pytest.approx(LI / O, rel=1e-12)
    assert sum(comp.ratio(x) for x in ("Ni", "Co", "Mn")) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(("element", "to"), [("Li", None), ("Co", None), ("O", "Ni"),
                                             ("O", None), ("Ni", "O")])
def test_ratio_sigma_matches_monte_carlo(comp, element, to):
    """Resample the ion counts multinomially, decompose into atoms and take the std."""
    atoms = _resampled_atoms(comp)
    column = {e: atoms[:, i] for i, e in enumerate(comp.elements)}
    denominator = sum(column[e] for e in (("Ni", "Co", "Mn") if to is None else (to,)))
    ratios = column[element] / denominator
    assert comp.ratio_sigma(element, to) == pytest.approx(ratios.std(), rel=0.02)


def test_ratio_sigma_analytic_edge_cases_and_the_zero_count_rule():
    ranges = RangeTable(
        (Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),)), Ion("Co", (("Co", 1),))),
        [6.9, 28.8, 29.3], [7.1, 29.2, 29.6], [0, 1, 2],
    )
    comp = composition_from_counts(np.array([0, 300, 100]), ranges)
    # inside the set: r = 3/4 of 400 atoms -> sqrt(r (1 - r) / 400)
    assert comp.ratio_sigma("Ni") == pytest.approx(math.sqrt(0.75 * 0.25 / 400), rel=1e-12)
    # a zero count is not exact: σ of one count, 1 / D (liprobe.counting's rule)
    assert comp.ratio("Li") == 0.0 and comp.ratio_sigma("Li") == pytest.approx(1 / 400)
    assert comp.fraction_sigma("Li") == pytest.approx(1 / 400)
    assert math.isnan(comp.ratio("Ni", to="Li")) and math.isnan(comp.ratio_sigma("Ni", to="Li"))


def test_the_default_denominator_is_ni_co_mn_not_every_d_block_metal():
    ranges = RangeTable(
        (Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),)), Ion("Fe", (("Fe", 1),))),
        [6.9, 28.8, 27.8], [7.1, 29.2, 28.1], [0, 1, 2],
    )
    comp = composition_from_counts(np.array([100, 50, 50]), ranges)
    assert comp.ratio("Li") == pytest.approx(100 / 50)
    assert comp.to_dict()["normalized_to"] == ["Ni"]


def test_to_dict_payload(comp):
    payload = comp.to_dict(normalize_to=["Ni", "Co", "Mn"])
    assert set(payload) == {"n_ions", "n_ranged", "unranged_fraction", "ions", "elements",
                            "normalized_to"}
    assert payload["n_ions"] == 2745 and payload["n_ranged"] == 2645
    assert payload["ions"]["NiO2+"] == {"count": 20, "fraction": pytest.approx(20 / 2645)}
    li = payload["elements"]["Li"]
    assert li["atoms"] == LI
    assert li["ratio"] == pytest.approx(LI / (NI + CO + MN))
    assert set(li) == {"atoms", "fraction", "fraction_sigma", "ratio", "ratio_sigma"}
    assert payload["normalized_to"] == ["Ni", "Co", "Mn"]
    assert comp.to_dict()["normalized_to"] == ["Ni", "Co", "Mn"]  # default: metals present
    o_only = comp.to_dict(normalize_to="O")["elements"]["Li"]["ratio"]
    assert o_only == pytest.approx(LI / O)


def test_unknown_element_suggests_a_name(comp):
    with pytest.raises(ParameterError, match="did you mean 'Ni'"):
        comp.fraction("NI")
    with pytest.raises(ParameterError, match="Fe"):
        comp.ratio("Li", to=["Ni", "Fe"])


def test_composition_from_counts_and_ion_table_agree(rng):
    ranges = _ranges()
    mass = _masses(rng)
    counts = count_ions(mass, ranges)
    from_counts = composition_from_counts(counts, ranges)
    from_table = compose(IonTable(np.zeros((mass.size, 3), np.float32), mass), ranges)
    assert from_counts.atom_counts.tolist() == from_table.atom_counts.tolist()
    assert from_counts.n_ions == from_table.n_ions == mass.size
    plain = composition_from_counts(counts.counts, ranges)
    assert plain.n_ions == plain.n_ranged == 2645
    with pytest.raises(ParameterError, match="smaller"):
        composition_from_counts(counts.counts, ranges, n_ions=10)
    with pytest.raises(ParameterError, match="one per ion species"):
        composition_from_counts(np.array([1, 2]), ranges)

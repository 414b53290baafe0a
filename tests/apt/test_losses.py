"""Systematic losses: truth is what the generator lost (dead time) or put outside the range
windows (the true species of every ion against the species ranging gave it)."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.composition import compose
from liprobe.apt.losses import estimate_dead_time_loss, estimate_window_loss
from liprobe.apt.ranging import species_per_ion
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.synth import DeadTime, generate_specimen, get_preset, ncm_ranges


@pytest.mark.parametrize("seed", [0, 1])
def test_dead_time_loss_matches_the_ions_the_generator_removed(seed):
    params = get_preset("ncm-homogeneous", n_ions=60_000, apex_radius_nm=10.0,
                        dead_time=DeadTime(enabled=True))
    ions, truth = generate_specimen(params, rng=np.random.default_rng(seed))
    ranges = ncm_ranges(params)
    loss = estimate_dead_time_loss(ions, ranges)
    for element in ("Li", "O", "Ni"):
        e = loss.elements.index(element)
        sigma = np.sqrt(loss.lost_covariance[e, e])
        true = truth.lost_atom_counts[element]
        assert abs(loss.lost_atoms[e] - true) < 3 * sigma + 0.1 * true, element
    comp = compose(ions, ranges)
    fixed = loss.correct(comp)
    assert fixed.atoms("Li") > comp.atoms("Li")
    assert fixed.fraction_sigma("Li") > comp.fraction_sigma("Li")  # the estimate's σ enters


def test_no_dead_time_no_loss():
    params = get_preset("ncm-homogeneous", n_ions=60_000, apex_radius_nm=10.0)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(4))
    loss = estimate_dead_time_loss(ions, ncm_ranges(params))
    e = loss.elements.index("Li")
    assert abs(loss.lost_atoms[e]) < 3 * np.sqrt(loss.lost_covariance[e, e])
    with pytest.raises(ParameterError, match="ions_per_pulse"):
        estimate_dead_time_loss(IonTable(ions.xyz_nm, ions.mass_to_charge_da),
                                ncm_ranges(params))


def test_window_loss_matches_the_tail_ions_left_outside():
    params = get_preset("ncm-homogeneous", n_ions=500_000, overlaps=False)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(0))
    ranges = ncm_ranges(params)
    loss = estimate_window_loss(ions, ranges)
    true_ion = truth.ion_index_in(ranges)
    assigned = np.asarray(species_per_ion(ions.mass_to_charge_da, ranges))
    outside = (true_ion >= 0) & (assigned != true_ion)
    for element in ("Li", "O"):
        carries = np.array([dict(ion.atoms).get(element, 0) for ion in ranges.ions])
        true_lost = float(carries[true_ion[outside]].sum())
        e = loss.elements.index(element)
        sigma = np.sqrt(loss.lost_covariance[e, e])
        assert abs(loss.lost_atoms[e] - true_lost) < 3 * sigma + 0.1 * true_lost, element
    li = loss.element_loss(compose(ions, ranges))["Li"][0]
    assert 0.002 < li < 0.01  # about half a per cent of Li beyond its window


def test_window_loss_of_a_pure_exponential_tail():
    """One peak: Gaussian core and an exponential tail of known length; the window cuts it."""
    rng = np.random.default_rng(2)
    n, lam = 200_000, 0.02
    mass = 7.0 + rng.normal(0, 0.003, n) + np.where(rng.random(n) < 0.3,
                                                    rng.exponential(lam, n), 0.0)
    ranges = RangeTable((Ion("Li", (("Li", 1),)),), [6.95], [7.06], [0])
    inside = (mass >= 6.95) & (mass < 7.06)
    loss = estimate_window_loss(mass.astype(np.float32), ranges, background=_NoBackground())
    true_lost = float(np.count_nonzero(~inside))
    assert abs(loss.lost_ions[0] - true_lost) < 3 * loss.lost_sigma[0] + 0.03 * true_lost
    assert loss.tail_length_da[0] == pytest.approx(lam, rel=0.1)


class _NoBackground:
    def counts_in(self, low_da, high_da):
        return np.zeros_like(np.asarray(low_da, np.float64))


def test_tail_root_matches_scipy_brentq():
    """The bisection that replaces brentq (no SciPy import on the CLI path) finds its root."""
    import math

    from scipy.optimize import brentq

    from liprobe.apt.losses import _increasing_root

    for length, mean in ((0.3, 0.02), (1.0, 0.3), (0.05, 0.0249)):
        def g(lam, length=length, mean=mean):
            return lam - length / math.expm1(length / lam) - mean

        expected = brentq(g, length / 700.0, length * 1e4, xtol=1e-15, rtol=1e-14)
        assert math.isclose(_increasing_root(g, length / 700.0, length * 1e4), expected,
                            rel_tol=1e-9)


def test_bound_search_is_exact_for_float32_masses():
    from liprobe.apt.losses import _first_at_least

    rng = np.random.default_rng(11)
    ordered = np.sort(np.concatenate([rng.uniform(0, 100, 5000),
                                      [np.inf, np.nan]]).astype(np.float32))
    values = np.concatenate([rng.uniform(-1, 101, 200), ordered[:50].astype(np.float64),
                             np.nextafter(ordered[:50].astype(np.float64), np.inf),
                             np.nextafter(ordered[:50].astype(np.float64), -np.inf), [1e300, -1e300]])
    for value in values:  # truth: the elements below the float64 value, compared in float64
        assert _first_at_least(ordered, value) == np.count_nonzero(
            ordered.astype(np.float64) < value), value


def test_histogram_of_sorted_values_is_numpys():
    from liprobe.apt.losses import _sorted_histogram

    rng = np.random.default_rng(12)
    for _ in range(50):
        lo = float(rng.uniform(0, 100))
        hi = lo + float(rng.uniform(1e-3, 2))
        edges = np.histogram_bin_edges([], bins=200, range=(lo, hi))
        values = np.concatenate([rng.uniform(lo - 0.1, hi + 0.1, 3000),
                                 edges[rng.integers(0, 201, 30)]])
        ordered = np.sort(values[(values >= lo) & (values <= hi)])
        hist, got = _sorted_histogram(ordered, 200, (lo, hi))
        want, want_edges = np.histogram(ordered, bins=200, range=(lo, hi))
        np.testing.assert_array_equal(hist, want)
        np.testing.assert_array_equal(got, want_edges)


def test_window_loss_is_the_same_whatever_the_mass_dtype():
    params = get_preset("ncm-homogeneous", n_ions=60_000, apex_radius_nm=10.0)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(6))
    ranges = ncm_ranges(params)
    mass = np.asarray(ions.mass_to_charge_da, np.float32)
    runs = [estimate_window_loss(m, ranges) for m in (mass, mass.astype(">f4"),
                                                      mass.astype(np.float64))]
    assert runs[0].fitted.any()
    for other in runs[1:]:
        np.testing.assert_array_equal(other.lost_ions, runs[0].lost_ions)
        np.testing.assert_array_equal(other.lost_sigma, runs[0].lost_sigma)

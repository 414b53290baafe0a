"""Systematic losses beside the counting σ: detector dead time, estimated from multi-hits.

Detector dead time loses the later of two ions of one pulse that arrive at (nearly) the
same time of flight and close together on the detector: two ions of the *same isotope
peak*. Single-hit pulses lose nothing, so their composition is the reference; in pulses
of ``g`` ions, random pairing predicts ``C(g, 2) q_r²`` same-range pairs for a range
holding a fraction ``q_r`` of the single hits. Each missing pair is (to first order) one
lost ion::

    L_r = Σ_pulses C(g_p, 2) q_r²  -  O_r         (O_r: same-range pairs observed)

with ``g_p`` the observed multiplicity (to first order: raising it by the ions a pulse
lost and counting the triples of one isotope, which lose two ions for three pairs, are
second-order terms of opposite sign; on the synthetic generator the first-order estimate
is unbiased within its σ). σ of
``L_r`` counts the Poisson scatter of the pairs and the sampling of ``q_r`` from the
single hits. The estimate assumes that multi-hit partners are drawn from the same
composition as single hits (true for a homogeneous region; correlated evaporation of
molecular fragments breaks it). :meth:`DeadTimeLoss.correct` adds the lost ions back to a
:class:`~liprobe.apt.composition.Composition`, with their variance in its covariance;
:meth:`DeadTimeLoss.element_loss` reports the loss beside the counting σ.

Reference: B. Gault et al., *Atom Probe Microscopy* (Springer, 2012), §5.6; F. Meisenkothen
et al., Ultramicroscopy 159 (2015) 101 (same-isotope multi-hit losses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt._species_atoms import species_atoms, species_of
from liprobe.apt.composition import Composition
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["DeadTimeLoss", "estimate_dead_time_loss"]


@dataclass(frozen=True, eq=False)
class DeadTimeLoss:
    """Ions lost to detector dead time per range, and per element.

    Attributes
    ----------
    range_ion_names : tuple of str
        Ion species each range is labelled with.
    lost_ions, lost_sigma : (n_ranges,) float64
        Estimated lost ions per range and σ.
    expected_pairs, observed_pairs : (n_ranges,) float64
        Same-range pairs within one pulse: random-pairing expectation and observed.
    elements : tuple of str
    lost_atoms : (n_elements,) float64
        Lost atoms per element (lost ions decomposed).
    lost_covariance : (n_elements, n_elements) float64
        Covariance of ``lost_atoms``.
    n_single_hits, n_multi_hit_pulses : int
    """

    range_ion_names: tuple[str, ...]
    lost_ions: np.ndarray
    lost_sigma: np.ndarray
    expected_pairs: np.ndarray
    observed_pairs: np.ndarray
    elements: tuple[str, ...]
    lost_atoms: np.ndarray
    lost_covariance: np.ndarray
    lost_ions_per_species: np.ndarray
    n_single_hits: int
    n_multi_hit_pulses: int

    def element_loss(self, composition: Composition) -> dict[str, tuple[float, float]]:
        """``{element: (lost fraction of its atoms, σ)}`` relative to ``composition``."""
        out = {}
        for e, el in enumerate(self.elements):
            measured = composition.atoms(el) if el in composition.elements else 0
            total = measured + self.lost_atoms[e]
            sigma = float(np.sqrt(max(self.lost_covariance[e, e], 0.0)))
            out[el] = ((float(self.lost_atoms[e] / total), sigma / total) if total > 0
                       else (float("nan"), float("nan")))
        return out

    def correct(self, composition: Composition) -> Composition:
        """``composition`` with the lost ions added back (covariance included).

        The lost ions are added to the species of their range (rounded to integers for
        the counts; the covariance carries their uncertainty).
        """
        if tuple(composition.elements) != self.elements[: len(composition.elements)] or (
                len(composition.ion_counts) < self.lost_ions_per_species.size):
            raise ParameterError("the composition was not counted with the range table of "
                                 "this dead-time estimate; pass the composition of the same "
                                 "ranges")
        added = np.zeros(len(composition.ion_counts))
        added[: self.lost_ions_per_species.size] = np.maximum(self.lost_ions_per_species, 0)
        counts = composition.ion_counts + np.rint(added).astype(np.int64)
        atoms = composition.atom_counts + np.rint(self.lost_atoms).astype(np.int64)
        e = len(composition.elements)
        cov = composition.covariance + self.lost_covariance[:e, :e]
        return Composition(composition.ion_names, counts, composition.elements, atoms,
                           composition.n_ions + int(np.rint(added.sum())),
                           composition.n_ranged + int(np.rint(added.sum())),
                           atom_covariance=cov)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary per element."""
        return {"lost_atoms": {el: float(v) for el, v in zip(self.elements, self.lost_atoms)},
                "lost_atoms_sigma": {el: float(np.sqrt(max(self.lost_covariance[e, e], 0)))
                                     for e, el in enumerate(self.elements)},
                "n_single_hits": self.n_single_hits,
                "n_multi_hit_pulses": self.n_multi_hit_pulses}


def estimate_dead_time_loss(ions: IonTable, ranges: RangeTable, *,
                            species: np.ndarray | None = None, overlap: str = "error"
                            ) -> DeadTimeLoss:
    """Estimate the ions lost to dead time from the multi-hit statistics (module docstring).

    Parameters
    ----------
    ions : IonTable
        Needs the ``ions_per_pulse`` field (EPOS or APT files): the first ion of a pulse
        holds the pulse's multiplicity, the others 0.
    ranges : RangeTable
    species : (N,) int array, optional
        Species per ion (:func:`liprobe.apt.ranging.assign_ions`), to skip ranging.

    Returns
    -------
    DeadTimeLoss
    """
    if "ions_per_pulse" not in ions.fields:
        raise ParameterError("dead-time loss needs the ions_per_pulse field; read an EPOS or "
                             "APT file")
    species = species_of(ions, ranges, species, overlap=overlap)
    range_of = _range_index(ions.mass_to_charge_da, ranges, species)
    ipp = np.asarray(ions.fields["ions_per_pulse"])
    n = ipp.shape[0]
    group = np.cumsum(ipp > 0) - 1
    valid = group >= 0
    n_groups = int(group[-1]) + 1 if n and group[-1] >= 0 else 0
    size = np.bincount(group[valid], minlength=n_groups).astype(np.float64)
    single = valid & (size[np.maximum(group, 0)] == 1)
    n_single = int(single.sum())
    n_r = ranges.n_ranges
    if n_single == 0:
        raise ParameterError("no single-hit pulses: the reference composition is missing")
    q = np.bincount(range_of[single & (range_of >= 0)], minlength=n_r) / n_single
    multi = valid & (size[np.maximum(group, 0)] >= 2)
    # same-range pairs observed within each pulse
    key = group[multi & (range_of >= 0)] * n_r + range_of[multi & (range_of >= 0)]
    per = np.bincount(key, minlength=n_groups * n_r) if key.size else np.zeros(0)
    k = per.reshape(-1, n_r) if per.size else np.zeros((n_groups, n_r))
    observed = (k * (k - 1) / 2).sum(axis=0)
    g = size[size >= 2]
    pairs = float(np.sum(g * (g - 1) / 2))
    expected = pairs * q * q
    lost = expected - observed
    var_q = q * (1 - q) / n_single
    lost_var = expected + observed + (2 * pairs * q) ** 2 * var_q
    elements, atoms = species_atoms(ranges)
    per_ion_atoms = atoms[ranges.ion_index].astype(np.float64)  # (n_ranges, n_elements)
    lost_atoms = lost @ per_ion_atoms
    cov = np.einsum("r,re,rf->ef", lost_var, per_ion_atoms, per_ion_atoms)
    per_species = np.bincount(ranges.ion_index, weights=lost, minlength=ranges.n_ions)
    return DeadTimeLoss(
        range_ion_names=tuple(ranges.ion_names[i] for i in ranges.ion_index),
        lost_ions=lost, lost_sigma=np.sqrt(lost_var), expected_pairs=expected,
        observed_pairs=observed, elements=tuple(elements), lost_atoms=lost_atoms,
        lost_covariance=cov, lost_ions_per_species=per_species, n_single_hits=n_single,
        n_multi_hit_pulses=int(g.size))


def _range_index(mass: np.ndarray, ranges: RangeTable, species: np.ndarray) -> np.ndarray:
    """Range of each ion (-1 unranged): the range of its species that holds its m/q."""
    m = np.asarray(mass, dtype=np.float64)
    out = np.full(m.shape[0], -1, dtype=np.int64)
    for r in range(ranges.n_ranges):
        inside = (species == ranges.ion_index[r]) & (m >= ranges.low_da[r]) & (
            m < ranges.high_da[r])
        out[inside] = r
    return out

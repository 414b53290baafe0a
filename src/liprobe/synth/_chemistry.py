"""From local element ratios to ion classes, species and isotope peaks."""

from __future__ import annotations

import numpy as np

from liprobe.errors import ParameterError
from liprobe.synth.profile import ELEMENTS
from liprobe.synth.species import CLASSES, Species, species_peaks

__all__ = ["PeakTable", "build_peak_table", "class_weights", "local_ratios", "pick_peaks"]


class PeakTable:
    """Flattened isotope peaks of the generated species.

    Attributes: ``species`` (tuple), ``species_fraction`` (within class), ``mass_da``,
    ``species_of_peak``, ``class_of_peak``, ``prob_in_class`` (species fraction times
    isotope abundance), ``atoms`` ((n_species, 5) atom counts per element), and per class
    the mean O atoms per ion (``o_per_ion``) and mean atoms per ion (``atoms_per_species``).
    """

    def __init__(self, table: tuple[tuple[Species, float], ...]) -> None:
        self.species = tuple(sp for sp, _ in table)
        self.species_fraction = np.array([f for _, f in table])
        masses, sp_idx, prob = [], [], []
        for k, (sp, frac) in enumerate(table):
            for mass, abundance in species_peaks(sp.name):
                masses.append(mass)
                sp_idx.append(k)
                prob.append(frac * abundance)
        self.mass_da = np.array(masses)
        self.species_of_peak = np.array(sp_idx, dtype=np.int16)
        self.prob_in_class = np.array(prob)
        cls_index = {c: i for i, c in enumerate(CLASSES)}
        self.class_of_species = np.array([cls_index[sp.ion_class] for sp in self.species])
        self.class_of_peak = self.class_of_species[self.species_of_peak]
        self.atoms = np.zeros((len(self.species), len(ELEMENTS)), dtype=np.int64)
        for k, sp in enumerate(self.species):
            for symbol, count in sp.atoms:
                self.atoms[k, ELEMENTS.index(symbol)] += count
        self.charge = np.array([sp.charge for sp in self.species], dtype=np.int8)
        o_col = ELEMENTS.index("O")
        self.o_per_ion = np.zeros(len(CLASSES))
        self.atoms_per_species = np.zeros(len(CLASSES))
        for c in range(len(CLASSES)):
            sel = self.class_of_species == c
            f = self.species_fraction[sel]
            self.o_per_ion[c] = f @ self.atoms[sel, o_col]
            self.atoms_per_species[c] = f @ self.atoms[sel].sum(axis=1)


def build_peak_table(table: tuple[tuple[Species, float], ...]) -> PeakTable:
    """The :class:`PeakTable` of an evaporation table."""
    return PeakTable(table)


def class_weights(ratios: dict[str, np.ndarray], peaks: PeakTable) -> list[np.ndarray]:
    """Relative ion counts of each class from local ratios (per total metal).

    Each metal atom leaves in exactly one ion, so a metal class weighs its ratio; the O
    left after the metal-oxide ions took theirs forms O-only ions of mean size
    ``o_per_ion[O]``.
    """
    o_class = CLASSES.index("O")
    weights = [np.asarray(ratios[c], dtype=np.float32) for c in CLASSES[:o_class]]
    o_left = np.asarray(ratios["O"], dtype=np.float32).copy()
    for c, w in enumerate(weights):
        o_left -= np.float32(peaks.o_per_ion[c]) * w
    if np.any(o_left < -1e-6):
        raise ParameterError(
            "the O ratio is too low somewhere for the metal-oxide ions configured (check "
            "strong Li/metal enrichments of line features and clusters); raise the profile's "
            "O ratio or lower the MO+/LiO+ evaporation fractions"
        )
    np.maximum(o_left, 0, out=o_left)
    weights.append(o_left / np.float32(peaks.o_per_ion[o_class]))
    return weights


def mean_atoms_per_ion(ratios: dict[str, float], peaks: PeakTable) -> float:
    """Mean atoms per ion for scalar ratios."""
    w = np.array([float(v[0]) for v in class_weights(
        {k: np.atleast_1d(v) for k, v in ratios.items()}, peaks)])
    return float(w @ peaks.atoms_per_species / w.sum())


def local_ratios(params, xyz_nm: np.ndarray, length_nm: float) -> dict[str, np.ndarray]:
    """Generated ratios at each (true) position: profile, Li trend, lines and clusters."""
    from liprobe.synth._geometry import segment_distance_nm

    z = xyz_nm[:, 2]
    depth = z.astype(np.float64) + params.specimen_depth_nm
    profile = params.profile
    ratios = {}
    for el in ELEMENTS:
        values = np.asarray(getattr(profile, el.lower()))
        if np.all(values == values[0]):
            ratios[el] = np.full(len(z), values[0], dtype=np.float32)
        else:
            ratios[el] = np.interp(depth, profile.depth_nm, values).astype(np.float32)
    del depth
    if params.li_trend_per_nm != 0:
        factor = 1 + np.float32(params.li_trend_per_nm) * (z - np.float32(length_nm / 2))
        ratios["Li"] *= np.maximum(factor, 0)
    # overlapping features do not compound: each ion takes its largest enrichment
    factors: dict[str, np.ndarray] = {}
    for line in params.line_features:
        lo = min(line.start_nm[2], line.end_nm[2]) - line.radius_nm
        hi = max(line.start_nm[2], line.end_nm[2]) + line.radius_nm
        i0, i1 = np.searchsorted(z, [lo, hi])  # z is sorted (evaporation order)
        if i1 <= i0:
            continue
        dist = segment_distance_nm(xyz_nm[i0:i1], line.start_nm, line.end_nm)
        inside = np.flatnonzero(dist <= line.radius_nm) + i0
        _raise_factor(factors, "Li", len(z), inside, line.li_enrichment)
    for cluster in params.clusters:
        c = np.asarray(cluster.center_nm, dtype=np.float32)
        i0, i1 = np.searchsorted(z, [c[2] - cluster.radius_nm, c[2] + cluster.radius_nm])
        rel = xyz_nm[i0:i1] - c
        inside = np.flatnonzero(np.einsum("ij,ij->i", rel, rel) <= cluster.radius_nm**2) + i0
        _raise_factor(factors, cluster.element, len(z), inside, cluster.enrichment)
    for element, factor in factors.items():
        ratios[element] *= factor
    return ratios


def _raise_factor(factors: dict[str, np.ndarray], element: str, n: int, inside: np.ndarray,
                  value: float) -> None:
    factor = factors.setdefault(element, np.ones(n, dtype=np.float32))
    factor[inside] = np.maximum(factor[inside], np.float32(value))


def pick_peaks(weights: list[np.ndarray], peaks: PeakTable, background: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Isotope peak (int16 index into ``peaks``; -1 for background) of each ion.

    The class is drawn from the per-ion class ``weights`` (:func:`class_weights`), then
    the species and isotope peak within the class from ``peaks.prob_in_class``.
    """
    n = background.shape[0]
    u = rng.random(n, dtype=np.float32) * sum(weights)
    acc = weights[0].copy()
    cls = (u >= acc).astype(np.int8)
    for w in weights[1:-1]:
        acc += w
        cls += u >= acc
    del u, acc
    cls[background] = -1
    peak = np.full(n, -1, dtype=np.int16)
    for c in range(len(CLASSES)):
        idx = np.flatnonzero(cls == c)
        ids = np.flatnonzero(peaks.class_of_peak == c)
        cum = np.cumsum(peaks.prob_in_class[ids])
        pick = np.searchsorted(cum / cum[-1], rng.random(idx.size), side="right")
        peak[idx] = ids[np.minimum(pick, ids.size - 1)]
    return peak

"""Ground truth returned with every synthetic specimen."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liprobe.data import Ion
from liprobe.synth.params import Cluster, LineFeature, SpecimenParams
from liprobe.synth.profile import ELEMENTS
from liprobe.synth.species import Species

__all__ = ["DepthComposition", "SpecimenTruth"]


@dataclass(frozen=True, eq=False)
class DepthComposition:
    """True atom counts by depth bin of the specimen z (what the data set holds).

    Parameters
    ----------
    depth_edges_nm : (B + 1,) float64 array
        Bin edges along the specimen z (0 = specimen top), nm.
    elements : tuple of str
        Column order of the count and ratio arrays (Li, Ni, Co, Mn, O).
    atom_counts : (B, 5) int64 array
        Atoms of each element in the detected (non-background, not lost) ions, binned by
        their true z.
    ion_counts : (B,) int64 array
        Detected non-background ions per bin.
    material_ratios : (B, 5) float64 array
        The profile's ratios (per total metal) at the bin centres (the material).
    generated_ratios : (B, 5) float64 array
        Ratios the generator drew from at the bin centres, i.e. including the Li trend
        artefact (line features and clusters are local and not included).
    """

    depth_edges_nm: np.ndarray
    elements: tuple[str, ...]
    atom_counts: np.ndarray
    ion_counts: np.ndarray
    material_ratios: np.ndarray
    generated_ratios: np.ndarray

    @property
    def depth_centers_nm(self) -> np.ndarray:
        """Bin centres, nm."""
        return 0.5 * (self.depth_edges_nm[1:] + self.depth_edges_nm[:-1])

    def counted_ratios(self) -> np.ndarray:
        """Counted atoms per total metal in each bin, (B, 5) (NaN where no metal)."""
        tm = self.atom_counts[:, 1:4].sum(axis=1).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(tm[:, None] > 0, self.atom_counts / tm[:, None], np.nan)

    def total_atom_counts(self) -> dict[str, int]:
        """Atoms of each element over the whole specimen."""
        return {el: int(v) for el, v in zip(self.elements, self.atom_counts.sum(axis=0))}


@dataclass(frozen=True, eq=False)
class SpecimenTruth:
    """What a synthetic specimen really is, ion by ion.

    Attributes
    ----------
    params : SpecimenParams
        The parameters it was generated from.
    length_nm : float
        Actual specimen length (differs from ``params.length_nm`` when sized by ions).
    ions : tuple of Ion
        Ion compositions, in the order of ``ncm_ranges(params).ions``.
    species : tuple of Species
        Charged species generated.
    species_index : (N,) int16 array
        Index into ``species`` of each detected ion; -1 for background.
    ion_index : (N,) int16 array
        Index into ``ions``; -1 for background.
    true_mass_to_charge_da : (N,) float32 array
        Centre of each ion's isotope peak (background: its drawn m/q).
    position_nm : (N, 3) float32 array
        True position before reconstruction blur.
    is_background : (N,) bool array
    composition : DepthComposition
        True atom counts and generating ratios by depth.
    line_features, clusters : tuple
        Feature geometry (specimen coordinates, nm).
    lost_atom_counts : dict
        Atoms per element removed by dead-time loss.
    """

    params: SpecimenParams
    length_nm: float
    ions: tuple[Ion, ...]
    species: tuple[Species, ...]
    species_index: np.ndarray
    ion_index: np.ndarray
    true_mass_to_charge_da: np.ndarray
    position_nm: np.ndarray
    is_background: np.ndarray
    composition: DepthComposition
    line_features: tuple[LineFeature, ...]
    clusters: tuple[Cluster, ...]
    lost_atom_counts: dict[str, int]

    @property
    def charge_state(self) -> np.ndarray:
        """Charge state of each ion (0 for background), int8."""
        charges = np.array([sp.charge for sp in self.species] + [0], dtype=np.int8)
        return charges[self.species_index]

    def ion_index_in(self, ranges) -> np.ndarray:
        """True ion index of each ion into another range table's ``ions`` (by composition).

        For a range file read back from disk, whose ion order or names may differ. Ions
        whose composition the table lacks, and background, get -1.
        """
        keys = {tuple(sorted(ion.atoms)): k for k, ion in enumerate(ranges.ions) if ion.atoms}
        lookup = np.array([keys.get(tuple(sorted(ion.atoms)), -1) for ion in self.ions] + [-1],
                          dtype=np.int16)
        return lookup[self.ion_index]

    def atoms_per_ion_table(self) -> np.ndarray:
        """(len(ions), 5) atom counts per element of each ion composition."""
        table = np.zeros((len(self.ions), len(ELEMENTS)), dtype=np.int64)
        for k, ion in enumerate(self.ions):
            for symbol, count in ion.atoms:
                table[k, ELEMENTS.index(symbol)] += count
        return table

    def element_counts(self, selection: np.ndarray | None = None) -> dict[str, int]:
        """True atoms per element in the (selected) ions; background contributes none."""
        index = self.ion_index if selection is None else self.ion_index[selection]
        per_ion = np.bincount(index[index >= 0], minlength=len(self.ions))
        totals = per_ion @ self.atoms_per_ion_table()
        return {el: int(v) for el, v in zip(ELEMENTS, totals)}

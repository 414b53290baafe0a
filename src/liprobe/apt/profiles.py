"""One-dimensional concentration profiles along an axis of the specimen.

The default axis is the analysis direction: distance from the top surface, growing with
evaporation order (see :func:`concentration_profile`). Bins are fixed-width (``bin_nm``) or
hold a fixed number of ranged ions (``bin_ions``). Molecular ions decompose into their
atoms, which sit at the ion's position.

Reference: D. J. Larson et al., *Local Electrode Atom Probe Tomography* (Springer, 2013),
ch. 7 (one-dimensional concentration profiles and their counting statistics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.apt import profile_kernels as _k
from liprobe.apt._fractions import default_denominator
from liprobe.apt._guards import finite_position_bounds, require_bins
from liprobe.apt._range_kernels import COMPILED_MIN_IONS
from liprobe.apt.axis import axis_coordinate
from liprobe.apt.species import atoms_per_species, ions_per_species, species_per_ion
from liprobe.counting import atom_covariance, fractions_with_sigma, ratios_with_sigma
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.tabular import FrameView

__all__ = ["Profile", "concentration_profile"]



@dataclass(frozen=True, eq=False)
class Profile(FrameView):
    """A 1-D concentration profile with counting uncertainty.

    Attributes
    ----------
    start_nm, end_nm : (n_bins,) float64
        Bin edges along the axis (distance from the top surface for ``axis="z"``).
    elements : tuple of str
        Column order of the count arrays.
    atom_counts : (n_bins, n_elements) int64
        Atoms per bin and element (molecular ions decomposed).
    ion_counts : (n_bins,) int64
        Ranged ions per bin.
    denominator : tuple of str
        Elements summed in the ratio denominator (default as for every ratio in liprobe,
        :func:`liprobe.counting.denominator_for`: Ni+Co+Mn where ranged).
    axis : str
        What the distance means.
    atom_covariance : (n_bins, n_elements, n_elements) float64 or None
        Counting covariance of each bin's atoms from its ion-species counts
        (:func:`liprobe.counting.atom_covariance`: O2+ carries two O, MO+ feeds metal and
        O); None treats atoms as independent Poisson counts.
    """

    start_nm: np.ndarray
    end_nm: np.ndarray
    elements: tuple[str, ...]
    atom_counts: np.ndarray
    ion_counts: np.ndarray
    denominator: tuple[str, ...]
    axis: str
    atom_covariance: np.ndarray | None = None

    @property
    def n_bins(self) -> int:
        """Number of bins."""
        return int(self.start_nm.shape[0])

    @property
    def center_nm(self) -> np.ndarray:
        """Bin centres in nm."""
        return 0.5 * (self.start_nm + self.end_nm)

    @property
    def n_atoms(self) -> np.ndarray:
        """Atoms per bin."""
        return self.atom_counts.sum(axis=1)

    @property
    def fractions(self) -> np.ndarray:
        """Atom fractions (n_bins, n_elements); NaN in empty bins."""
        return fractions_with_sigma(self.atom_counts, self.atom_covariance)[0]

    @property
    def sigmas(self) -> np.ndarray:
        """σ of :attr:`fractions` (delta method, :mod:`liprobe.counting`)."""
        return fractions_with_sigma(self.atom_counts, self.atom_covariance)[1]

    @property
    def ratios(self) -> np.ndarray:
        """N_X / N_denominator per bin (n_bins, n_elements)."""
        return ratios_with_sigma(self.atom_counts, self.elements, self.denominator,
                                 self.atom_covariance)[0]

    @property
    def ratio_sigmas(self) -> np.ndarray:
        """σ of :attr:`ratios` (delta method with the bin's atom covariance)."""
        return ratios_with_sigma(self.atom_counts, self.elements, self.denominator,
                                 self.atom_covariance)[1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{"axis", "denominator", "bins": [{start_nm, end_nm, n_atoms,
        fractions, sigmas, ratios, ratio_sigmas}]}``."""
        frac, sig = fractions_with_sigma(self.atom_counts, self.atom_covariance)
        rat, rsig = ratios_with_sigma(self.atom_counts, self.elements, self.denominator,
                                 self.atom_covariance)
        bins = []
        for b in range(self.n_bins):
            bins.append({
                "start_nm": float(self.start_nm[b]),
                "end_nm": float(self.end_nm[b]),
                "n_atoms": int(self.atom_counts[b].sum()),
                "n_ions": int(self.ion_counts[b]),
                "fractions": {e: float(frac[b, i]) for i, e in enumerate(self.elements)},
                "sigmas": {e: float(sig[b, i]) for i, e in enumerate(self.elements)},
                "ratios": {e: float(rat[b, i]) for i, e in enumerate(self.elements)},
                "ratio_sigmas": {e: float(rsig[b, i]) for i, e in enumerate(self.elements)},
            })
        return {"axis": self.axis, "denominator": list(self.denominator), "bins": bins}

    def to_frame(self):
        """A pandas DataFrame: one row per bin, the columns of :meth:`columns`."""
        import pandas as pd

        return pd.DataFrame(self.columns())

    def columns(self) -> dict[str, np.ndarray]:
        """One array per column, one entry per bin: ``start_nm, end_nm, n_atoms, n_ions``
        and per element ``X``, ``sigma_X``, ``X_ratio``, ``sigma_X_ratio``."""
        frac, sig = fractions_with_sigma(self.atom_counts, self.atom_covariance)
        rat, rsig = ratios_with_sigma(self.atom_counts, self.elements, self.denominator,
                                 self.atom_covariance)
        data: dict[str, Any] = {
            "start_nm": self.start_nm, "end_nm": self.end_nm, "n_atoms": self.n_atoms,
            "n_ions": self.ion_counts,
        }
        for i, e in enumerate(self.elements):
            data[e] = frac[:, i]
            data[f"sigma_{e}"] = sig[:, i]
            data[f"{e}_ratio"] = rat[:, i]
            data[f"sigma_{e}_ratio"] = rsig[:, i]
        return data

    def _summary(self) -> str:
        return (f"{self.n_bins} bins along {self.axis}; ratios to "
                + "+".join(self.denominator))


#: Fine bins of the histogram that locates the equal-count edges (compiled path).
_FINE_BINS = 1 << 16
#: Most distances the compiled path gathers to sort; beyond, the copy path runs.
_MAX_GATHERED = 1 << 22


def _equal_count_edges(coord, species, origin, sign, span, bin_ions, n_ranged):
    # exact order statistics of the ranged ions' float32 distances max(sign * (coord -
    # origin), 0): one far outlier cannot merge the other ions into one bin, as a fixed grid
    # of fine bins over the whole span would
    total = int(n_ranged)
    if total == 0:
        raise ParameterError("no ranged ions to bin: check the range table")
    n_bins = max(1, int(round(total / bin_ions)))
    if n_bins == 1:
        return np.array([0.0, span])
    kth = np.unique((np.arange(1, n_bins) * (total / n_bins)).astype(np.int64))
    values = None
    if coord.shape[0] >= COMPILED_MIN_IONS and span > 0:
        values = _order_statistics_by_histogram(coord, species, origin, sign, span, kth)
    if values is None:
        values = _order_statistics_by_copy(coord, species, origin, sign, kth)
    inner = np.unique(values.astype(np.float64))
    inner = inner[(inner > 0.0) & (inner < span)]
    return np.concatenate([[0.0], inner, [span]])


def _order_statistics_by_copy(coord, species, origin, sign, kth):
    """The kth smallest distances from a float32 copy of the ranged ions' coordinates."""
    if coord.dtype == np.uint32:  # the bits of a big-endian column (axis_coordinate)
        coord = coord.view(">f4")
    distance = coord[species >= 0]
    if not (distance.dtype == np.float32 and distance.dtype.isnative):
        distance = distance.astype(np.float32)
    distance -= np.float32(origin)
    if sign < 0:
        np.negative(distance, out=distance)
    np.maximum(distance, np.float32(0.0), out=distance)
    distance.partition(kth)  # in place: distance is this function's own copy
    return distance[kth]


def _order_statistics_by_histogram(coord, species, origin, sign, span, kth):
    """The kth smallest distances without a copy: a fine histogram of the distances locates
    each rank's bin, one more pass gathers the distances of those few bins only, and a sort
    of them gives the exact values. None when the gathered ions would be too many (distances
    piled in a few bins)."""
    origin32, negate = np.float32(origin), bool(sign < 0)
    inv_width = _FINE_BINS / float(span)
    hist = _k.distance_histogram(coord, species, origin32, negate, inv_width, _FINE_BINS)
    below = np.concatenate([[0], np.cumsum(hist)])  # ions in the bins before each bin
    rank_bin = np.searchsorted(below, kth, side="right") - 1
    wanted = np.zeros(_FINE_BINS, np.uint8)
    wanted[rank_bin] = 1
    gathered_before = np.concatenate([[0], np.cumsum(hist * wanted)])
    n_gathered = int(gathered_before[-1])
    if n_gathered > _MAX_GATHERED:
        return None
    gathered = np.empty(n_gathered, np.float32)
    _k.distances_in_bins(coord, species, origin32, negate, inv_width, wanted, gathered)
    gathered.sort()
    return gathered[kth - below[rank_bin] + gathered_before[rank_bin]]


def concentration_profile(
    ions: IonTable,
    ranges: RangeTable,
    *,
    axis: str | tuple[float, float, float] = "z",
    bin_nm: float | None = None,
    bin_ions: int | None = None,
    normalize_to: str | tuple[str, ...] | None = None,
    overlap: str = "error",
    species: np.ndarray | None = None,
) -> Profile:
    """Atom counts, fractions and ratios to metal in bins along an axis.

    Parameters
    ----------
    ions : IonTable
        The point cloud (any subset, e.g. a cylinder ROI from :mod:`liprobe.apt.roi`).
    ranges : RangeTable
        Mass ranges (interval ``low <= m < high``).
    axis : {"z", "x", "y"} or 3-vector
        ``"z"`` (default) is the analysis direction: distance from the top surface, the
        sign chosen so that it grows with evaporation order and 0 at the first ion's z;
        ions reconstructed above the first ion fall in the first bin. Other axes:
        projection minus its minimum.
    bin_nm : float, optional
        Fixed bin width in nm (default 1 nm when neither option is given).
    bin_ions : int, optional
        Approximately this many ranged ions per bin (edges at the exact order statistics of
        the ranged ions' distances, found by a partial partition, not a full sort; an
        outlying ion cannot merge the others into one bin). Exclusive with ``bin_nm``.
    normalize_to : str or tuple of str, optional
        Ratio denominator; default Ni + Co + Mn where ranged (as in the paper; see
        :func:`liprobe.counting.denominator_for`).
    overlap : {"error", "first"}
        Passed to the ranging step.
    species : (N,) int array, optional
        Precomputed species index per ion (-1 unranged), to skip ranging.

    Returns
    -------
    Profile

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, IonTable, RangeTable
    >>> xyz = np.zeros((4, 3), np.float32); xyz[:, 2] = [0.1, 0.2, 1.1, 1.2]
    >>> ions = IonTable(xyz, np.array([7.0, 29.0, 7.0, 7.0], np.float32))
    >>> rt = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
    ...                 [6.5, 28.5], [7.5, 29.5], [0, 1])
    >>> concentration_profile(ions, rt, bin_nm=1.0).ratios[:, 0].tolist()
    [1.0, nan]
    """
    if bin_nm is not None and bin_ions is not None:
        raise ParameterError("give bin_nm or bin_ions, not both")
    if bin_nm is not None and not (np.isfinite(bin_nm) and bin_nm > 0):
        raise ParameterError(f"bin_nm must be a positive number of nm, got {bin_nm}")
    if bin_ions is not None and int(bin_ions) < 1:
        raise ParameterError(f"bin_ions must be at least 1, got {bin_ions}")
    if bin_nm is None and bin_ions is None:
        bin_nm = 1.0
    if ions.n_ions == 0:
        raise ParameterError("the ion table is empty: nothing to profile")
    elements, atoms = atoms_per_species(ranges)
    denominator = default_denominator(elements, normalize_to)
    low, high = finite_position_bounds(ions, what="concentration profile")
    species = species_per_ion(ions, ranges, overlap=overlap, known=species)
    # a big-endian memory map is read in place by the kernels (no copy of the column)
    coord, origin, sign, label = axis_coordinate(ions.xyz_nm, axis, in_place=True)
    if isinstance(axis, str):
        a = "xyz".index(axis)
        far = float(high[a]) if sign > 0 else float(low[a])
    else:
        far = float(coord.max()) if sign > 0 else float(coord.min())
    span = max(float(sign * (far - origin)), 0.0)
    if bin_ions is not None:
        n_ranged = int(ions_per_species(species, ranges.n_ions).sum())
        edges = _equal_count_edges(coord, species, origin, sign, span, int(bin_ions), n_ranged)
        ion_species = _k.count_with_edges(coord, species, origin, sign, edges, ranges.n_ions)
    else:
        n_bins = max(1, require_bins(
            np.floor(span / bin_nm) + 1, what=f"profile of {span:.4g} nm in {bin_nm:g} nm bins",
            fix="choose a larger bin_nm, bin by ion count (bin_ions), or crop outlying ions"))
        edges = np.arange(n_bins + 1) * float(bin_nm)
        ion_species = _k.count_fixed_width(coord, species, origin, sign, float(bin_nm), n_bins,
                                           ranges.n_ions)
    atom_counts = ion_species @ atoms
    return Profile(
        start_nm=edges[:-1].astype(np.float64), end_nm=edges[1:].astype(np.float64),
        elements=elements, atom_counts=atom_counts, ion_counts=ion_species.sum(axis=1),
        denominator=denominator, axis=label,
        atom_covariance=atom_covariance(ion_species, atoms),
    )

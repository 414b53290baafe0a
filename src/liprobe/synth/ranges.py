"""The range file an expert would set for a synthetic NCM specimen."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from liprobe.data import RangeTable
from liprobe.errors import ParameterError
from liprobe.synth import _detection as det
from liprobe.synth._chemistry import build_peak_table, class_weights
from liprobe.synth.params import SpecimenParams
from liprobe.synth.species import DEFAULT_EVAPORATION, evaporation_table

__all__ = ["ncm_ranges", "ion_list"]

#: Half-width of the range below a peak and the core part above it, in core sigmas.
CORE_SIGMAS = 4.0
#: Part of the thermal tail covered above the core, in tail decay lengths.
TAIL_LENGTHS = 3.0
#: Peaks expected below this fraction of all ions are not ranged.
MIN_PEAK_FRACTION = 2e-4


def ncm_ranges(params: SpecimenParams | Sequence[str] | None = None, *,
               min_peak_fraction: float = MIN_PEAK_FRACTION) -> RangeTable:
    """Range table for a synthetic specimen: one range per visible isotope peak.

    Each range spans ``CORE_SIGMAS`` core sigmas below the peak and, above it, the core
    plus ``TAIL_LENGTHS`` decay lengths of the thermal tail (at the specimen's mean
    voltage). A range that would run into the next peak's range stops where that one
    starts. Peaks of different species closer than the core resolution (true overlaps
    such as O2+ / 64Ni2+ at 32 Da, O2 2+ / O+ at 16 Da) share one range assigned to the
    species expected to dominate it, as an expert would set it.

    Parameters
    ----------
    params : SpecimenParams or sequence of species names, optional
        The specimen (its species, peak shape and mean composition), or species names
        (then default shapes and evaporation fractions are used). Default: the default
        specimen.
    min_peak_fraction : float
        Peaks expected to hold less than this fraction of all ions are not ranged.

    Returns
    -------
    RangeTable
        Its ``ions`` are in the same order as ``SpecimenTruth.ions``.

    Examples
    --------
    >>> table = ncm_ranges()
    >>> "Li" in table.ion_names and "O2" in table.ion_names
    True
    """
    params = _as_params(params)
    low_arr, high_arr, formulas = _raw_ranges(params, min_peak_fraction)
    ions = ion_list(params, min_peak_fraction=min_peak_fraction)
    names = [ion.name for ion in ions]
    index = [names.index(f) for f in formulas]
    colors = tuple(ions[i].color for i in index)
    return RangeTable(ions=ions, low_da=np.round(low_arr, 4), high_da=np.round(high_arr, 4),
                      ion_index=np.array(index), colors=colors)


def _as_params(params: SpecimenParams | Sequence[str] | None) -> SpecimenParams:
    if params is None:
        return SpecimenParams()
    if isinstance(params, SpecimenParams):
        return params
    names = [str(n) for n in params]
    default = dict(DEFAULT_EVAPORATION)
    fractions = tuple((n, default.get(n, 1.0)) for n in names)
    evaporation_table(fractions, overlaps=True)
    return SpecimenParams(evaporation=fractions, overlaps=True)


def ion_list(params: SpecimenParams, *, min_peak_fraction: float = MIN_PEAK_FRACTION):
    """Ion compositions of a specimen: in order of their first range (by m/q), then the
    generated ions that have no visible peak. A range file read back lists its ions in
    the same order."""
    _, _, formulas = _raw_ranges(params, min_peak_fraction)
    seen: dict[str, object] = {f: None for f in formulas}
    for sp, _ in params.species_fractions:
        seen.setdefault(sp.formula, None)
    by_formula = {sp.formula: sp.to_ion() for sp, _ in params.species_fractions}
    return tuple(by_formula[f] for f in seen)


def _raw_ranges(params: SpecimenParams, min_peak_fraction: float):
    """Sorted, disjoint ranges as ``(low_da, high_da, formula per range)``."""
    peaks = build_peak_table(params.species_fractions)
    ratios = params.profile.mean_ratios(params.specimen_depth_nm,
                                        params.specimen_depth_nm + params.length_nm)
    weights = np.array([float(w[0]) for w in class_weights(
        {k: np.atleast_1d(v) for k, v in ratios.items()}, peaks)])
    expected = weights[peaks.class_of_peak] * peaks.prob_in_class
    expected = expected / expected.sum()
    visible = np.flatnonzero(expected >= min_peak_fraction)
    mass = peaks.mass_da[visible]
    order = np.argsort(mass)
    visible, mass = visible[order], mass[order]

    sigma = mass / (params.mass_resolving_power * 2 * math.sqrt(2 * math.log(2)))
    tan = math.tan(math.radians(params.shank_angle_deg))
    radius = params.apex_radius_nm + tan * params.length_nm / 2
    voltage = params.field_factor * params.evaporation_field_v_per_nm * radius
    tof = det.tof_ns_from_mass(mass, voltage, params.flight_length_mm)
    tail_da = (2 * mass * params.thermal_tail_ns / tof if params.thermal_tail_fraction > 0
               else np.zeros_like(mass))
    # group peaks of different species that cannot be told apart
    groups: list[list[int]] = []
    for k in range(mass.size):
        if groups and mass[k] - mass[groups[-1][-1]] < 3 * sigma[k]:
            groups[-1].append(k)
        else:
            groups.append([k])
    low, high, formulas = [], [], []
    for group in groups:
        g = np.asarray(group)
        dominant = g[np.argmax(expected[visible[g]])]
        species = peaks.species[peaks.species_of_peak[visible[dominant]]]
        low.append(mass[g].min() - CORE_SIGMAS * sigma[g].max())
        high.append(mass[g].max() + CORE_SIGMAS * sigma[g].max()
                    + TAIL_LENGTHS * tail_da[g].max())
        formulas.append(species.formula)
    low_arr, high_arr = np.array(low), np.array(high)
    for k in range(len(low_arr) - 1):  # a range stops where the next one starts
        if high_arr[k] > low_arr[k + 1]:
            high_arr[k] = low_arr[k + 1]
    if np.any(high_arr <= low_arr):
        raise ParameterError("the mass resolution is too poor to range the NCM peaks; "
                             "raise mass_resolving_power")
    return low_arr, high_arr, formulas

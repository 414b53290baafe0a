"""Generate a synthetic NCM atom-probe specimen with its ground truth."""

from __future__ import annotations

import math

import numpy as np

from liprobe.data import IonTable
from liprobe.errors import ParameterError
from liprobe.synth import _detection as det
from liprobe.synth._chemistry import (
    build_peak_table,
    class_weights,
    local_ratios,
    mean_atoms_per_ion,
    pick_peaks,
)
from liprobe.synth._geometry import cone_volume_nm3, length_for_volume_nm, sample_cone
from liprobe.synth.params import SpecimenParams
from liprobe.synth.profile import ELEMENTS
from liprobe.synth.ranges import ion_list
from liprobe.synth.truth import DepthComposition, SpecimenTruth

__all__ = ["generate_specimen"]

#: Lateral spread (nm) of the extra ions of a multi-hit pulse around the first ion.
MULTI_HIT_SPREAD_NM = 1.0


def _size(params: SpecimenParams, peaks, tan: float, rng: np.random.Generator) -> tuple[int, float]:
    def ion_density(length_nm: float) -> float:
        ratios = params.profile.mean_ratios(params.specimen_depth_nm,
                                            params.specimen_depth_nm + length_nm)
        return params.atom_density_per_nm3 * params.detection_efficiency / mean_atoms_per_ion(
            ratios, peaks) / (1 - params.background_fraction)

    if params.n_ions is None:
        length = params.length_nm
        expected = ion_density(length) * cone_volume_nm3(params.apex_radius_nm, tan, length)
        return int(rng.poisson(expected)), length
    length = params.length_nm
    for _ in range(3):
        length = length_for_volume_nm(params.apex_radius_nm, tan,
                                      params.n_ions / ion_density(length))
    return params.n_ions, length


def generate_specimen(
    params: SpecimenParams, *, rng: np.random.Generator, truth_bin_nm: float = 1.0,
) -> tuple[IonTable, SpecimenTruth]:
    """Generate an atom-probe data set of Li(Ni0.80Co0.15Mn0.05)O2 and its truth.

    Atoms are placed uniformly in a truncated cone (density times detection efficiency),
    in evaporation order (z from the top). The local ratios (depth profile, Li trend,
    line features, clusters) set the odds of each ion class (Li, Ni, Co, Mn ions; O-only
    ions from the O the metal oxides leave), the evaporation fractions pick the species
    and natural abundances its isotope peak. Pulses group ions into multi-hits; the peak
    shape is a Gaussian core with an exponential time-of-flight tail; a fraction of
    events is constant-TOF background; optional same-isotope dead time removes ions.

    Parameters
    ----------
    params : SpecimenParams
        The specimen.
    rng : numpy.random.Generator
        All randomness comes from here (same seed, same bytes).
    truth_bin_nm : float
        Bin width of the true composition by depth.

    Returns
    -------
    ions : IonTable
        Reconstructed positions (blurred), m/q and every EPOS field: ``tof_ns``,
        ``dc_voltage_kv``, ``pulse_voltage_kv`` (0, laser mode), ``detector_x_mm``,
        ``detector_y_mm``, ``pulses_since_last``, ``ions_per_pulse``.
    truth : SpecimenTruth

    References
    ----------
    M. K. Miller, R. G. Forbes, *Atom-Probe Tomography* (Springer 2014): point
    projection, time of flight ``m/q = 2eV t^2 / L^2``, multiple events.
    B. Gault et al., *Atom Probe Microscopy* (Springer 2012): laser-pulsing thermal tails,
    detector dead time.

    Examples
    --------
    >>> import numpy as np
    >>> ions, truth = generate_specimen(SpecimenParams(n_ions=2000), rng=np.random.default_rng(1))
    >>> ions.n_ions <= 2000, truth.ion_index.shape == (ions.n_ions,)
    (True, True)
    """
    if not isinstance(params, SpecimenParams):
        raise ParameterError("params must be a SpecimenParams (see liprobe.synth.get_preset)")
    if not (np.isfinite(truth_bin_nm) and truth_bin_nm > 0):
        raise ParameterError(f"truth_bin_nm must be > 0, got {truth_bin_nm}")
    peaks = build_peak_table(params.species_fractions)
    tan = math.tan(math.radians(params.shank_angle_deg))
    n, length = _size(params, peaks, tan, rng)

    xyz, radius = sample_cone(n, params.apex_radius_nm, tan, length, rng)
    event = det.pulse_events(n, params.multi_hit_probability, params.multi_hit_mean_extra, rng)
    first = np.ones(n, dtype=bool)
    first[1:] = event[1:] != event[:-1]
    start_idx = np.flatnonzero(first)
    cont = np.flatnonzero(~first)
    if cont.size:  # extra ions of a pulse come from near the first ion
        anchor = start_idx[event[cont]]
        xy = xyz[anchor, :2] + rng.normal(0.0, MULTI_HIT_SPREAD_NM, (cont.size, 2)).astype(
            np.float32)
        rho = np.sqrt((xy * xy).sum(axis=1))
        shrink = np.minimum(1.0, radius[cont] / np.maximum(rho, 1e-6)).astype(np.float32)
        xyz[cont, :2] = xy * shrink[:, None]
        del xy, rho, shrink, anchor

    background = rng.random(n, dtype=np.float32) < params.background_fraction
    ratios = local_ratios(params, xyz, length)
    weights = class_weights(ratios, peaks)
    del ratios
    peak = pick_peaks(weights, peaks, background, rng)
    del weights

    voltage_v = (params.field_factor * params.evaporation_field_v_per_nm) * radius.astype(
        np.float64)
    real = np.flatnonzero(~background)
    bg = np.flatnonzero(background)
    true_mass = np.empty(n, dtype=np.float64)
    true_mass[real] = peaks.mass_da[peak[real]]
    true_mass[bg] = det.sample_background_mass(bg.size, *params.background_range_da, rng)
    mass = np.empty(n, dtype=np.float64)
    tof = np.empty(n, dtype=np.float64)
    mass[real], tof[real] = det.shape_peaks(
        true_mass[real], voltage_v[real], resolving_power=params.mass_resolving_power,
        tail_ns=params.thermal_tail_ns, tail_fraction=params.thermal_tail_fraction,
        flight_length_mm=params.flight_length_mm, rng=rng)
    mass[bg] = true_mass[bg]
    tof[bg] = det.tof_ns_from_mass(true_mass[bg], voltage_v[bg], params.flight_length_mm)
    del real, bg

    scale = np.float32(params.detector_radius_mm) / radius
    det_x = xyz[:, 0] * scale
    det_y = xyz[:, 1] * scale
    del scale
    pulses = np.zeros(n, dtype=np.int32)
    pulses[start_idx] = rng.geometric(params.detection_rate_per_pulse, start_idx.size)

    keep = None
    lost_atoms = {el: 0 for el in ELEMENTS}
    if params.dead_time.enabled:
        lost = det.dead_time_losses(event, tof, det_x, det_y,
                                    dead_time_ns=params.dead_time.dead_time_ns,
                                    dead_zone_mm=params.dead_time.dead_zone_mm)
        if lost.any():
            lost_peaks = peak[lost]
            sp_lost = peaks.species_of_peak[lost_peaks[lost_peaks >= 0]]
            totals = np.bincount(sp_lost, minlength=len(peaks.species)) @ peaks.atoms
            lost_atoms = {el: int(v) for el, v in zip(ELEMENTS, totals)}
            keep = np.flatnonzero(~lost)
    if keep is not None:
        xyz, radius, event, peak, background = (a[keep] for a in (xyz, radius, event, peak,
                                                                   background))
        true_mass, mass, tof, voltage_v = (a[keep] for a in (true_mass, mass, tof, voltage_v))
        det_x, det_y, pulses = det_x[keep], det_y[keep], pulses[keep]
        n = keep.size
        first = np.ones(n, dtype=bool)
        first[1:] = event[1:] != event[:-1]
        start_idx = np.flatnonzero(first)
    del radius
    ions_per_pulse = np.zeros(n, dtype=np.int32)
    ions_per_pulse[start_idx] = np.diff(np.append(start_idx, n))
    del event, first, start_idx

    sigma = np.array([params.lateral_blur_nm, params.lateral_blur_nm, params.depth_blur_nm],
                     dtype=np.float32)
    xyz_rec = xyz + rng.standard_normal((n, 3), dtype=np.float32) * sigma
    fields = {
        "tof_ns": tof.astype(np.float32),
        "dc_voltage_kv": (voltage_v * 1e-3).astype(np.float32),
        "pulse_voltage_kv": np.zeros(n, dtype=np.float32),
        "detector_x_mm": det_x,
        "detector_y_mm": det_y,
        "pulses_since_last": pulses,
        "ions_per_pulse": ions_per_pulse,
    }
    del tof, voltage_v
    ions = IonTable(xyz_rec, mass.astype(np.float32), fields)
    del mass

    ion_names = [ion.name for ion in ion_list(params)]
    sp_to_ion = np.array([ion_names.index(sp.formula) for sp in peaks.species] + [-1],
                         dtype=np.int16)
    sp_of_peak = np.append(peaks.species_of_peak, -1).astype(np.int16)
    species_index = sp_of_peak[peak]  # peak -1 (background) picks the appended -1
    composition = _depth_composition(params, peaks, xyz[:, 2], species_index, length,
                                     truth_bin_nm)
    truth = SpecimenTruth(
        params=params, length_nm=float(length), ions=ion_list(params), species=peaks.species,
        species_index=species_index, ion_index=sp_to_ion[species_index],
        true_mass_to_charge_da=true_mass.astype(np.float32), position_nm=xyz,
        is_background=background, composition=composition,
        line_features=params.line_features, clusters=params.clusters,
        lost_atom_counts=lost_atoms,
    )
    return ions, truth


def _depth_composition(params: SpecimenParams, peaks, z_nm: np.ndarray,
                       species_index: np.ndarray, length_nm: float,
                       bin_nm: float) -> DepthComposition:
    n_bins = max(1, int(math.ceil(length_nm / bin_nm)))
    edges = np.arange(n_bins + 1) * bin_nm
    real = species_index >= 0
    bins = np.minimum((z_nm[real] / bin_nm).astype(np.int64), n_bins - 1)
    per_species = np.zeros((n_bins, len(peaks.species)), dtype=np.int64)
    flat = bins * len(peaks.species) + species_index[real]
    per_species += np.bincount(flat, minlength=per_species.size).reshape(per_species.shape)
    counts = per_species @ peaks.atoms
    centers = 0.5 * (edges[1:] + edges[:-1])
    material = np.stack([params.profile.ratio_at(el, params.specimen_depth_nm + centers)
                         for el in ELEMENTS], axis=1)
    generated = material.copy()
    if params.li_trend_per_nm != 0:
        generated[:, 0] *= np.maximum(1 + params.li_trend_per_nm * (centers - length_nm / 2), 0)
    return DepthComposition(
        depth_edges_nm=edges, elements=ELEMENTS, atom_counts=counts,
        ion_counts=per_species.sum(axis=1), material_ratios=material,
        generated_ratios=generated)

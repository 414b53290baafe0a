"""Detector-space synthesis: evaporate a needle through a point-projection model.

The ions of :func:`generate_detector_run` carry detector hits, voltages and times of
flight from which a reconstruction (:mod:`liprobe.apt.reconstruct`) recovers the true
positions kept in the truth.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.isotopes import isotopologue_peaks
from liprobe.synth import _detection as det
from liprobe.synth._chemistry import (
    build_peak_table,
    class_weights,
    local_ratios,
    mean_atoms_per_ion,
    pick_peaks,
)
from liprobe.synth._evaporation import fragment_flight_ns, sample_cap_events, snap_to_planes
from liprobe.synth.detector_params import DetectorRun
from liprobe.synth.ranges import ion_list
from liprobe.synth.species import get_species

__all__ = ["DetectorTruth", "generate_detector_run", "write_detector_run"]


@dataclass(frozen=True, eq=False)
class DetectorTruth:
    """Ground truth of a detector-space run, one row per detected ion.

    Positions are in the reconstruction frame: x, y across, z <= 0 into the specimen,
    z = 0 the initial apex.

    Attributes
    ----------
    run : DetectorRun
    position_nm : (N, 3) float32
        True atom positions (background events: the point their detector hit maps to).
    apex_depth_nm, radius_nm : (N,) float32
        Apex depth and cap radius when the ion left.
    species_index, ion_index : (N,) int16
        As in :class:`~liprobe.synth.SpecimenTruth` (-1 for background).
    true_mass_to_charge_da : (N,) float32
        Peak m/q (fragments: the fragment's own m/q; neutrals NaN).
    is_background, is_fragment : (N,) bool
    atomic_volume_nm3 : float
        Volume per detected event times eta: the Omega of the Bas protocol.
    n_lost_dead_time : int
    """

    run: DetectorRun
    position_nm: np.ndarray
    apex_depth_nm: np.ndarray
    radius_nm: np.ndarray
    species_index: np.ndarray
    ion_index: np.ndarray
    true_mass_to_charge_da: np.ndarray
    is_background: np.ndarray
    is_fragment: np.ndarray
    atomic_volume_nm3: float
    n_lost_dead_time: int

    def summary(self) -> dict[str, object]:
        """JSON-ready parameters and the figures a reconstruction is checked against."""
        sp = self.run.specimen
        return {
            "run": asdict(self.run),
            "generating_parameters": {
                "icf": self.run.icf, "field_factor": sp.field_factor,
                "evaporation_field_v_nm": sp.evaporation_field_v_per_nm,
                "detection_efficiency": sp.detection_efficiency,
                "flight_path_mm": sp.flight_length_mm,
                "detector_radius_mm": sp.detector_radius_mm,
                "atomic_volume_nm3": self.atomic_volume_nm3,
                "initial_radius_nm": sp.apex_radius_nm, "shank_angle_deg": sp.shank_angle_deg},
            "field_of_view_half_angle_deg": math.degrees(self.run.field_of_view_half_angle_rad),
            "bas_depth_factor": self.run.bas_depth_factor,
            "n_ions": int(self.position_nm.shape[0]),
            "final_apex_depth_nm": float(self.apex_depth_nm[-1]) if len(self.apex_depth_nm)
            else 0.0,
            "n_background": int(self.is_background.sum()),
            "n_fragments": int(self.is_fragment.sum()),
            "n_lost_dead_time": self.n_lost_dead_time,
        }


def _event_density(run: DetectorRun, peaks) -> float:
    sp = run.specimen
    ratios = sp.profile.mean_ratios(sp.specimen_depth_nm, sp.specimen_depth_nm + sp.length_nm)
    return (sp.atom_density_per_nm3 * sp.detection_efficiency
            / mean_atoms_per_ion(ratios, peaks) / (1 - sp.background_fraction))


def _n_events(run: DetectorRun, density: float, rng: np.random.Generator) -> int:
    sp = run.specimen
    if sp.n_ions is not None:
        return sp.n_ions
    r0, s, length = sp.apex_radius_nm, run.radius_growth, sp.length_nm
    r2_integral = r0**2 * length if s == 0 else ((r0 + s * length) ** 3 - r0**3) / (3 * s)
    return int(rng.poisson(density * math.pi * run.projected_area_factor * r2_integral))


def generate_detector_run(run: DetectorRun, *, rng: np.random.Generator
                          ) -> tuple[IonTable, DetectorTruth]:
    """Evaporate a synthetic NCM needle through a point-projection model.

    The apex is a hemispherical cap of radius R(a) = R0 + a sin(alpha)/(1 - sin(alpha))
    (tangent to the shank of half-angle alpha) whose top has advanced a into the
    specimen. An atom at angle theta on the cap leaves at voltage V = k_f F R, flies at
    theta' = theta / xi and hits the detector at D = L tan(theta') (azimuth kept); only
    theta' <= arctan(r_D / L) is detected. Chemistry, isotopes, peak shapes, multi-hits,
    background and dead time follow :func:`~liprobe.synth.generate_specimen`. The m/q in
    the file is computed from the time of flight with the recorded V and the nominal L,
    so ``voltage_offset_kv`` and ``bowl_error`` leave the errors a mass calibration fits.

    Parameters
    ----------
    run : DetectorRun
    rng : numpy.random.Generator

    Returns
    -------
    ions : IonTable
        ``xyz_nm`` the true positions (a perfect vendor reconstruction, for reference),
        m/q and every EPOS field (``dc_voltage_kv`` the recorded voltage,
        ``pulse_voltage_kv`` 0: laser pulsing).
    truth : DetectorTruth

    References
    ----------
    P. Bas et al., Appl. Surf. Sci. 87/88 (1995) 298; B. Gault et al., Ultramicroscopy
    111 (2011) 448 (point projection, image compression, cap geometry). D. W. Saxey,
    Ultramicroscopy 111 (2011) 473 (in-flight dissociation).

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.synth.detector_params import DetectorRun, detector_specimen
    >>> run = DetectorRun(detector_specimen(n_ions=2000))
    >>> ions, truth = generate_detector_run(run, rng=np.random.default_rng(0))
    >>> bool(np.all(np.hypot(ions.fields["detector_x_mm"], ions.fields["detector_y_mm"]) <= 20))
    True
    """
    if not isinstance(run, DetectorRun):
        raise ParameterError("run must be a DetectorRun (liprobe.synth.detector_params)")
    sp = run.specimen
    peaks = build_peak_table(sp.species_fractions)
    density = _event_density(run, peaks)
    n = _n_events(run, density, rng)
    r0, s, fov = sp.apex_radius_nm, run.radius_growth, run.field_of_view_half_angle_rad
    apex, theta, phi = sample_cap_events(
        n, apex_radius_nm=r0, radius_growth=s, area_factor=run.projected_area_factor,
        fov_rad=fov, events_per_nm3=density, rng=rng)
    if run.lattice_spacing_nm is not None:
        apex = snap_to_planes(apex, theta, apex_radius_nm=r0, radius_growth=s,
                              spacing_nm=run.lattice_spacing_nm,
                              jitter_nm=run.plane_jitter_nm, rng=rng)
        keep = np.flatnonzero(apex >= 0)
        order = keep[np.argsort(apex[keep], kind="stable")]
        apex, theta, phi = apex[order], theta[order], phi[order]
        n = apex.shape[0]
    event = det.pulse_events(n, sp.multi_hit_probability, sp.multi_hit_mean_extra, rng)
    first = np.ones(n, dtype=bool)
    first[1:] = event[1:] != event[:-1]
    start_idx = np.flatnonzero(first)
    cont = np.flatnonzero(~first)
    radius = r0 + s * apex
    if cont.size:  # other ions of a pulse: same time and ring, nearby along the ring
        anchor = start_idx[event[cont]]
        apex[cont], theta[cont] = apex[anchor], theta[anchor]
        radius[cont] = radius[anchor]
        ring = np.maximum(radius[cont] * np.sin(theta[cont]), 1e-3)
        phi[cont] = phi[anchor] + rng.normal(0.0, run.multi_hit_spread_nm, cont.size) / ring
    depth = apex + radius * (1 - np.cos(theta))
    rho = radius * np.sin(theta)
    xyz_down = np.stack([rho * np.cos(phi), rho * np.sin(phi), depth], axis=1).astype(
        np.float32)
    del rho

    background = rng.random(n, dtype=np.float32) < sp.background_fraction
    by_depth = np.argsort(xyz_down[:, 2], kind="stable")
    ratios_sorted = local_ratios(sp, xyz_down[by_depth], float(depth.max(initial=1.0)))
    ratios = {}
    for el, values in ratios_sorted.items():
        ratios[el] = np.empty_like(values)
        ratios[el][by_depth] = values
    del ratios_sorted, by_depth
    for layer in run.marker_layers:
        inside = (depth >= layer.depth_nm) & (depth < layer.depth_nm + layer.thickness_nm)
        ratios[layer.element][inside] *= np.float32(layer.enrichment)
    peak = pick_peaks(class_weights(ratios, peaks), peaks, background, rng)
    del ratios

    voltage_v = sp.field_factor * sp.evaporation_field_v_per_nm * radius
    if run.voltage_noise_fraction > 0:
        voltage_v = voltage_v * (1 + run.voltage_noise_fraction * rng.standard_normal(n))
    theta_det = theta / run.icf
    distance_mm = sp.flight_length_mm * np.tan(theta_det)
    det_x = distance_mm * np.cos(phi)
    det_y = distance_mm * np.sin(phi)
    bg = np.flatnonzero(background)
    if bg.size:  # background: uniform over the detector, no specimen atom behind it
        d_bg = sp.detector_radius_mm * np.sqrt(rng.random(bg.size))
        p_bg = rng.random(bg.size) * (2 * math.pi)
        det_x[bg], det_y[bg] = d_bg * np.cos(p_bg), d_bg * np.sin(p_bg)
        t_bg = np.arctan(d_bg / sp.flight_length_mm) * run.icf
        xyz_down[bg, 0] = radius[bg] * np.sin(t_bg) * np.cos(p_bg)
        xyz_down[bg, 1] = radius[bg] * np.sin(t_bg) * np.sin(p_bg)
        xyz_down[bg, 2] = apex[bg] + radius[bg] * (1 - np.cos(t_bg))
    real = np.flatnonzero(~background)
    true_mass = np.empty(n)
    true_mass[real] = peaks.mass_da[peak[real]]
    true_mass[bg] = det.sample_background_mass(bg.size, *sp.background_range_da, rng)
    mass = np.empty(n)
    mass[real], _ = det.shape_peaks(
        true_mass[real], voltage_v[real], resolving_power=sp.mass_resolving_power,
        tail_ns=sp.thermal_tail_ns, tail_fraction=sp.thermal_tail_fraction,
        flight_length_mm=sp.flight_length_mm, rng=rng)
    mass[bg] = true_mass[bg]
    del real, bg
    is_fragment = np.zeros(n, dtype=bool)
    species_index = np.append(peaks.species_of_peak, -1).astype(np.int16)[peak]

    for channel in run.dissociations:
        arrays = _dissociate(channel, peaks, peak, mass, voltage_v, sp, rng)
        if arrays is None:
            continue
        take, second, m_app, true_frag = arrays
        (apex, radius, theta, phi, xyz_down, voltage_v, det_x, det_y, event, peak,
         species_index, background, is_fragment, true_mass) = (
            a[take] for a in (apex, radius, theta, phi, xyz_down, voltage_v, det_x, det_y,
                              event, peak, species_index, background, is_fragment, true_mass))
        mass = m_app
        offset = rng.normal(0.0, 0.3, (second.size, 2))  # the two hits land close together
        det_x[second] += offset[:, 0]
        det_y[second] += offset[:, 1]
        is_fragment[second - 1] = True
        is_fragment[second] = True
        true_mass[second - 1], true_mass[second] = true_frag
        n = take.size

    # instrument errors: the recorded V and nominal L put m/q off by these factors
    distance2 = det_x**2 + det_y**2
    error = (1 + run.bowl_error * distance2 / sp.flight_length_mm**2)
    if run.voltage_offset_kv != 0:
        error = error * voltage_v / (voltage_v - run.voltage_offset_kv * 1e3)
    mass = mass * error
    del error, distance2
    tof = det.tof_ns_from_mass(mass, voltage_v, sp.flight_length_mm)

    n_lost = 0
    if sp.dead_time.enabled:
        lost = det.dead_time_losses(event, tof, det_x, det_y,
                                    dead_time_ns=sp.dead_time.dead_time_ns,
                                    dead_zone_mm=sp.dead_time.dead_zone_mm)
        n_lost = int(lost.sum())
        if n_lost:
            keep = np.flatnonzero(~lost)
            (apex, radius, xyz_down, voltage_v, det_x, det_y, event, peak, species_index,
             background, is_fragment, true_mass, mass, tof) = (
                a[keep] for a in (apex, radius, xyz_down, voltage_v, det_x, det_y, event,
                                  peak, species_index, background, is_fragment, true_mass,
                                  mass, tof))
            n = keep.size
    first = np.ones(n, dtype=bool)
    first[1:] = event[1:] != event[:-1]
    start_idx = np.flatnonzero(first)
    ions_per_pulse = np.zeros(n, dtype=np.int32)
    ions_per_pulse[start_idx] = np.diff(np.append(start_idx, n))
    pulses = np.zeros(n, dtype=np.int32)
    pulses[start_idx] = rng.geometric(sp.detection_rate_per_pulse, start_idx.size)

    position = xyz_down.copy()
    position[:, 2] *= -1
    fields = {
        "tof_ns": tof.astype(np.float32),
        "dc_voltage_kv": (voltage_v * 1e-3).astype(np.float32),
        "pulse_voltage_kv": np.zeros(n, dtype=np.float32),
        "detector_x_mm": det_x.astype(np.float32),
        "detector_y_mm": det_y.astype(np.float32),
        "pulses_since_last": pulses,
        "ions_per_pulse": ions_per_pulse,
    }
    ions = IonTable(position.copy(), mass.astype(np.float32), fields)
    ion_names = [ion.name for ion in ion_list(sp)]
    sp_to_ion = np.array([ion_names.index(x.formula) for x in peaks.species] + [-1],
                         dtype=np.int16)
    truth = DetectorTruth(
        run=run, position_nm=position, apex_depth_nm=apex.astype(np.float32),
        radius_nm=radius.astype(np.float32), species_index=species_index,
        ion_index=sp_to_ion[species_index], true_mass_to_charge_da=true_mass.astype(np.float32),
        is_background=background, is_fragment=is_fragment,
        atomic_volume_nm3=sp.detection_efficiency / density, n_lost_dead_time=n_lost)
    return ions, truth


def _fragment_mass(atoms: tuple[tuple[str, int], ...]) -> float:
    peaks = isotopologue_peaks(atoms, 1, merge_da=0.02)
    return float(max(peaks, key=lambda p: p[1])[0])


def _dissociate(channel, peaks, peak, mass, voltage_v, sp, rng):
    """Indices doubling the dissociated ions, and the fragments' apparent and true m/q."""
    parent = get_species(channel.parent)
    names = [x.name for x in peaks.species]
    if parent.name not in names:
        return None
    k = names.index(parent.name)
    ids = np.flatnonzero(peaks.species_of_peak == k)
    main = ids[np.argmax(peaks.prob_in_class[ids])]
    candidates = np.flatnonzero(peak == main)
    chosen = candidates[rng.random(candidates.size) < channel.fraction]
    if chosen.size == 0:
        return None
    m1 = _fragment_mass(channel.first_fragment)
    m2 = _fragment_mass(channel.second_fragment)
    q1, q2 = channel.first_fragment_charge, channel.second_fragment_charge
    big_m = m1 + m2
    lo, hi = channel.alpha_range
    alpha = lo + (hi - lo) * rng.random(chosen.size)
    sigma_rel = 1.0 / (sp.mass_resolving_power * 2.0 * np.sqrt(2.0 * np.log(2.0)))
    apparent = []
    for m_frag, q_frag in ((m1, q1), (m2, q2)):
        t = fragment_flight_ns(parent_mass_da=big_m, parent_charge=parent.charge,
                               fragment_mass_da=m_frag, fragment_charge=q_frag,
                               voltage_v=voltage_v[chosen], alpha=alpha,
                               flight_length_mm=sp.flight_length_mm)
        m_app = det.mass_from_tof(t, voltage_v[chosen], sp.flight_length_mm)
        apparent.append(m_app * (1 + sigma_rel * rng.standard_normal(chosen.size)))
    n = peak.shape[0]
    counts = np.ones(n, dtype=np.int64)
    counts[chosen] = 2
    take = np.repeat(np.arange(n), counts)
    second = np.flatnonzero(np.diff(take) == 0) + 1  # the copy right after each parent
    new_mass = mass[take]
    new_mass[second - 1] = apparent[0]
    new_mass[second] = apparent[1]
    true_frag = (m1 / max(q1, 1) if q1 else np.nan, m2 / q2 if q2 else np.nan)
    return take, second, new_mass, true_frag


def write_detector_run(path: str | os.PathLike, ions: IonTable, ranges: RangeTable,
                       truth: DetectorTruth | None = None) -> dict[str, Path]:
    """Write the run (.epos or .apt: detector fields kept), ``<stem>.rrng`` and the truth.

    The truth goes to ``<stem>.truth.json`` (parameters, generating reconstruction
    parameters, marker layers) and ``<stem>.truth.npz`` (per-ion true position, apex
    depth, radius, species and ion index, flags).
    """
    from liprobe.io import write_ions, write_ranges
    from liprobe.io.atomic import atomic_path

    path = Path(path)
    if path.suffix.lower() not in (".epos", ".apt"):
        raise ParameterError(f"{path}: a detector-space run needs .epos or .apt (detector "
                             "fields); .pos keeps positions and m/q only")
    stem = path.with_suffix("")
    written = {"ions": write_ions(path, ions),
               "ranges": write_ranges(stem.with_suffix(".rrng"), ranges)}
    if truth is not None:
        json_path = Path(f"{stem}.truth.json")
        with atomic_path(json_path) as tmp:
            tmp.write_text(json.dumps(truth.summary(), indent=1, default=str))
        npz_path = Path(f"{stem}.truth.npz")
        with atomic_path(npz_path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(
                    fh, position_nm=truth.position_nm, apex_depth_nm=truth.apex_depth_nm,
                    radius_nm=truth.radius_nm, species_index=truth.species_index,
                    ion_index=truth.ion_index,
                    true_mass_to_charge_da=truth.true_mass_to_charge_da,
                    is_background=truth.is_background, is_fragment=truth.is_fragment)
        written["truth_json"], written["truth_npz"] = json_path, npz_path
    return written


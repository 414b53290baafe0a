"""Field evaporation and detection: pulses, multi-hits, peak shapes, TOF, detector, dead time."""

from __future__ import annotations

import numpy as np

__all__ = [
    "AMU_KG", "E_CHARGE_C", "pulse_events", "tof_ns_from_mass", "mass_from_tof",
    "shape_peaks", "sample_background_mass", "dead_time_losses",
]

AMU_KG = 1.66053906660e-27
E_CHARGE_C = 1.602176634e-19


def pulse_events(n: int, multi_hit_probability: float, mean_extra: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Event (pulse) index of each of ``n`` consecutive ions.

    A pulse detects one ion, or with ``multi_hit_probability`` one plus a geometric
    number (mean ``mean_extra``) of extra ions.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    mean_size = 1 + multi_hit_probability * mean_extra
    m = int(n / mean_size * 1.02) + 64
    while True:
        sizes = np.ones(m, dtype=np.int64)
        multi = np.flatnonzero(rng.random(m) < multi_hit_probability)
        sizes[multi] += rng.geometric(1.0 / max(mean_extra, 1.0), size=multi.size)
        ends = np.cumsum(sizes)
        if ends[-1] >= n:
            break
        m *= 2
    k = int(np.searchsorted(ends, n))  # events 0..k cover the n ions
    starts = np.zeros(n, dtype=np.int8)
    starts[np.concatenate([[0], ends[:k]])] = 1
    event = np.cumsum(starts, dtype=np.int64) - 1
    return event


def tof_ns_from_mass(mass_to_charge_da: np.ndarray, voltage_v: np.ndarray,
                     flight_length_mm: float) -> np.ndarray:
    """Time of flight (ns) of an ion accelerated through ``voltage_v``: t = L sqrt(m / 2eV)."""
    scale = flight_length_mm * 1e-3 * 1e9 * np.sqrt(AMU_KG / (2 * E_CHARGE_C))
    return scale * np.sqrt(mass_to_charge_da / voltage_v)


def mass_from_tof(tof_ns: np.ndarray, voltage_v: np.ndarray, flight_length_mm: float) -> np.ndarray:
    """Inverse of :func:`tof_ns_from_mass`: m/q = 2 e V t^2 / L^2 (Da)."""
    scale = flight_length_mm * 1e-3 * 1e9 * np.sqrt(AMU_KG / (2 * E_CHARGE_C))
    return voltage_v * (tof_ns / scale) ** 2


def shape_peaks(true_mass_da: np.ndarray, voltage_v: np.ndarray, *, resolving_power: float,
                tail_ns: float, tail_fraction: float, flight_length_mm: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Observed m/q and time of flight: Gaussian core plus an exponential thermal tail.

    The core has FWHM ``m / resolving_power``. A fraction ``tail_fraction`` of ions
    leaves late (laser heating): an exponential delay of mean ``tail_ns`` in time of
    flight, so the tail runs toward higher m/q and widens as sqrt(m).

    Returns float64 ``(mass_to_charge_da, tof_ns)``.
    """
    n = true_mass_da.shape[0]
    sigma_rel = 1.0 / (resolving_power * 2.0 * np.sqrt(2.0 * np.log(2.0)))
    mass = true_mass_da * (1.0 + sigma_rel * rng.standard_normal(n, dtype=np.float32))
    tof = tof_ns_from_mass(mass, voltage_v, flight_length_mm)
    late = np.flatnonzero(rng.random(n, dtype=np.float32) < tail_fraction)
    if tail_ns > 0 and late.size:
        tof[late] += rng.standard_exponential(late.size, dtype=np.float32) * tail_ns
        mass[late] = mass_from_tof(tof[late], voltage_v[late], flight_length_mm)
    return mass, tof


def sample_background_mass(n: int, low_da: float, high_da: float,
                           rng: np.random.Generator) -> np.ndarray:
    """m/q of constant-TOF background: uniform in TOF, so uniform in sqrt(m/q)."""
    a, b = np.sqrt(low_da), np.sqrt(high_da)
    return (a + (b - a) * rng.random(n)) ** 2


def dead_time_losses(event: np.ndarray, tof_ns: np.ndarray,
                     det_x_mm: np.ndarray, det_y_mm: np.ndarray, *, dead_time_ns: float,
                     dead_zone_mm: float, max_lag: int = 8) -> np.ndarray:
    """Boolean mask of ions lost to same-isotope dead time.

    Within one pulse, of two ions arriving within ``dead_time_ns`` of each other and
    within ``dead_zone_mm`` on the detector, the later one is lost. Arrival within a few
    ns means (nearly) the same m/q: in practice the same isotope, e.g. two 7Li+ or 16O+
    and 16O2 2+. Ions of one pulse are consecutive; pairs up to ``max_lag`` apart are
    checked.
    """
    n = event.shape[0]
    lost = np.zeros(n, dtype=bool)
    multi = np.flatnonzero(np.diff(event) == 0)  # i where ion i+1 shares ion i's pulse
    if multi.size == 0:
        return lost
    for lag in range(1, max_lag + 1):
        if n <= lag:
            break
        i = np.flatnonzero(event[lag:] == event[:-lag])
        if i.size == 0:
            break
        j = i + lag
        dt = tof_ns[j] - tof_ns[i]
        dx = det_x_mm[j] - det_x_mm[i]
        dy = det_y_mm[j] - det_y_mm[i]
        hit = (np.abs(dt) < dead_time_ns) & (dx * dx + dy * dy < dead_zone_mm**2)
        lost[np.where(dt[hit] >= 0, j[hit], i[hit])] = True
    return lost

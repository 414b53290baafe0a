"""R0, k and k_tm of the fast linear simulator, measured as the analysis measures them.

:func:`liprobe.stem.simulate.simulate_haadf` has weight-level knobs for the departures from
linear imaging (``li_site_sensitivity``, ``tm_site_sensitivity``, ``li_column_excess``);
what the analysis sees are site intensities, in which the probe tails mix neighbouring
columns, so the measured R0, k and k_tm differ from the knobs. This module measures them
on noise-free images (ordered, and with uniform exchange ``f_cal``), exactly as
:mod:`liprobe.stem.multislice` does on multislice intensities, and sets the knobs so that
the simulator reproduces a given calibration point: images "simulated with the same
physics" as a multislice table, for tests, benchmarks and examples.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from liprobe.errors import ParameterError
from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf

__all__ = ["measure_linear_calibration", "match_sensitivities"]


def _site_means(params: HaadfParams, seed: int) -> tuple[float, float, float, float]:
    """Mean Li-site and TM-site intensity, and the realised antisite fractions there."""
    from liprobe.stem._pipeline import measure_sites

    image, truth = simulate_haadf(dataclasses.replace(params, dose_e_per_px=None,
                                                  surface_depth_nm=None, coating_nm=0.0,
                                                  scan_noise_nm=0.0),
                              rng=np.random.default_rng(seed))
    meas = measure_sites(image.pixels, pixel_size_nm=params.pixel_size_nm,
                         probe_fwhm_nm=params.probe_fwhm_nm, surface="none",
                         background=params.background_fraction)
    value = meas.intensity - meas.background
    inner = truth.inside(margin_px=3.0)
    f_li = float(np.mean(truth.occupancy_tm[inner & truth.li_mask]))
    f_tm = float(1.0 - np.mean(truth.occupancy_tm[inner & truth.tm_mask]))
    return (float(np.mean(value[meas.sites.site == 1])),
            float(np.mean(value[meas.sites.site == 0])), f_li, f_tm)


def measure_linear_calibration(params: HaadfParams, *, f_cal: float = 0.2,
                               seed: int = 0) -> tuple[float, float, float]:
    """(R0, k, k_tm) of the simulator under ``params`` (disorder, noise, surface ignored).

    The same ``seed`` for the ordered and the disordered image keeps everything but the
    antisites equal; the exchange model is used for the disordered one, and k, k_tm are
    referred to the antisite fractions the columns actually hold (binomial per column).
    """
    if not 0 < f_cal <= 0.5:
        raise ParameterError(f"f_cal must lie in (0, 0.5], got {f_cal}")
    ordered = dataclasses.replace(params, disorder=DisorderProfile(), disorder_model="exchange")
    li0, tm0, _, _ = _site_means(ordered, seed)
    li, tm, f_li, f_tm = _site_means(
        dataclasses.replace(ordered, disorder=DisorderProfile.uniform(f_cal)), seed)
    r0 = li0 / tm0
    k = (li / tm0 - r0) / (f_li * (1.0 - r0))
    k_tm = (1.0 - tm / tm0) / (f_tm * (1.0 - r0))
    return float(r0), float(k), float(k_tm)


def match_sensitivities(params: HaadfParams, *, k: float, k_tm: float, f_cal: float = 0.2,
                        seed: int = 0) -> HaadfParams:
    """``params`` with the weight-level sensitivities that give measured ``k`` and ``k_tm``.

    Measured k and k_tm are linear in the two knobs (site intensities are linear in the
    column weights), so three noise-free evaluations solve for them exactly.
    """
    def measured(kw: float, ktw: float) -> np.ndarray:
        p = dataclasses.replace(params, li_site_sensitivity=kw, tm_site_sensitivity=ktw)
        return np.array(measure_linear_calibration(p, f_cal=f_cal, seed=seed)[1:])

    base = measured(1.0, 1.0)
    jac = np.column_stack([(measured(0.5, 1.0) - base) / -0.5,
                           (measured(1.0, 0.5) - base) / -0.5])
    knobs = np.array([1.0, 1.0]) + np.linalg.solve(jac, np.array([k, k_tm]) - base)
    if not (knobs[0] > 0 and knobs[1] >= 0):
        raise ParameterError(f"no simulator sensitivities reproduce k = {k}, k_tm = {k_tm} "
                             f"under these conditions (would need {knobs.round(3).tolist()})")
    return dataclasses.replace(params, li_site_sensitivity=float(knobs[0]),
                               tm_site_sensitivity=float(knobs[1]))

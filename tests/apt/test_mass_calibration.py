"""Mass calibration on a synthetic run with known voltage and flight-path errors."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.mass_calibration import (
    apply_mass_calibration,
    fit_mass_calibration,
    resolving_power,
)
from liprobe.apt.overlaps import deconvolve_overlaps
from liprobe.apt.reconstruct import detector_fields
from liprobe.errors import ParameterError
from liprobe.synth.detector import generate_detector_run
from liprobe.synth.detector_params import DetectorRun, detector_specimen

PEAKS = (7.016, 15.995, 28.9676)  # 7Li+, 16O+, 58Ni2+


@pytest.fixture(scope="module")
def runs():
    out = {}
    for label, errors in (("clean", {}), ("errors", {"voltage_offset_kv": 0.05,
                                                     "bowl_error": 0.5})):
        run = DetectorRun(detector_specimen(n_ions=300_000), **errors)
        out[label] = generate_detector_run(run, rng=np.random.default_rng(41))
    return out


@pytest.fixture(scope="module")
def calibrated(runs):
    ions, _ = runs["errors"]
    x, y, v = detector_fields(ions)
    cal = fit_mass_calibration(ions.mass_to_charge_da, v, x, y, peaks_da=PEAKS)
    return cal, apply_mass_calibration(cal, ions.mass_to_charge_da, v, x, y)


@pytest.mark.parametrize("peak", [7.016, 28.9676])
def test_resolving_power_restored_within_10_percent(runs, calibrated, peak):
    _, corrected = calibrated
    clean = resolving_power(runs["clean"][0].mass_to_charge_da, peak_da=peak)
    raw = resolving_power(runs["errors"][0].mass_to_charge_da, peak_da=peak)
    after = resolving_power(corrected, peak_da=peak)
    assert raw.mrp_fwhm < 0.2 * clean.mrp_fwhm  # the errors really broaden the peak
    assert after.mrp_fwhm == pytest.approx(clean.mrp_fwhm, rel=0.10)
    assert after.mrp_fw10m == pytest.approx(clean.mrp_fw10m, rel=0.10)
    assert after.position_da == pytest.approx(peak, rel=2e-4)


def test_correction_recovers_the_generating_error(runs, calibrated):
    """The fitted factor equals the generator's (1 + b D^2/L^2) V/(V - dV) (independent)."""
    cal, _ = calibrated
    ions, _ = runs["errors"]
    x, y, v = (np.asarray(a, dtype=np.float64) for a in detector_fields(ions))
    corrected = apply_mass_calibration(cal, np.ones(x.size), v, x, y)
    expected = 1 / ((1 + 0.5 * (x**2 + y**2) / 100.0**2) * v / (v - 0.05))
    np.testing.assert_allclose(corrected, expected, rtol=1e-3)


def test_deconvolution_after_calibration_matches_the_clean_run(runs, calibrated):
    _, corrected = calibrated
    clean = deconvolve_overlaps(runs["clean"][0].mass_to_charge_da)
    raw = deconvolve_overlaps(runs["errors"][0].mass_to_charge_da)
    after = deconvolve_overlaps(corrected)
    li = clean.species.index("Li+")
    ni = clean.species.index("Ni2+")
    for k in (li, ni):
        assert abs(after.counts[k] - clean.counts[k]) < 0.02 * clean.counts[k]
        assert abs(raw.counts[k] - clean.counts[k]) > 0.2 * clean.counts[k]


def test_resolving_power_of_a_gaussian():
    rng = np.random.default_rng(0)
    sigma = 0.01
    rp = resolving_power(rng.normal(20.0, sigma, 400_000), peak_da=20.0)
    assert rp.fwhm_da == pytest.approx(2 * np.sqrt(2 * np.log(2)) * sigma, rel=0.03)
    assert rp.fw10m_da == pytest.approx(2 * np.sqrt(2 * np.log(10)) * sigma, rel=0.03)


def test_failure_is_reported_not_hidden():
    rng = np.random.default_rng(1)
    m = rng.uniform(1, 100, 1000)
    cal = fit_mass_calibration(m, np.full(1000, 3.0), m * 0, m * 0, peaks_da=[7.016])
    assert not cal.success and "ions" in cal.message
    with pytest.raises(ParameterError, match="failed"):
        apply_mass_calibration(cal, m, np.full(1000, 3.0), m * 0, m * 0)
    with pytest.raises(ParameterError, match="peaks_da"):
        fit_mass_calibration(m, m, m, m, peaks_da=[])

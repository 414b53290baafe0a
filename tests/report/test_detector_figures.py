"""Detector-space figures render from result objects and carry their data-kind."""

from __future__ import annotations

import numpy as np

from liprobe.apt.depth_calibration import DepthBand, z_distribution_map
from liprobe.apt.detector import (
    correlation_histogram,
    detector_hit_map,
    dissociation_track,
    pulse_pairs,
    same_isotope_pair_deficit,
    voltage_curve,
)
from liprobe.apt.spectrum import mass_spectrum
from liprobe.apt.tip_profile import measure_tip_profile
from liprobe.report import detector_figures as figs
from liprobe.synth.tip_image import needle_image


def test_every_figure_saves_with_its_kind(tmp_path, rng):
    n = 4000
    x, y = rng.uniform(-15, 15, (2, n))
    mass = rng.choice([7.016, 15.995, 23.0], n) + rng.normal(0, 0.01, n)
    mult = np.zeros(n, np.int64)
    mult[::2] = 2
    pairs = pulse_pairs(mass, mult, detector_x_mm=x, detector_y_mm=y)
    img, _ = needle_image(rng=rng)
    tip = measure_tip_profile(img.pixels, pixel_size_nm=1.0)
    depth = np.linspace(1, 30, 12)
    band = DepthBand(depth, 0.95 * depth, 1.05 * depth, 0.05 * depth)
    xyz = np.column_stack([x * 0.1, y * 0.1, -np.sort(rng.uniform(0, 20, n))]).astype(np.float32)
    made = {
        "plot_hit_map": figs.plot_hit_map(detector_hit_map(x, y)),
        "plot_voltage_curve": figs.plot_voltage_curve(voltage_curve(np.linspace(2, 3, n))),
        "plot_correlation_histogram": figs.plot_correlation_histogram(
            correlation_histogram(pairs, mult, range_da=(0, 40)),
            [dissociation_track(parent_mass_da=23.0, parent_charge=1, first_mass_da=7.0,
                                first_charge=1, label="LiO+")]),
        "plot_pair_deficit": figs.plot_pair_deficit(same_isotope_pair_deficit(pairs)),
        "plot_mass_calibration": figs.plot_mass_calibration(mass_spectrum(mass),
                                                            mass_spectrum(mass)),
        "plot_tip_profile": figs.plot_tip_profile(img.pixels, tip),
        "plot_depth_band": figs.plot_depth_band(depth, np.linspace(0, 1, 12), np.full(12, 0.05),
                                                band, marked_depth_nm=15.0),
        "plot_z_sdm": figs.plot_z_sdm(z_distribution_map(xyz, column_radius_nm=3),
                                      known_spacing_nm=0.473),
    }
    assert set(made) == set(figs.DATA_KINDS)
    for name, fig in made.items():
        path = figs.save_detector_figure(fig, tmp_path / f"{name}.svg", kind=figs.DATA_KINDS[name])
        assert f'data-kind="{figs.DATA_KINDS[name]}"' in path.read_text()

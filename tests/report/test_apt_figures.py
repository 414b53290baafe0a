"""APT figures render what the results hold (checked on the drawn artists) and save."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.frequency import frequency_distribution, scan_block_sizes
from liprobe.apt.profiles import concentration_profile
from liprobe.apt.spectrum import estimate_background, mass_spectrum
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.report.apt_figures import (
    plot_fda,
    plot_mu_scan,
    plot_profile,
    plot_proxigram,
    plot_spectrum,
    save_figure,
)

RT = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))), [6.5, 28.5], [7.5, 29.5],
                [0, 1])


@pytest.fixture
def ions(rng):
    n = 60_000
    xyz = rng.uniform(0, 20, (n, 3)).astype(np.float32)
    mass = np.where(rng.random(n) < 0.25, 7.0, 29.0) + rng.normal(0, 0.02, n)
    return IonTable(xyz, mass.astype(np.float32))


def test_spectrum_figure_shows_counts_and_background(ions, tmp_path, artifact_dir):
    spec = mass_spectrum(ions.mass_to_charge_da, bin_width_da=0.05, range_da=(1, 40))
    fig = plot_spectrum(spec, background=estimate_background(spec), ranges=RT)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    drawn = ax.lines[0].get_ydata()
    assert np.nansum(drawn) == ions.n_ions
    out = save_figure(fig, tmp_path / "spectrum.png")
    assert out.stat().st_size > 10_000
    save_figure(fig, artifact_dir / "apt_spectrum.png")


def test_profile_and_proxigram_figures_plot_the_ratios(ions, tmp_path):
    prof = concentration_profile(ions, RT, axis="x", bin_nm=5.0)
    fig = plot_profile(prof, elements=["Li"])
    step = next(p for p in fig.axes[0].patches if p.get_label() == "Li")
    y, edges, _ = step.get_data()
    from liprobe.report.apt_figures import partial_bins

    full = partial_bins(prof)
    np.testing.assert_allclose(y, prof.ratios[full, 0])
    np.testing.assert_allclose(edges[:-1], prof.start_nm[full])
    assert y.mean() == pytest.approx(1 / 3, abs=0.02)  # Li/Ni = 0.25 / 0.75
    fig = plot_proxigram(prof)
    assert "line feature" in fig.axes[0].get_xlabel()
    save_figure(fig, tmp_path / "prox.svg")


def test_fda_and_mu_scan_figures(ions, tmp_path):
    res = frequency_distribution(ions, RT, block_ions=50)
    fig = plot_fda(res, "Li")
    observed = next(p for p in fig.axes[0].patches if p.get_label() == "observed")
    assert observed.get_data()[0].sum() == res.species["Li"].n_blocks
    assert "μ" in fig.axes[0].get_title()
    scan = scan_block_sizes(ions, RT, block_ions=(20, 50))
    fig = plot_mu_scan(scan)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), scan.mu["Li"])
    save_figure(fig, tmp_path / "mu.pdf")
    assert (tmp_path / "mu.pdf").read_bytes()[:4] == b"%PDF"

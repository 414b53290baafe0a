"""HAADF figures draw what the analysis holds (checked on the artists) and save."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.report.stem_figures import (
    plot_depth_profile,
    plot_plane_profile,
    plot_sites,
    save_figure,
)
from liprobe.stem.analyze import analyze_haadf
from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf


@pytest.fixture(scope="module")
def analysed():
    profile = DisorderProfile((0.0, 2.0), (0.5, 0.05), ("rock-salt", "layered"))
    params = HaadfParams(shape_px=(192, 320), rotation_deg=10.0, disorder=profile,
                         surface_depth_nm=2.6, surface_normal_deg=0.0)
    image, truth = simulate_haadf(params, rng=np.random.default_rng(91))
    return image, truth, analyze_haadf(image, reference="simulate", reference_params=params)


def test_depth_profile_plots_the_window_values(analysed, tmp_path):
    _, truth, res = analysed
    fig = plot_depth_profile(res)
    ax = fig.axes[0]
    drawn = {}
    for container in ax.containers:
        x, y = container.lines[0].get_data()
        drawn[container.get_label()] = (np.asarray(x), np.asarray(y))
    table = res.window_table()
    for phase, (x, y) in drawn.items():
        sel = table["phase"] == phase
        assert np.allclose(x, table["depth_nm"][sel]) and np.allclose(y, table["f"][sel])
    # the surface windows are rock-salt with f near 0.5, the deeper ones layered
    assert "rock-salt" in drawn and "layered" in drawn
    assert np.all(np.abs(drawn["rock-salt"][1] - 0.5) < 0.05)
    path = save_figure(fig, tmp_path / "depth.png")
    assert path.stat().st_size > 5000


def test_plane_profile_marks_the_planes(analysed, tmp_path):
    _, truth, res = analysed
    fig = plot_plane_profile(res, max_nm=3.0)
    ax = fig.axes[0]
    x, y = ax.lines[0].get_data()
    assert x.max() <= 3.0
    tm_lines = [ln.get_xdata()[0] for ln in ax.lines[1:] if ln.get_linestyle() == "-"]
    # TM plane markers are d(003) apart
    assert np.allclose(np.diff(sorted(tm_lines)), truth.d003_nm, atol=0.01)
    assert save_figure(fig, tmp_path / "profile.svg").stat().st_size > 1000


def test_sites_overlay(analysed, tmp_path):
    image, _, res = analysed
    fig = plot_sites(image, res)
    ax = fig.axes[0]
    n_tm = len(ax.lines[0].get_xdata())
    n_li = len(ax.lines[1].get_xdata())
    assert n_tm == int(np.sum(res.sites.site == 0)) and n_li == int(np.sum(res.sites.site == 1))
    assert save_figure(fig, tmp_path / "sites.png").stat().st_size > 5000

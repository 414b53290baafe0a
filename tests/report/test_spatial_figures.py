"""Figures of the 3-D analyses: one fragment per kind, tagged, self-contained."""

from __future__ import annotations

import re

import numpy as np
import pytest

from liprobe.apt.clusters import maximum_separation_clusters
from liprobe.apt.field import concentration_field, concentration_map
from liprobe.apt.isosurface import find_isosurfaces
from liprobe.apt.neighbours import nearest_neighbour_distribution
from liprobe.apt.proxigram import proxigram
from liprobe.report import spatial_figures as sf
from liprobe.synth.features3d import feature_ranges, generate_precipitate


@pytest.fixture(scope="module")
def results():
    ions, _ = generate_precipitate(rng=np.random.default_rng(61), box_nm=(14, 14, 14),
                                   radius_nm=4.0)
    rt = feature_ranges()
    surfaces = find_isosurfaces(concentration_field(ions, rt, delocalization_nm=1.0),
                                threshold=0.325, min_area_nm2=10)
    return {
        "concentration-map": sf.concentration_map_html(concentration_map(ions, rt, axis="z")),
        "proxigram": sf.proxigram_html(proxigram(ions, rt, surfaces, distance_range_nm=(-3, 3))),
        "clusters": sf.clusters_html(maximum_separation_clusters(
            ions, rt, d_max_nm=0.4, n_min=20, rng=np.random.default_rng(0))),
        "nn-distribution": sf.nn_distribution_html(nearest_neighbour_distribution(
            ions, rt, rng=np.random.default_rng(1), n_random=2, edge_exclusion_nm=1.0)),
        "surfaces": surfaces,
    }


@pytest.mark.parametrize("kind", sf.FIGURE_KINDS)
def test_each_kind_is_one_tagged_self_contained_figure(results, kind):
    if kind == "isosurface":
        pytest.importorskip("plotly", reason="the 3-D figure needs plotly (liprobe[report])")
        html = sf.isosurface_html(results["surfaces"], include_plotlyjs=False)
    else:
        html = results[kind]
    assert html.startswith(f'<figure data-kind="{kind}">') and html.endswith("</figure>")
    assert not re.search(r"""(src|href)=["']https?://""", html)
    if kind == "isosurface":
        assert "Mesh3d".lower() in html.lower()
    else:
        assert 'src="data:image/png;base64,' in html


def test_the_isosurface_can_carry_plotly_inline(results):
    pytest.importorskip("plotly", reason="the 3-D figure needs plotly (liprobe[report])")
    ions, _ = generate_precipitate(rng=np.random.default_rng(62), box_nm=(10, 10, 10),
                                   radius_nm=3.0)
    surfaces = find_isosurfaces(concentration_field(ions, feature_ranges(),
                                                    delocalization_nm=1.0), threshold=0.325)
    html = sf.isosurface_html(surfaces, include_plotlyjs=True)
    assert len(html) > 1_000_000 and "<script src=" not in html

"""The report's per-specimen 3-D analyses: the new data-kinds in each specimen's section
(only where the manifest asks), plotly.js once, a small isosurface, mesh decimation."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

from liprobe.report.spatial_views import MAX_FACES, decimate_mesh


class _KindsBySpecimen(HTMLParser):
    """data-kind of every figure, by the id of the specimen <div> holding it."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds: dict[str, list[str]] = {}
        self._specimen: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "specimen":
            self._specimen = attrs.get("id")
            self.kinds[self._specimen] = []
        if tag == "figure" and self._specimen is not None:
            self.kinds[self._specimen].append(attrs.get("data-kind"))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    pytest.importorskip("plotly", reason="the isosurface figure needs plotly (liprobe[report])")
    from liprobe.report.html import write_report
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study
    from tests.workflow.spatial_study import ANALYSIS, write_spatial_study

    root = tmp_path_factory.mktemp("spatial-report")
    manifest = read_manifest(write_spatial_study(root / "study", ANALYSIS))
    run_study(manifest, root / "out", progress=False)
    return write_report(root / "out", root / "report").read_text(encoding="utf-8")


@pytest.mark.slow
def test_each_specimen_section_holds_the_kinds_it_was_asked_for(report):
    parser = _KindsBySpecimen()
    parser.feed(report)
    layer = next(v for k, v in parser.kinds.items() if k.startswith("specimen-layer"))
    clustered = parser.kinds["specimen-clustered"]
    for kind in ("concentration-map", "isosurface", "proxigram"):
        assert kind in layer, kind
    assert "clusters" not in layer and "nn-distribution" not in layer
    for kind in ("concentration-map", "clusters", "nn-distribution"):
        assert kind in clustered, kind
    # the box has no top layer: no isosurface there, and plotly.js is inlined once
    assert "isosurface" not in clustered
    assert len(re.findall(r"plotly\.js v\d", report)) == 1
    assert 'id="table-clusters"' in report and 'id="table-nearest_neighbours"' in report


@pytest.mark.slow
def test_the_isosurface_figure_is_small(report):
    start = report.index('data-kind="isosurface"')
    end = report.index("</figure>", start)
    assert end - start < 1_000_000


def _sphere(radius_nm: float, voxel_nm: float):
    from skimage.measure import marching_cubes

    axis = np.arange(-radius_nm - 2, radius_nm + 2 + voxel_nm, voxel_nm)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    verts, faces, _, _ = marching_cubes(np.sqrt(x**2 + y**2 + z**2), level=radius_nm,
                                        spacing=(voxel_nm,) * 3)
    return verts - (radius_nm + 2), faces


def _area(v, f):
    return 0.5 * np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]),
                                axis=1).sum()


def test_decimation_keeps_the_shape_within_the_face_budget():
    verts, faces = _sphere(10.0, 0.25)
    assert faces.shape[0] > MAX_FACES
    v, f = decimate_mesh(verts, faces, max_faces=MAX_FACES)
    assert f.shape[0] <= MAX_FACES and f.max() < v.shape[0]
    # the decimated surface is still the sphere: area 4 pi R^2, vertices on the radius
    assert _area(v, f) == pytest.approx(4 * np.pi * 100.0, rel=0.03)
    assert np.abs(np.linalg.norm(v, axis=1) - 10.0).max() < 0.5
    small_v, small_f = decimate_mesh(verts, faces, max_faces=faces.shape[0])
    assert small_f is not None and small_f.shape == faces.shape  # within budget: unchanged

"""``liprobe isosurface / clusters / nn / map`` on generated POS + RRNG files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.io import write_ions, write_ranges
from liprobe.synth.features3d import feature_ranges, generate_clusters, generate_precipitate


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spatial_cli")
    rrng = write_ranges(tmp / "box.rrng", feature_ranges())
    ions, precipitate = generate_precipitate(rng=np.random.default_rng(51), box_nm=(18, 18, 18),
                                             radius_nm=5.0)
    pos_p = write_ions(tmp / "precipitate.pos", ions)
    ions, clusters = generate_clusters(rng=np.random.default_rng(52), box_nm=(20, 20, 20),
                                       n_clusters=4,
                                       matrix_composition={"Li": 0.03, "Ni": 0.47, "O": 0.5})
    pos_c = write_ions(tmp / "clusters.pos", ions)
    return rrng, pos_p, precipitate, pos_c, clusters


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow  # writes the 5 MB interactive page
def test_isosurface_json_has_the_documented_shape(files, capsys, tmp_path):
    pytest.importorskip("plotly", reason="the 3-D figure needs plotly (liprobe[report])")
    rrng, pos, truth, _, _ = files
    html = tmp_path / "iso.html"
    out = _json(capsys, ["isosurface", str(pos), "-r", str(rrng), "--element", "Li",
                         "--threshold", "0.325", "--voxel-nm", "1", "--delocalization-nm", "1",
                         "--min-area-nm2", "20", "--proxigram", "--json", "--figure", str(html)])
    (surface,) = out["surfaces"]
    assert set(surface) >= {"area_nm2", "enclosed_volume_nm3", "centroid_nm"}
    assert surface["enclosed_volume_nm3"] == pytest.approx(truth.volume_nm3, rel=0.2)
    assert surface["centroid_nm"] == pytest.approx(list(truth.center_nm), abs=0.3)
    p = out["proxigram"]
    assert set(p) >= {"distance_nm", "fractions", "sigma", "n_ions"}
    assert len(p["distance_nm"]) == len(p["n_ions"]) == len(p["fractions"]["Li"]) == 20
    assert p["fractions"]["Li"][15] > 0.5 > 0.1 > p["fractions"]["Li"][0]  # +2.75, -4.75 nm
    assert 'data-kind="isosurface"' in html.read_text(encoding="utf-8")
    png = tmp_path / "proxigram.png"
    assert main(["isosurface", str(pos), "-r", str(rrng), "--threshold", "0.325",
                 "--proxigram", "--figure", str(png)]) == 0
    assert "isosurfaces at 0.325" in capsys.readouterr().out
    assert png.stat().st_size > 5_000


def test_clusters_json_for_both_methods(files, capsys, tmp_path):
    rrng, _, _, pos, truth = files
    fig = tmp_path / "clusters.png"
    out = _json(capsys, ["clusters", str(pos), "-r", str(rrng), "--element", "Li", "--method",
                         "maxsep", "--dmax-nm", "0.5", "--order", "1", "--nmin", "20", "--json",
                         "--figure", str(fig)])
    assert out["method"] == "maxsep" and out["parameters"]["d_max_nm"] == 0.5
    assert len(out["clusters"]) == truth.n_clusters
    assert set(out["clusters"][0]) >= {"n_ions", "n_solute", "centroid_nm",
                                       "radius_of_gyration_nm", "composition"}
    assert out["random_label_baseline"]["n_clusters"] == 0
    assert fig.stat().st_size > 5_000
    db = _json(capsys, ["clusters", str(pos), "-r", str(rrng), "--method", "dbscan",
                        "--eps-nm", "0.5", "--min-samples", "3", "--nmin", "20", "--json"])
    assert db["method"] == "dbscan" and len(db["clusters"]) == truth.n_clusters
    assert main(["clusters", str(pos), "-r", str(rrng), "--method", "kmeans"]) == 2
    assert "maxsep or dbscan" in capsys.readouterr().err


def test_nn_and_map(files, capsys, tmp_path):
    rrng, pos_p, _, pos_c, _ = files
    fig = tmp_path / "nn.png"
    out = _json(capsys, ["nn", str(pos_c), "-r", str(rrng), "--k", "2", "--n-random", "2",
                         "--pair-correlation", "--json", "--figure", str(fig)])
    assert out["nn"]["k"] == 2 and len(out["nn"]["observed"]) == len(out["nn"]["distance_nm"])
    assert len(out["pair_correlation"]["g"]) == 30
    assert fig.stat().st_size > 5_000
    fig = tmp_path / "map.png"
    m = _json(capsys, ["map", str(pos_p), "-r", str(rrng), "--axis", "x", "--pixel-nm", "2",
                       "--slab-center-nm", "9", "--thickness-nm", "2", "--json",
                       "--figure", str(fig)])
    assert m["thickness_nm"] == 2.0 and m["plane_axes"] == ["y", "z"]
    frac = np.array(m["fraction"], dtype=float)
    assert frac.shape == (9, 9) and np.nanmax(frac) > 0.5 > 0.1 > np.nanmin(frac)
    assert main(["map", str(pos_p), "-r", str(rrng), "--thickness-nm", "2"]) == 2
    assert "together" in capsys.readouterr().err

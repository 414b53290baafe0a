"""The 3-D analyses in a study run: the surface layer's proxigram thickness beside the 1-D
value in the specimens table, clusters and nearest neighbours where the manifest asks, and
manifest errors for bad settings naming the file and the key."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.errors import ManifestError
from liprobe.workflow.manifest_file import read_manifest
from liprobe.workflow.pipeline import run_study
from tests.workflow.spatial_study import (
    ANALYSIS,
    LAYER_NM,
    LAYER_SEEDS,
    N_CLUSTERS,
    write_spatial_study,
)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("spatial")
    manifest = read_manifest(write_spatial_study(root / "study", ANALYSIS))
    return run_study(manifest, root / "out", progress=False)


@pytest.mark.slow
def test_proxigram_thickness_recovers_the_layer_and_agrees_with_the_1d_value(study):
    table = study.tables["specimens"].set_index("specimen")
    bin_nm = 0.5  # [analysis.surface_layer] bin_nm default
    for i in range(len(LAYER_SEEDS)):
        row = table.loc[f"layer-{i}"]
        sigma = row["surface_layer_sigma_nm"]
        assert 0 < sigma < 0.2
        # counting σ plus the bin quantisation of the top surface's half-count crossing
        assert abs(row["surface_layer_nm"] - LAYER_NM) <= 4 * sigma + 0.5 * bin_nm, row.name
        # the 1-D value is measured from the first ion (depth blur): within a bin of it
        assert abs(row["surface_layer_nm"] - row["surface_layer_1d_nm"]) <= (
            4 * sigma + bin_nm), row.name
        # threshold: midway between Li fractions of Li/TM 0.3 and 1.03 (O and TM fixed)
        assert row["surface_layer_contrast_sigma"] > 5
    # a needle without a layer: NaN and a note saying why, not an error
    assert np.isnan(table.loc["uniform", "surface_layer_nm"])
    qc = study.tables["qc"]
    note = qc[(qc["specimen"] == "uniform") & (qc["check"] == "spatial")]
    assert len(note) == 1 and "no surface layer" in note["message"].iloc[0]


@pytest.mark.slow
def test_clusters_and_neighbours_where_asked(study):
    clusters = study.tables["clusters"]
    assert clusters["specimen"].tolist() == ["clustered"]  # only where the manifest asks
    row = clusters.iloc[0]
    assert row["n_clusters"] == N_CLUSTERS
    assert row["baseline_n_clusters"] == 0
    # a uniform sphere of radius R has R_g = sqrt(3/5) R (solute ions inside it)
    assert row["mean_radius_of_gyration_nm"] == pytest.approx(np.sqrt(0.6) * 1.5, rel=0.15)
    nn = study.tables["nearest_neighbours"]
    assert nn["specimen"].tolist() == ["clustered"]
    # clustered solute sits closer together than randomly labelled solute
    assert nn["mean_distance_nm"].iloc[0] < nn["random_mean_distance_nm"].iloc[0]
    for name in ("clusters", "nearest_neighbours"):
        assert (study.out_dir / "tables" / f"{name}.csv").is_file()


_BAD = [
    ('[analysis.clusters]\nmethod = "kmeans"\n', "method", "maxsep, dbscan"),
    ('[analysis.clusters]\ndmax_nm = -1\n', "dmax_nm", "must be from"),
    ('[analysis.clusters]\nmethod = "dbscan"\ndmax_nm = 0.5\n', "dmax_nm", "eps_nm"),
    ('[analysis.clusters]\norder = 1.5\n', "order", "integer"),
    ('[analysis.clusters]\nelement = "Lx"\n', "element", "element symbol"),
    ('[analysis.clusters]\nd_max_nm = 0.5\n', "d_max_nm", "did you mean 'dmax_nm'"),
    ('[analysis.clusters]\nspecimens = ["nope"]\n', "specimens", "not a [[specimens]]"),
    ('[analysis.nn]\ntarget = "every"\n', "target", "solute, all"),
    ('[analysis.cluster]\nelement = "Li"\n', "analysis.cluster", "[analysis.clusters]"),
]


@pytest.mark.parametrize(("extra", "key", "hint"), _BAD)
def test_bad_analysis_settings_name_the_file_line_and_key(tmp_path, extra, key, hint):
    from tests.study.tiny_study import write_tiny_study

    path = write_tiny_study(tmp_path, np.random.default_rng(0))
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n" + extra, encoding="utf-8")
    lines = (text + "\n" + extra).splitlines()
    line = next(i + 1 for i in range(len(text.splitlines()), len(lines))
                if key in lines[i])  # the line holding the key (or the table's header)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    message = str(info.value)
    assert str(path) in message and key in message and hint in message, message
    assert f"line {line}:" in message, message


def test_the_surface_layer_is_on_by_default_and_can_be_switched_off(tmp_path):
    from tests.study.tiny_study import write_tiny_study

    path = write_tiny_study(tmp_path, np.random.default_rng(0))
    manifest = read_manifest(path)
    assert all(s.analysis.surface_layer is not None for s in manifest.specimens)
    assert all(s.analysis.clusters is None and s.analysis.nn is None
               for s in manifest.specimens)
    path.write_text(path.read_text(encoding="utf-8")
                    + "\n[analysis.surface_layer]\nenabled = false\n", encoding="utf-8")
    assert all(s.analysis.surface_layer is None for s in read_manifest(path).specimens)

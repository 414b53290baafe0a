"""The 3-D analyses in a study run: the surface layer's proxigram thickness beside the 1-D
value in the specimens table, clusters and nearest neighbours where the manifest asks, and
manifest errors for bad settings naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liprobe.errors import ManifestError
from liprobe.workflow.manifest_file import read_manifest
from liprobe.workflow.pipeline import run_study

#: Li-depleted top layer of the synthetic needles (Li/TM 0.3 above, 1.03 below).
LAYER_NM = 6.0
LAYER_SEEDS = (31, 32, 33)
N_CLUSTERS = 6


def _write_study(root: Path, analysis: str) -> Path:
    from liprobe.synth import DepthProfile, generate_specimen, get_preset, ncm_ranges
    from liprobe.synth.features3d import feature_ranges, generate_clusters
    from liprobe.synth.write import write_specimen

    root.mkdir(parents=True, exist_ok=True)
    profile = DepthProfile(depth_nm=(0, LAYER_NM - 0.1, LAYER_NM + 0.1), li=(0.3, 0.3, 1.03))
    specimens = []
    for i, seed in enumerate(LAYER_SEEDS):
        params = get_preset("ncm-homogeneous", profile=profile, apex_radius_nm=8.0,
                            n_ions=120_000)
        ions, _ = generate_specimen(params, rng=np.random.default_rng(seed))
        write_specimen(root / f"layer{i}.pos", ions, ncm_ranges(params))
        specimens.append((f"layer-{i}", f"layer{i}", "surface", i + 1))
    uniform = get_preset("ncm-homogeneous", apex_radius_nm=8.0, n_ions=60_000)
    ions, _ = generate_specimen(uniform, rng=np.random.default_rng(34))
    write_specimen(root / "uniform.pos", ions, ncm_ranges(uniform))
    specimens.append(("uniform", "uniform", "bulk", 1))
    ions, _ = generate_clusters(rng=np.random.default_rng(35), box_nm=(20, 20, 20),
                                n_clusters=N_CLUSTERS, radius_nm=1.5,
                                matrix_composition={"Li": 0.03, "Ni": 0.47, "O": 0.5})
    # in evaporation order (top first), as a reconstruction is: the QC trend bins need it
    write_specimen(root / "clusters.pos", ions.take(np.argsort(ions.xyz_nm[:, 2])),
                   feature_ranges())
    specimens.append(("clustered", "clusters", "bulk", 2))
    text = ('[study]\nname = "spatial"\n[settings]\nnormalize_to = ["Ni"]\n'
            'elements = ["Li", "Ni", "O"]\nmissing_elements = "nan"\n'
            '[[samples]]\nname = "A"\ncycles = 0\n')
    for name, stem, depth, replicate in specimens:
        text += (f'[[specimens]]\nname = "{name}"\nsample = "A"\ndepth = "{depth}"\n'
                 f'replicate = {replicate}\napt = "{stem}.pos"\nranges = "{stem}.rrng"\n')
    path = root / "study.toml"
    path.write_text(text + analysis, encoding="utf-8")
    return path


_ANALYSIS = ('[analysis.clusters]\nelement = "Li"\nmethod = "maxsep"\ndmax_nm = 0.5\n'
             'order = 1\nnmin = 20\nspecimens = ["clustered"]\n'
             '[analysis.nn]\nelement = "Li"\nk = 1\nspecimens = ["clustered"]\n')


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("spatial")
    manifest = read_manifest(_write_study(root / "study", _ANALYSIS))
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
    note = qc[(qc["specimen"] == "uniform") & (qc["check"] == "surface_layer")]
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

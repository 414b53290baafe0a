"""End to end on the synthetic example study (liprobe.synth): the Table 2 analogue and the
ICP table recover the generator's truth; Li vs disorder and the growth law are reported."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from liprobe.workflow.manifest_file import read_manifest
from liprobe.workflow.pipeline import run_study


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    from liprobe.synth.example_study import example_study

    folder = tmp_path_factory.mktemp("example")
    study = example_study(folder / "study", scale="demo", rng=1, n_ions=8000, replicates=3)
    out = run_study(read_manifest(study.manifest_path), folder / "out", progress=False)
    return folder / "study", out


def test_table2_recovers_the_specimens_truth_within_counting_error(example):
    folder, out = example
    truth = pd.read_csv(folder / "truth_by_depth.csv")
    merged = out.tables["table2"].merge(truth, on=["sample", "depth_label"])
    assert len(merged) == len(truth) == 14
    # the replicates' own true ratios are known, so only counting noise remains
    for el in ("Li", "Ni"):
        z = (merged[f"{el}_mean"] - merged[f"true_{el.lower()}_mean"]) / merged[
            f"{el}_counting_se"]
        assert np.all(np.abs(z) < 4), el
    # against the generating profile the between-specimen spread counts too (t, 2 dof)
    z = (merged["Li_mean"] - merged["profile_li"]) / merged["Li_se"]
    assert np.mean(np.abs(z) < 4.3) >= 0.85


def test_icp_and_summary(example):
    folder, out = example
    truth = json.loads((folder / "truth.json").read_text())
    icp = out.tables["icp"].sort_values("cycles")
    expected = sorted((row["cycles"], row["li_ratio"]) for row in truth["icp"])
    np.testing.assert_allclose(icp["Li"], [li for _, li in expected], atol=5e-4)
    summary = out.summary
    assert summary["li_site_model"]["n_points"] > 3
    assert summary["li_site_model"]["k_ci_low"] < summary["li_site_model"]["k"]
    assert set(summary["alpha"]) >= {"exponential"}
    assert len(out.tables["haadf_windows"]) > 0


def test_li_vs_disorder_counts_each_image_depth_once(example):
    _, out = example
    windows = out.tables["haadf_windows"]
    windows = windows[np.isfinite(windows["f"])]
    table2 = out.tables["table2"]
    apt = table2[(table2["sample"] == "NCM-300") & np.isfinite(table2["depth_nm"])]
    # a point only where APT and HAADF measured the same depth (within 2.5 nm), one per
    # APT depth however many windows fall there (no pseudo-replication, no interpolation)
    from liprobe.study.disorder import DEPTH_TOLERANCE_NM

    paired = [d for d in apt["depth_nm"]
              if (np.abs(windows["depth_nm"] - d) <= DEPTH_TOLERANCE_NM).any()]
    points = out.tables["li_vs_disorder_points"]
    assert out.summary["li_site_model"]["n_points"] == len(paired) < len(windows)
    assert sorted(points["depth_nm"]) == sorted(paired)
    assert set(points["join"]) == {f"same depth (±{DEPTH_TOLERANCE_NM:g} nm)"}


def test_haadf_windows_recover_the_disorder_truth_at_the_300_cycle_depths(example):
    # truth: the generator's disorder profile at each window's depth (images without
    # vacuum keep their detector background; the manifest names the ordered reference
    # recorded under the same conditions, so the background cancels in f)
    from pathlib import Path

    from liprobe.synth._example_design import haadf_disorder_profile

    folder, out = example
    truth = json.loads((folder / "truth.json").read_text())["haadf"]
    profile = haadf_disorder_profile(300)
    windows = out.tables["haadf_windows"]
    names = windows["image"].map(lambda p: Path(p).name)
    covered, total = 0, 0
    for item in truth:
        rows = windows[names == Path(item["image"]).name]
        assert len(rows) >= 4, item["image"]
        depth = rows["depth_nm"].to_numpy()
        f_true = profile.f_at(depth)
        # one f per image (the study's per-depth number): within 0.02 of the truth
        assert abs(rows["f"].mean() - f_true.mean()) <= 0.02, item["image"]
        # the phase of every window
        phases = [profile.phase_at(d) for d in depth]
        assert np.mean(rows["phase"].to_numpy() == np.array(phases)) >= 0.9, item["image"]
        covered += int(np.sum((rows["f_ci_low"] <= f_true) & (f_true <= rows["f_ci_high"])))
        total += len(rows)
    # the windows' 95 % intervals hold the truth about as often as they claim
    assert covered / total >= 0.8


def test_clusters_and_neighbours_on_the_li_line_specimen(example):
    # the manifest asks clusters and NN of the one specimen holding Li-rich lines: its
    # clusters outnumber those that random labelling of the same positions gives
    from liprobe.synth._example_design import LINE_SPECIMEN

    _, out = example
    sample, depth, replicate = LINE_SPECIMEN
    specimens = out.tables["specimens"]
    name = specimens.loc[(specimens["sample"] == sample) & (specimens["depth_label"] == depth)
                         & (specimens["replicate"].astype(str) == str(replicate)),
                         "specimen"].item()
    clusters = out.tables["clusters"]
    assert clusters["specimen"].tolist() == [name]
    assert clusters["n_clusters"].item() > clusters["baseline_n_clusters"].item()
    assert out.tables["nearest_neighbours"]["specimen"].tolist() == [name]
    # every specimen has the surface-layer columns (NaN where no layer is seen)
    assert {"surface_layer_nm", "surface_layer_sigma_nm", "surface_layer_1d_nm"} <= set(
        specimens.columns)

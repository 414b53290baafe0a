"""End to end on a tiny study with exactly known counts: tables, order independence,
provenance, and a failing specimen named in the error."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from liprobe.errors import LiprobeError
from liprobe.report.study_figures import write_study_figures
from liprobe.workflow.manifest_file import read_manifest
from liprobe.workflow.pipeline import TABLE_NAMES, analyze_specimen, run_study
from tests.study.tiny_study import DESIGN, write_tiny_study


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    manifest = read_manifest(write_tiny_study(folder, np.random.default_rng(7)))
    out = run_study(manifest, folder / "out", progress=False, write_figures=write_study_figures)
    return manifest, out


def test_tables_hold_the_known_ratios(tiny):
    manifest, out = tiny
    for name in TABLE_NAMES:
        assert (out.out_dir / "tables" / f"{name}.csv").is_file(), name
        assert (out.out_dir / "tables" / f"{name}.parquet").is_file(), name
    table2 = pd.read_parquet(out.out_dir / "tables" / "table2.parquet")
    assert len(table2) == len(DESIGN)
    for sample, _, depth, li_counts in DESIGN:
        row = table2[(table2["sample"] == sample) & (table2["depth_label"] == depth)].iloc[0]
        truth = np.array(li_counts) / 1000.0
        assert row["n"] == len(li_counts)
        assert row["Li_mean"] == pytest.approx(truth.mean())
        assert row["Li_sd"] == pytest.approx(np.std(truth, ddof=1))
        assert row["Ni_mean"] == pytest.approx(0.8)
        assert row["O_mean"] == pytest.approx(1.9)
    icp = pd.read_csv(out.out_dir / "tables" / "icp.csv")
    assert np.round(icp["Li"], 3).tolist() == [1.038, 0.944, 0.829]
    cycling = pd.read_csv(out.out_dir / "tables" / "cycling.csv")
    assert cycling["retention"].iloc[-1] == pytest.approx(0.76)
    assert cycling["specific_capacity_mah_g"].iloc[0] == pytest.approx(181.0)
    particle = pd.read_csv(out.out_dir / "tables" / "particle_integral.csv")
    assert particle.loc[particle["cycles"] == 300, "capacity_loss"].iloc[0] == pytest.approx(0.24)
    for name in ("li_vs_depth", "gradient_fits", "growth_law", "capacity_fade"):
        assert (out.out_dir / "figures" / f"{name}.png").stat().st_size > 1000


def test_summary_has_alpha_and_provenance(tiny):
    manifest, out = tiny
    summary = json.loads((out.out_dir / "summary.json").read_text())
    alpha = summary["alpha"]["exponential"]
    assert alpha["alpha_ci_low"] <= alpha["alpha"] <= alpha["alpha_ci_high"]
    inputs = summary["provenance"]["inputs"]
    spec = manifest.specimens[0]
    assert inputs[str(spec.apt)] == hashlib.sha256(spec.apt.read_bytes()).hexdigest()
    assert str(manifest.path) in inputs
    assert summary["provenance"]["settings"]["gradient_models"] == ["exponential"]
    assert set(summary["provenance"]["versions"]) >= {"liprobe", "numpy", "scipy"}


def test_results_do_not_depend_on_the_map_order(tiny, tmp_path):
    manifest, out = tiny

    def reversed_map(func, *iterables):
        items = list(zip(*iterables))
        results = [func(*args) for args in reversed(items)]
        return results  # deliberately in the wrong order

    again = run_study(manifest, tmp_path / "again", map_specimens=reversed_map, progress=False, write_figures=write_study_figures)
    for name in ("specimens", "table2", "gradient_fits", "growth_law"):
        pd.testing.assert_frame_equal(out.tables[name], again.tables[name])


def test_specimen_result_is_picklable(tiny):
    import pickle

    manifest, _ = tiny
    result = analyze_specimen(manifest.specimens[0], manifest.settings)
    assert pickle.loads(pickle.dumps(result)).ratios == result.ratios


def test_a_failing_specimen_names_its_file(tmp_path):
    path = write_tiny_study(tmp_path, np.random.default_rng(3))
    manifest = read_manifest(path)
    bad = manifest.specimens[2].apt
    bad.write_bytes(bad.read_bytes()[:-5])  # not a whole number of 16-byte records
    with pytest.raises(LiprobeError, match=str(bad.name)):
        run_study(manifest, tmp_path / "out", progress=False, write_figures=write_study_figures)


def test_specimen_haadf_image_is_measured_against_its_named_reference(tmp_path):
    """A specimen-attached image with a detector background (2 % of the dose) and no
    vacuum: against the ordered reference recorded under the same conditions the
    background cancels and f matches the simulator's truth; the simulated reference (no
    background) reads it high. Truth: the realised TM fraction of the image's Li sites."""
    import dataclasses

    from liprobe.io import write_image, write_ions, write_ranges
    from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf
    from tests.study.tiny_study import ranges, specimen

    rng = np.random.default_rng(17)
    conditions = HaadfParams(shape_px=(256, 256), pixel_size_nm=0.02, background_fraction=0.02)
    reference, _ = simulate_haadf(conditions, rng=rng)
    image, truth = simulate_haadf(dataclasses.replace(
        conditions, disorder=DisorderProfile.uniform(0.2)), rng=rng)
    f_true = float(truth.occupancy_tm[truth.li_mask].mean())
    (tmp_path / "haadf").mkdir()
    write_image(tmp_path / "haadf" / "site.tif", image)
    write_image(tmp_path / "haadf" / "ordered.tif", reference)
    write_ions(tmp_path / "a.pos", specimen(500, rng))
    write_ranges(tmp_path / "ncm.rrng", ranges())
    text = ('[study]\nname = "h"\n\n[settings]\nfda_block_ions = 50\n{default}\n'
            '[[samples]]\nname = "NCM-300"\ncycles = 300\n\n'
            '[[specimens]]\nsample = "NCM-300"\ndepth_nm = 30\nreplicate = 1\n'
            'apt = "a.pos"\nranges = "ncm.rrng"\nhaadf = ["haadf/site.tif"]\n{own}\n')

    def windows(default: str = "", own: str = "") -> tuple[pd.DataFrame, dict[str, str]]:
        path = tmp_path / "study.toml"
        path.write_text(text.format(default=default, own=own))
        manifest = read_manifest(path)
        result = analyze_specimen(manifest.specimens[0], manifest.settings)
        return pd.DataFrame(result.haadf_windows), result.hashes

    named, hashes = windows(own='haadf_reference = "haadf/ordered.tif"')
    assert len(named) >= 4 and np.all(named["depth_nm"] == 30.0)
    assert abs(named["f"].mean() - f_true) <= 0.02
    assert str(tmp_path.resolve() / "haadf" / "ordered.tif") in hashes
    # the study-level default reaches a specimen that names none: the same measurement
    default, _ = windows(default='haadf_reference = "haadf/ordered.tif"')
    np.testing.assert_array_equal(default["f"], named["f"])
    # the simulated fallback (no detector background) is biased high on this image
    simulated, _ = windows()
    assert simulated["f"].mean() - f_true > 0.05

"""Tests of the synthetic example study (liprobe.synth.example_study).

Truth: the paper's published numbers in shared/reference/chae2021 (Table 1-2, cell.csv),
the study manifest parser (an independent module), scipy quadrature of the particle
integral, and the ions written to disk.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from liprobe.errors import OverwriteError, ParameterError
from liprobe.synth.example_study import (
    PAPER_DESIGN,
    capacity_curve,
    disorder_at,
    example_study,
    particle_average,
    study_is_complete,
)
from liprobe.synth.profile import paper_profile
from tests.conftest import PUBLISHED

REFERENCE = PUBLISHED


def _reference(name: str) -> list[dict[str, str]]:
    return _rows(REFERENCE / name)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("example") / "study"
    return example_study(root, scale="demo", rng=np.random.default_rng(7), n_ions=600)


def test_design_follows_table2_and_manifest_parses(small_study) -> None:
    from liprobe.workflow.manifest_file import read_manifest

    manifest = read_manifest(small_study.manifest_path)
    assert len(manifest.specimens) == small_study.n_specimens == 70
    assert {s.name: s.cycles for s in manifest.samples} == {
        "NCM-pristine": 0, "NCM-formation": 2, "NCM-100": 100, "NCM-300": 300}
    # the depths with a number in Table 2, per cycle count, five replicates each
    published = {(int(r["cycles"]), float(r["depth_nm"])) for r in _reference("table2_apt.csv")
                 if r["depth_nm"]}
    cycles_of = {s.name: s.cycles for s in manifest.samples}
    counts: dict[tuple[int, float], int] = {}
    for spec in manifest.specimens:
        if not spec.depth.is_bulk:
            key = (cycles_of[spec.sample], float(spec.depth.depth_nm))
            counts[key] = counts.get(key, 0) + 1
    assert published <= set(counts)
    assert set(counts.values()) == {5}
    assert sorted(h.depth_offset_nm for h in manifest.haadf) == [
        0.0, 30.0, 100.0, 350.0, 700.0, 1000.0, 1500.0, 2500.0]  # the 300-cycle depths


def test_haadf_images_carry_the_disorder_truth(small_study) -> None:
    from liprobe.io import read_image

    truth = json.loads(small_study.truth_path.read_text())["haadf"]
    assert len(truth) == 8
    f = [h["antisite_fraction"] for h in truth]
    # rock salt (f = 0.5, full cation mixing) at the surface, falling with depth to ordered
    assert truth[0]["phase"] == "rock-salt" and 0.48 < f[0] <= 0.5
    assert np.all(np.diff(f) < 0) and f[-1] == pytest.approx(0.0, abs=1e-9)
    image = read_image(small_study.root / truth[3]["image"])
    assert image.pixels.shape == (256, 256) and image.pixel_size_nm == pytest.approx(0.02)


def test_haadf_manifest_names_an_ordered_reference_under_the_same_conditions(
        small_study) -> None:
    # images without vacuum keep their detector background, which cancels in f only
    # against a reference recorded under the same conditions (DOMAIN.md section 4)
    from liprobe.io import read_image
    from liprobe.stem.analyze import analyze_haadf
    from liprobe.stem.simulate import HaadfParams
    from liprobe.workflow.manifest_file import read_manifest

    manifest = read_manifest(small_study.manifest_path)
    references = {h.reference for h in manifest.haadf}
    assert len(references) == 1 and all(r != "simulate" for r in references)
    reference = read_image(references.pop())
    assert reference.pixels.shape == (256, 256)
    assert reference.pixel_size_nm == pytest.approx(0.02)
    # ordered: against an independent simulation of the ordered crystal with the study's
    # conditions (HaadfParams defaults at 0.02 nm/px) its exchange fraction is zero
    res = analyze_haadf(reference, reference="simulate",
                        reference_params=HaadfParams(shape_px=(256, 256), pixel_size_nm=0.02))
    assert res.background_source == "none"
    assert abs(res.f) <= 0.01 and all(w.phase == "layered" for w in res.windows)


def test_generating_profiles_are_the_published_ratios(small_study) -> None:
    truth = json.loads(small_study.truth_path.read_text())
    rows = {(int(r["cycles"]), float(r["depth_nm"])): float(r["li"])
            for r in _reference("table2_apt.csv") if r["depth_nm"]}
    by_depth = {(r["cycles"], r["depth_nm"]): r for r in truth["by_depth"]}
    for key, li in rows.items():
        assert by_depth[key]["profile_li"] == pytest.approx(li, abs=1e-9)
        # replicate means scatter around the profile: 1.5 % Li factor, 10 % depth jitter
        assert by_depth[key]["true_li_mean"] == pytest.approx(li, abs=0.06)
    bulk = {r["sample"]: r for r in truth["by_depth"] if r["depth_nm"] is None}
    assert bulk["NCM-pristine"]["profile_li"] == pytest.approx(1.03)
    assert bulk["NCM-formation"]["profile_li"] == pytest.approx(0.96)


def test_icp_table_is_particle_integral_of_profile(small_study) -> None:
    from scipy.integrate import simpson

    from liprobe.cell.icp import wt_pct_to_ratios

    rows = _rows(small_study.root / "icp_aes.csv")
    assert [int(r["cycles"]) for r in rows] == [0, 100, 300]
    radius = 5000.0
    for row in rows:
        ratios = wt_pct_to_ratios({el: float(row[f"{el.lower()}_wt_pct"])
                                   for el in ("Li", "Ni", "Co", "Mn")}).ratios
        profile = paper_profile(int(row["cycles"]))
        d = np.linspace(0.0, radius, 500_001)  # 0.01 nm steps, Simpson's rule
        expected = 3.0 / radius**3 * simpson(profile.ratio_at("Li", d) * (radius - d) ** 2, x=d)
        assert float(ratios["Li"]) == pytest.approx(expected, abs=2e-3)
        assert float(ratios["Co"]) == pytest.approx(0.15, abs=1e-3)
    # pristine is uniform: the published APT bulk value exactly
    assert particle_average(paper_profile(0), "Li") == pytest.approx(1.03, abs=1e-12)


def test_cycling_file_fades_as_the_paper_cell(small_study) -> None:
    facts = {r["quantity"]: float(r["value"]) for r in _reference("cell.csv")
             if r["quantity"] in ("capacity_after_300_cycles", "retention_after_300_cycles")}
    rows = _rows(small_study.root / "cycling" / "cell300.csv")
    truth = json.loads(small_study.truth_path.read_text())
    mass = truth["cycling"]["active_mass_g"]
    q = np.array([float(r["discharge_capacity_mah"]) for r in rows]) / mass
    assert len(rows) == 300
    assert q[-1] == pytest.approx(facts["capacity_after_300_cycles"], abs=0.6)
    assert 100 * q[-1] / q[0] == pytest.approx(facts["retention_after_300_cycles"], abs=0.5)
    assert np.all(np.diff(capacity_curve(np.arange(1, 301))) < 0)


def test_specimen_data_hold_their_truth(small_study) -> None:
    from liprobe.apt.ranging import count_ions
    from liprobe.io import read_ions, read_ranges

    ranges = read_ranges(small_study.root / "ranges" / "ncm.rrng")
    truth = json.loads(small_study.truth_path.read_text())
    li_measured, li_true = [], []
    for rec in truth["specimens"]:
        if rec["cycles"] != 300 or rec["depth_label"] != "surface":
            continue
        ions = read_ions(small_study.root / rec["apt"])
        assert ions.n_ions == rec["n_ions"]
        counts = dict(zip(ranges.ion_names, count_ions(ions, ranges).counts.tolist()))
        li = sum(v for k, v in counts.items() if k.startswith("Li"))
        metal = sum(v for k, v in counts.items() if k[:2] in ("Ni", "Co", "Mn"))
        li_measured.append(li / metal)
        li_true.append(rec["true_li"])
    # the 300-cycle surface is Li-depleted (0.03 per metal) in data and truth alike
    assert np.mean(li_true) == pytest.approx(0.03, abs=0.005)
    assert np.mean(li_measured) < 0.1


def test_same_seed_same_bytes_and_completeness(tmp_path: Path) -> None:
    a = example_study(tmp_path / "a", rng=3, n_ions=300, replicates=1)
    b = example_study(tmp_path / "b", rng=3, n_ions=300, replicates=1)
    c = example_study(tmp_path / "c", rng=4, n_ions=300, replicates=1)
    first = json.loads(a.truth_path.read_text())["specimens"][0]["apt"]
    assert (a.root / first).read_bytes() == (b.root / first).read_bytes()
    assert (a.root / first).read_bytes() != (c.root / first).read_bytes()
    assert a.n_specimens == len(PAPER_DESIGN)
    assert study_is_complete(a.root, scale="demo") and not study_is_complete(a.root,
                                                                             scale="paper")
    (a.root / first).unlink()
    assert not study_is_complete(a.root)


def test_refuses_bad_arguments(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(OverwriteError, match="not empty"):
        example_study(tmp_path / "full", n_ions=300)
    with pytest.raises(ParameterError, match="scale"):
        example_study(tmp_path / "s", scale="huge")
    with pytest.raises(ParameterError, match="replicates"):
        example_study(tmp_path / "s", replicates=0)


def test_disorder_follows_li_deficit() -> None:
    depth = np.array([0.0, 30.0, 700.0, 2500.0])
    f = disorder_at(depth)
    assert f[0] == pytest.approx(0.5 * (1 - 0.03 / 1.03), abs=1e-9)
    assert np.all(np.diff(f) < 0) and f[-1] == pytest.approx(0.0, abs=1e-9)


def test_demo_study_end_to_end_recovers_truth(tmp_path: Path) -> None:
    """The demo study (as `make demo` makes it): its Table 2 analogue vs the generating truth.

    Li, Ni, Co, Mn and O must lie within 2 SE (SE = SD / sqrt(5)) of the mean of the
    replicates' true ratios at every depth. O needs the pipeline's default isotope overlap
    correction: ranged as is, the O2 2+ ions at 16 Da count as one O each and O comes out
    ~8 % low (checked below on the same files with overlap_correction = "none").
    """
    import pandas as pd

    from liprobe.report.html import write_report
    from liprobe.synth.example_study import truth_recovery
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study

    study = example_study(tmp_path / "demo", scale="demo", rng=2021)
    run_study(read_manifest(study.manifest_path), tmp_path / "out", progress=False)
    table2 = pd.read_csv(tmp_path / "out" / "tables" / "table2.csv")
    # Li vs disorder: the generator's f = 0.5 (1 - Li / Li_bulk) is Li = Li_bulk (1 - 2 f)
    import json

    site_model = json.loads((tmp_path / "out" / "summary.json").read_text())["li_site_model"]
    assert site_model["k_ci_low"] <= 2.000 <= site_model["k_ci_high"], site_model
    recovery = truth_recovery(study.truth_path, table2)
    assert len(recovery) == 14 * 5 and recovery["n"].eq(5).all()
    bad = recovery[~recovery["within"]]
    assert bad.empty, bad.to_string()
    oxygen = recovery[recovery["element"] == "O"]
    assert abs(oxygen["measured_mean"].sum() / oxygen["truth"].sum() - 1) < 0.01
    # without the correction the same files give O ~8 % low (bulk specimens: 10 of 70)
    import dataclasses

    from liprobe.workflow.pipeline import analyze_specimen

    manifest = read_manifest(study.manifest_path)
    plain = dataclasses.replace(manifest.settings, overlap_correction="none")
    truth_o = {r["name"]: r["true_o"] for r in json.loads(study.truth_path.read_text())[
        "specimens"]}
    bulk = [s for s in manifest.specimens if s.depth.is_bulk]
    relative = [analyze_specimen(s, plain).ratios["O"] / truth_o[s.name] for s in bulk]
    assert len(bulk) == 10 and 0.88 < np.mean(relative) < 0.96
    # the specimens table records the O2 2+ share of the 16 Da range; truth: the generator's
    # O2 2+ / O+ evaporation fractions times their abundance at 16 Da
    from liprobe.apt.isotope_patterns import species_pattern
    from liprobe.synth.species import DEFAULT_EVAPORATION

    fractions = dict(DEFAULT_EVAPORATION)
    at16 = {n: fractions[n] * species_pattern(n)[0][1] for n in ("O+", "O2 2+")}
    phi = at16["O2 2+"] / sum(at16.values())
    shares = pd.read_csv(tmp_path / "out" / "tables" / "specimens.csv")["share_16.0da_O2_2+"]
    assert len(shares) == 70
    assert abs(shares.mean() - phi) <= 2 * shares.std(ddof=1) / np.sqrt(70)

    index = write_report(tmp_path / "out", tmp_path / "report", max_specimen_groups=1,
                         max_haadf_images=1)
    text = index.read_text(encoding="utf-8")
    for section in ("key-results", "depth-profiles", "capacity", "growth", "haadf",
                    "li-vs-disorder", "specimens", "qc", "provenance"):
        assert f'<section id="{section}">' in text
    assert 'id="table-table2"' in text and 'data-kind="elements-vs-depth"' in text
    # the growth-law section says whether the self-similar model is rejected; the demo's
    # profiles do not share one shape (the generator's Li profile is not self-similar), so
    # it must say so and give the exponents at fixed Li levels, never one α as an estimate
    import re

    statement = re.search(r'id="growth-law-statement">(.*?)</p>', text, flags=re.S).group(1)
    assert "self-similar model" in statement and "is rejected" in statement, statement
    assert re.search(r"α = -?\d+\.\d\d \(95% interval -?\d+\.\d\d to -?\d+\.\d\d\) at Li = 0\.6",
                     statement), statement


def _structure_labels(profile, centre_nm: float, width_nm: float, rng):
    """Simulate a strip of the particle (depth along x) and return, per 1 nm bin of whole
    phase zone, (depth, the generator's label, classify_phase of the strip's own columns).

    f is the realised mean TM fraction of the bin's Li sites and the alternation is
    measured on their noise-free Z^n column sums (thick specimen: occupancies within 0.5 %
    of nominal), as the classifier expects from background-subtracted site intensities.
    """
    from liprobe.stem.phases import classify_phase, li_alternation
    from liprobe.stem.simulate import HaadfParams, simulate_haadf

    params = HaadfParams(shape_px=(96, int(round(width_nm / 0.02))), pixel_size_nm=0.02,
                         disorder=profile, surface_depth_nm=centre_nm, thickness_nm=2870.0,
                         dose_e_per_px=None, include_oxygen=False)
    _, truth = simulate_haadf(params, rng=rng)
    zn_tm, zn_li = params.mean_tm_zn(), 3.0 ** params.z_exponent
    signal = truth.occupancy_tm * zn_tm + (1.0 - truth.occupancy_tm) * zn_li
    inside = truth.inside(margin_px=2.0)
    first = float(truth.depth_nm[inside].min())
    edges = np.arange(0.0 if first < 0.5 else np.ceil(first),
                      truth.depth_nm[inside].max() - 1.0, 1.0)
    out = []
    for low in edges:
        high = low + 1.0
        if profile.phase_at(low) != profile.phase_at(np.nextafter(high, low)):
            continue  # a zone edge inside the bin
        sel = inside & (truth.depth_nm >= low) & (truth.depth_nm < high)
        li, tm = sel & truth.li_mask, sel & truth.tm_mask
        f = float(truth.occupancy_tm[li].mean())
        alternation = li_alternation(signal[li] - zn_li, truth.plane_index[li],
                                     truth.inplane_index[li],
                                     tm_level=float(np.mean(signal[tm] - zn_li)))
        out.append((low + 0.5, profile.phase_at(low + 0.5), classify_phase(f, alternation)))
    return out


def test_haadf_phase_labels_agree_with_the_classifier_on_the_generators_own_f() -> None:
    """At every depth the generator's label is what liprobe.stem.phases.classify_phase
    gives for the generator's own columns (their realised f and Li-plane alternation).

    Expected structure (Chae et al., 300 cycles): rock-salt / spinel-like surface to
    ~15 nm, layered below with reduced TM migration at ~30 nm, slight at ~700 nm, none in
    the centre."""
    from liprobe.synth._example_design import haadf_disorder_profile

    profile = haadf_disorder_profile(300)
    rng = np.random.default_rng(2021)
    checked = _structure_labels(profile, 20.0, 42.0, rng)  # 0-41 nm: every zone edge
    for centre in (60.0, 100.0, 350.0, 700.0, 1500.0, 2500.0, 4990.0):
        checked += _structure_labels(profile, centre, 6.0, rng)
    depth = np.array([d for d, _, _ in checked])
    assert depth.size > 60 and depth.min() < 1.0 and depth.max() > 4990.0
    disagree = [(d, label, got) for d, label, got in checked if label != got]
    assert not disagree, disagree
    labels = {label for _, label, _ in checked}
    assert labels == {"rock-salt", "spinel-like", "layered"}
    # the expected structure, on a fine grid of the profile itself
    grid = np.arange(0.0, 5000.0, 0.25)
    f = profile.f_at(grid)
    layered = np.array([profile.phase_at(d) == "layered" for d in grid])
    np.testing.assert_array_equal(layered, grid >= 15.0)
    assert np.all(f[~layered] >= 0.35) and np.all(f[layered] < 0.35)  # classifier's boundary
    assert np.all(np.diff(f[layered]) <= 0)  # disorder falls with depth below the layer
    f30, f700, f_centre = profile.f_at(np.array([30.0, 700.0, 5000.0]))
    assert 0.2 < f30 < 0.35 and 0.05 < f700 < 0.2 and f_centre == 0.0

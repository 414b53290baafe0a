"""The demo study shows the paper's phenomena inside single needles: the ~15 nm Li-depleted
surface layer of the 300-cycle particle (Chae et al. Fig. 3a) and Li-rich lines (Fig. 6)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liprobe.apt.composition import compose
from liprobe.apt.features import find_line_features
from liprobe.apt.profiles import concentration_profile
from liprobe.io import read_ions, read_ranges
from liprobe.synth.example_study import example_study


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    study = example_study(root, scale="demo", rng=2021, replicates=1, haadf=False)
    truth = json.loads(study.truth_path.read_text(encoding="utf-8"))
    return root, {r["name"]: r for r in truth["specimens"]}


@pytest.mark.slow
def test_surface_needle_shows_the_depleted_layer_and_the_rise(demo):
    root, records = demo
    ranges = read_ranges(root / "ranges" / "ncm.rrng")
    bulk_rec = records["ncmpristine_bulk_r1"]
    bulk = compose(read_ions(root / bulk_rec["apt"]), ranges).to_dict(
        normalize_to=["Ni", "Co", "Mn"])["elements"]["Li"]["ratio"]
    surface = records["ncm300_0000nm_r1"]
    assert surface["site_depth_nm"] == 0.0  # the needle's top is the particle surface
    profile = concentration_profile(read_ions(root / surface["apt"]), ranges, bin_nm=2.0,
                                    normalize_to=("Ni", "Co", "Mn"))
    atoms = profile.n_atoms
    full = atoms >= 0.5 * np.median(atoms)
    centre, li = profile.center_nm[full], profile.ratios[full, profile.elements.index("Li")]
    assert centre.max() > 30.0, "the surface needle must reach well below the 15 nm layer"
    first = li[centre < 10.0]
    assert first.size >= 4 and np.all(first < 0.2 * bulk), (first, bulk)
    deep = li[centre > 25.0]
    assert deep.size >= 2 and deep.mean() > 0.3 * bulk > 3 * first.mean()
    # rising beyond the layer: Li increases monotonically (within noise) from 15 nm on
    beyond = li[centre > 15.0]
    assert np.corrcoef(centre[centre > 15.0], beyond)[0, 1] > 0.9


@pytest.mark.slow
def test_one_needle_has_li_rich_lines_that_are_found(demo):
    root, records = demo
    with_lines = [r for r in records.values() if r.get("li_lines")]
    assert [r["name"] for r in with_lines] == ["ncm300_1000nm_r1"]
    found = find_line_features(read_ions(root / with_lines[0]["apt"]),
                               read_ranges(root / "ranges" / "ncm.rrng"), element="Li")
    assert len(found.features) >= 1
    assert max(f.length_nm for f in found.features) > 15.0
    assert all(f.enrichment > 1.2 for f in found.features)

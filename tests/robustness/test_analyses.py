"""Analyses fed non-finite or extreme values: a clear one-line error naming the count and
the first bad ion/pixel, or a correct result; never a traceback or a huge allocation.
Missing elements and ICP rows are never silently turned into numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from liprobe.data import Ion, IonTable, RangeTable
from tests.robustness._files import tree_hashes, write_mini_study
from tests.robustness.conftest import assert_one_line_error
from tests.study.tiny_study import MASSES, ranges, specimen


def _write(path, ions):
    from liprobe.io import write_ions

    write_ions(path, ions)
    return path


@pytest.fixture
def files(tmp_path):
    from liprobe.io import write_ranges

    rrng = write_ranges(tmp_path / "ncm.rrng", ranges())
    return tmp_path, rrng


def test_one_far_ion_does_not_collapse_an_equal_count_profile(cli, files):
    folder, rrng = files
    ions = specimen(1000, np.random.default_rng(1))  # 3900 ions over 40 nm
    xyz = ions.xyz_nm.copy()
    xyz[-1, 2] = 1.0e6
    path = _write(folder / "far.pos", IonTable(xyz, ions.mass_to_charge_da))
    result = cli("profile", path, "-r", rrng, "--bin-ions", "500", "--json")
    assert result.code == 0, result.err
    counts = [b["n_atoms"] for b in json.loads(result.out)["bins"]]
    # 3900 single-atom ions in bins of about 500: 8 bins of 487-488 (the last holds the
    # far ion); a grid over the whole 10^6 nm put all but one ion in the first bin
    assert len(counts) == 8 and sum(counts) == 3900
    assert max(counts) - min(counts) <= 2


@pytest.mark.parametrize("value", [np.nan, np.inf, 1.0e30])
@pytest.mark.parametrize("command", [("profile", "--bin-nm", "1"), ("fda",), ("features",)])
def test_non_finite_or_absurd_coordinates_are_one_line(cli, files, value, command):
    folder, rrng = files
    ions = specimen(1000, np.random.default_rng(2))
    xyz = ions.xyz_nm.copy()
    xyz[3899, 0 if command[0] == "features" else 2] = value  # the last ion evaporated
    path = _write(folder / "bad.pos", IonTable(xyz, ions.mass_to_charge_da))
    before = tree_hashes(path)
    args = (command[0], path, "-r", rrng, *command[1:])
    line = assert_one_line_error(cli(*args))
    assert ("ion index 3899" in line) if not np.isfinite(value) else ("bins" in line)
    assert tree_hashes(path) == before


def test_infinite_masses_are_one_line_in_the_spectrum(cli, files):
    folder, _ = files
    ions = specimen(1000, np.random.default_rng(3))
    mass = ions.mass_to_charge_da.copy()
    mass[[3, 9]] = np.inf
    path = _write(folder / "inf.pos", IonTable(ions.xyz_nm, mass))
    assert_one_line_error(cli("spectrum", path), "2 of 3900", "ion index 3")


def test_nan_pixels_and_absurd_pixel_sizes_in_haadf_analyze(cli, tmp_path):
    image = np.random.default_rng(0).poisson(100, (128, 128)).astype(np.float32)
    good = tmp_path / "good.npy"
    np.save(good, image)
    image[5, 9] = np.nan
    bad = tmp_path / "nan.npy"
    np.save(bad, image)
    assert_one_line_error(cli("haadf", "analyze", bad, "--pixel-size-nm", "0.02"),
                          "1 pixels are NaN", "row 5, column 9")
    for size in ("1e-9", "50"):
        assert_one_line_error(cli("haadf", "analyze", good, "--pixel-size-nm", size),
                              "pixel size", "outside")
    assert_one_line_error(cli("haadf", "analyze", good, "--pixel-size-nm", "0.01"),
                          "spans only 1.28 nm")


def test_an_element_missing_from_the_range_file_is_an_error_naming_both(cli, tmp_path):
    no_li = RangeTable(tuple(Ion(el, ((el, 1),)) for el in MASSES if el != "Li"),
                       np.array([v for k, v in MASSES.items() if k != "Li"]) - 0.2,
                       np.array([v for k, v in MASSES.items() if k != "Li"]) + 0.2,
                       np.arange(4))
    manifest = write_mini_study(tmp_path / "study", ranges_table=no_li)
    before = tree_hashes(manifest.parent)
    line = assert_one_line_error(cli("study", "run", manifest, "-o", tmp_path / "out",
                                     "--quiet"), "ncm.rrng", "Li", "missing_elements")
    assert "specimen 'P-bulk-1'" in line
    assert not (tmp_path / "out").exists()  # nothing written, no half folder
    assert tree_hashes(manifest.parent) == before


def test_a_missing_element_is_nan_with_a_note_when_asked(tmp_path):
    from liprobe.io import write_ranges
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import analyze_specimen

    manifest = write_mini_study(tmp_path / "study", settings='missing_elements = "nan"')
    keep = [k for k, el in enumerate(MASSES) if el != "Li"]
    table = ranges()
    write_ranges(tmp_path / "study" / "ncm.rrng", RangeTable(
        tuple(table.ions[k] for k in keep), table.low_da[keep], table.high_da[keep],
        np.arange(len(keep))))
    parsed = read_manifest(manifest)
    result = analyze_specimen(parsed.specimens[0], parsed.settings)
    assert math.isnan(result.ratios["Li"]) and math.isnan(result.ratio_sigmas["Li"])
    assert result.ratios["Ni"] == pytest.approx(0.8)  # the others are untouched
    notes = [q for q in result.qc if q["check"] == "missing_element"]
    assert len(notes) == 1 and "Li" in notes[0]["message"]


def _icp_manifest(tmp_path, icp_text, samples=(("P", 0), ("C", 300))):
    from liprobe.workflow.manifest_file import read_manifest

    manifest = write_mini_study(tmp_path / "study")
    (tmp_path / "study" / "icp.csv").write_text(icp_text)
    text = manifest.read_text()
    for (old, c_old), (new, c_new) in zip((("P", 0), ("C", 300)), samples, strict=True):
        text = text.replace(f'name = "{old}"\ncycles = {c_old}', f'name = "{new}"\ncycles = '
                            f"{c_new}")
    manifest.write_text(text)
    return read_manifest(manifest)


def test_icp_rows_are_joined_to_samples_by_name_not_by_row_or_cycles(tmp_path):
    from liprobe.workflow.assemble import _icp_li_by_sample, _icp_table

    # rows in the other order than the manifest's samples: joined by name
    parsed = _icp_manifest(tmp_path, "sample,cycles,li_wt_pct,ni_wt_pct,co_wt_pct,mn_wt_pct\n"
                           "C,300,5.44,44.58,8.29,2.48\nP,0,6.77,44.31,8.24,2.46\n")
    notes: list[str] = []
    icp_li = _icp_li_by_sample(parsed, _icp_table(parsed, ("Ni", "Co", "Mn")), notes)
    # Li/M of each row from its own weight %: (wt / M_Li) / sum(wt / M_T) (IUPAC weights)
    li = {0: (6.77 / 6.94) / (44.31 / 58.693 + 8.24 / 58.933 + 2.46 / 54.938),
          300: (5.44 / 6.94) / (44.58 / 58.693 + 8.29 / 58.933 + 2.48 / 54.938)}
    assert icp_li == pytest.approx(li, rel=2e-3)
    assert notes == []


@pytest.mark.parametrize("rows, match", [
    ("P,0,6.77,44.31,8.24,2.46\nP,0,6.70,44.31,8.24,2.46\n", "several ICP-AES rows"),
    ("P,100,6.77,44.31,8.24,2.46\n", "gives 100 cycles but the manifest gives 0"),
    ("X,0,6.77,44.31,8.24,2.46\n", "no ICP-AES row names a sample"),
])
def test_icp_rows_that_cannot_be_joined_are_errors_naming_the_file(tmp_path, rows, match):
    from liprobe.errors import SpecimenError
    from liprobe.workflow.assemble import _icp_li_by_sample, _icp_table

    parsed = _icp_manifest(tmp_path, "sample,cycles,li_wt_pct,ni_wt_pct,co_wt_pct,mn_wt_pct\n"
                           + rows)
    with pytest.raises(SpecimenError, match=match) as info:
        _icp_li_by_sample(parsed, _icp_table(parsed, ("Ni", "Co", "Mn")), [])
    assert "icp.csv" in str(info.value)


def test_two_samples_with_one_cycle_count_cannot_swap_icp_values(tmp_path):
    from liprobe.errors import SpecimenError
    from liprobe.workflow.assemble import _icp_li_by_sample, _icp_table

    parsed = _icp_manifest(tmp_path, "sample,cycles,li_wt_pct,ni_wt_pct,co_wt_pct,mn_wt_pct\n"
                           "C,300,5.44,44.58,8.29,2.48\nP,300,6.77,44.31,8.24,2.46\n",
                           samples=(("P", 300), ("C", 300)))
    with pytest.raises(SpecimenError, match="two samples with 300 cycles"):
        _icp_li_by_sample(parsed, _icp_table(parsed, ("Ni", "Co", "Mn")), [])

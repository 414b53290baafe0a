"""``study check`` refuses every manifest that would make the run fail, allocate beyond its
budget, or silently give wrong numbers: one line naming the manifest, the line and key."""

from __future__ import annotations

import json

import pytest

from tests.robustness._files import write_mini_study
from tests.robustness.conftest import assert_one_line_error


def _edit(manifest, old, new, count=1):
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new, count))


@pytest.fixture
def study(tmp_path):
    return write_mini_study(tmp_path / "study")


@pytest.mark.parametrize("setting, key", [
    ("profile_bin_nm = 1e-9", "profile_bin_nm"),
    ("particle_radius_um = 1e-300", "particle_radius_um"),
    ("particle_radius_um = 1e300", "particle_radius_um"),
    ("profile_bin_nm = inf", "profile_bin_nm"),
    ("bulk_depth_nm = 1e30", "bulk_depth_nm"),
    ("max_in_memory_ions = 1_000_000_000_000_000", "max_in_memory_ions"),
    ("fda_block_ions = 1", "fda_block_ions"),
    ("missing_elements = \"zero\"", "missing_elements"),
    ('elements = ["Li", "Xx"]', "elements"),
    ('elements = ["li"]', "elements"),
    ('normalize_to = ["Ni", "Ni"]', "normalize_to"),
])
def test_settings_that_would_fail_or_allocate_beyond_budget_are_refused(cli, tmp_path,
                                                                        setting, key):
    manifest = write_mini_study(tmp_path / "s", settings=setting)
    assert_one_line_error(cli("study", "check", manifest), manifest, key, "line")


@pytest.mark.parametrize("old, new, key, why", [
    ('name = "P"', 'name = ["P"]', "name", "must be a non-empty text"),
    ('sample = "P"', 'sample = ["P"]', "sample", "must be a non-empty text"),
    ('sample = "P"', 'sample = 7', "sample", "must be a non-empty text"),
    ("cycles = 300", "cycles = 2.5", "cycles", "must be an integer"),
    ("cycles = 300", "cycles = 1e30", "cycles", "must be an integer"),
    ("cycles = 300", "cycles = 1_000_000_000_000", "cycles", "from 0 to"),
    ('depth = "700 nm"', "depth = \"" + "9" * 400 + " nm\"", "depth", "beyond"),
    ('depth = "700 nm"', "depth_nm = inf", "depth_nm", "from 0 to"),
    ('depth = "700 nm"', "depth_nm = -5", "depth_nm", "from 0 to"),
])
def test_manifest_types_and_values_are_checked(cli, study, old, new, key, why):
    _edit(study, old, new, count=-1 if key == "cycles" else 1)
    assert_one_line_error(cli("study", "check", study), study, key, why)


def test_the_same_apt_file_listed_twice_is_refused_even_through_a_symlink(cli, study):
    apt = study.parent / "apt"
    (apt / "again.pos").symlink_to(apt / "s0_r1.pos")
    _edit(study, 'apt = "apt/s1_r2.pos"', 'apt = "apt/again.pos"')
    assert_one_line_error(cli("study", "check", study), study, "same file", "replicates")
    _edit(study, 'apt = "apt/again.pos"', 'apt = "apt/s0_r1.pos"')
    assert_one_line_error(cli("study", "check", study), study, "[[specimens]] #1")


def test_depths_written_with_and_without_a_space_form_one_group(cli, study):
    _edit(study, 'depth = "surface"', 'depth = "30nm"')
    _edit(study, 'depth = "surface"', 'depth = "30 nm"')
    result = cli("study", "check", study, "--json")
    assert result.code == 0, result.err
    design = json.loads(result.out)["replicates_by_sample_and_depth"]
    assert design["C"] == {"30 nm": 2, "700 nm": 1}


def test_one_depth_written_two_ways_is_refused(cli, study):
    apt = study.parent / "apt"
    (apt / "extra.pos").write_bytes((apt / "s2_r1.pos").read_bytes() + b"\0" * 16)
    study.write_text(study.read_text() + '\n[[specimens]]\nsample = "C"\ndepth = "0.7 um"\n'
                     'replicate = 2\napt = "apt/extra.pos"\nranges = "ncm.rrng"\n')
    assert_one_line_error(cli("study", "check", study), study, "'0.7 um'", "'700 nm'",
                          "written differently")

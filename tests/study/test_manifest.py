"""Manifest validation: a valid study, and one clear line naming the place for each error."""

from __future__ import annotations

import math

import pytest

from liprobe.errors import ManifestError, MissingFileError
from liprobe.study.manifest import parse_depth, read_manifest

GOOD = """\
[study]
name = "tiny"

[settings]
profile_bin_nm = 1.5

[[samples]]
name = "NCM-100"
cycles = 100

[[specimens]]
sample = "NCM-100"
depth = "< 100 nm"
replicate = 1
apt = "apt/a.pos"
ranges = "r.rrng"

[[specimens]]
sample = "NCM-100"
depth_nm = 200
replicate = 1
apt = "apt/b.pos"
ranges = "r.rrng"

[icp]
file = "icp.csv"
"""


def _study(tmp_path, text=GOOD):
    (tmp_path / "apt").mkdir(exist_ok=True)
    for name in ("apt/a.pos", "apt/b.pos", "r.rrng", "icp.csv"):
        (tmp_path / name).write_bytes(b"x")
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def test_valid_manifest_resolves_paths_and_depths(tmp_path):
    manifest = read_manifest(_study(tmp_path))
    assert manifest.name == "tiny"
    assert manifest.settings.profile_bin_nm == 1.5
    first, second = manifest.specimens
    assert first.apt == tmp_path.resolve() / "apt" / "a.pos"
    assert (first.depth.depth_nm, first.depth.high_nm) == (50.0, 100.0)
    assert second.depth.depth_nm == 200.0 and second.cycles == 100
    assert len(manifest.input_files()) == 5


@pytest.mark.parametrize("old,new,line,words", [
    ("depth_nm = 200", "dept_nm = 200", 20, ["unknown key 'dept_nm'", "depth_nm", "#2"]),
    ('apt = "apt/b.pos"', 'apt = "apt/missing.pos"', 22, ["does not exist", "missing.pos"]),
    ('depth = "< 100 nm"', 'depth = "deep"', 13, ["cannot read depth 'deep'", "#1"]),
    ('sample = "NCM-100"\ndepth_nm', 'sample = "NCM-10"\ndepth_nm', 19, ["did you mean 'NCM-100'"]),
    ("cycles = 100", "cycles = -3", 9, ["'cycles' must be >= 0"]),
    ("profile_bin_nm = 1.5", "profile_bin_nm = 0", 5, ["profile_bin_nm"]),
])
def test_errors_name_line_and_key(tmp_path, old, new, line, words):
    assert old in GOOD
    path = _study(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    message = str(info.value)
    assert "\n" not in message
    assert f"study.toml, line {line}:" in message
    for word in words:
        assert word in message


def test_unknown_table_and_missing_manifest(tmp_path):
    path = _study(tmp_path, GOOD + "\n[cyclng]\nfile = 'x'\n")
    with pytest.raises(ManifestError, match=r"line 28: unknown table 'cyclng'; did you mean \[cycling\]"):
        read_manifest(path)
    with pytest.raises(MissingFileError):
        read_manifest(tmp_path / "nope.toml")


def test_parse_depth_forms():
    assert parse_depth("~2 um").depth_nm == 2000.0
    assert parse_depth("< 100 nm", bound_depth="bound").depth_nm == 100.0
    assert parse_depth("surface").depth_nm == 0.0
    bulk = parse_depth("surface to centre")
    assert bulk.is_bulk and math.isnan(bulk.depth_nm)
    assert parse_depth(30).depth_nm == 30.0
    with pytest.raises(ManifestError):
        parse_depth(-1)


def test_overlap_correction_setting(tmp_path):
    assert read_manifest(_study(tmp_path)).settings.overlap_correction == "isotopes"
    text = GOOD.replace("profile_bin_nm = 1.5", 'profile_bin_nm = 1.5\noverlap_correction = "none"')
    assert read_manifest(_study(tmp_path, text)).settings.overlap_correction == "none"
    bad = GOOD.replace("profile_bin_nm = 1.5", 'overlap_correction = "isotope"')
    with pytest.raises(ManifestError, match=r"line 5: \[settings\]: 'overlap_correction' must "
                                            r"be one of isotopes, none, got 'isotope'"):
        read_manifest(_study(tmp_path, bad))

"""Manifest validation: a valid study, and one clear line naming the place for each error."""

from __future__ import annotations

import math

import pytest

from liprobe.errors import ManifestError, MissingFileError
from liprobe.study.manifest import parse_depth
from liprobe.workflow.manifest_file import read_manifest

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


HAADF = """\
[study]
name = "haadf"

[settings]
haadf_reference = "ref/default.tif"

[[samples]]
name = "NCM-300"
cycles = 300

[[specimens]]
sample = "NCM-300"
depth_nm = 30
replicate = 1
apt = "apt/a.pos"
ranges = "r.rrng"
haadf = ["img/a.tif"]
haadf_reference = "ref/own.tif"

[[specimens]]
sample = "NCM-300"
depth_nm = 100
replicate = 1
apt = "apt/b.pos"
ranges = "r.rrng"
haadf = "img/b.tif"

[[haadf]]
image = "img/c.tif"
sample = "NCM-300"

[[haadf]]
image = "img/d.tif"
sample = "NCM-300"
reference = "simulate"
"""


def _haadf_study(tmp_path, text=HAADF):
    for name in ("apt/a.pos", "apt/b.pos", "r.rrng", "img/a.tif", "img/b.tif", "img/c.tif",
                 "img/d.tif", "ref/own.tif", "ref/default.tif"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def test_haadf_reference_precedence_entry_then_settings_then_simulate(tmp_path):
    manifest = read_manifest(_haadf_study(tmp_path))
    root = tmp_path.resolve()
    own, default = root / "ref" / "own.tif", root / "ref" / "default.tif"
    first, second = manifest.specimens
    assert first.haadf_reference == own  # the specimen's own key wins
    assert second.haadf == (root / "img" / "b.tif",)
    assert second.haadf_reference == default  # else the study default
    assert manifest.settings.haadf_reference == str(default)
    assert [h.reference for h in manifest.haadf] == [default, "simulate"]
    # both references are inputs of the study (hashed into the provenance)
    assert {own, default} <= set(manifest.input_files())
    assert len(manifest.input_files()) == 10
    # without a study default an image's reference is the simulated ordered crystal
    plain = read_manifest(_haadf_study(tmp_path, HAADF.replace(
        'haadf_reference = "ref/default.tif"', "seed = 1")))
    assert plain.specimens[0].haadf_reference == own
    assert plain.specimens[1].haadf_reference == "simulate"
    assert plain.haadf[0].reference == "simulate"
    assert plain.settings.haadf_reference == "simulate"


@pytest.mark.parametrize("old,new,line,words", [
    ('haadf_reference = "ref/own.tif"', 'haadf_reference = "ref/gone.tif"', 18,
     ["[[specimens]] #1", "'haadf_reference'", "gone.tif", "does not exist"]),
    ('haadf_reference = "ref/default.tif"', 'haadf_reference = "ref/none.tif"', 5,
     ["[settings]", "'haadf_reference'", "none.tif", "does not exist"]),
    ('haadf_reference = "ref/own.tif"', "haadf_reference = 3", 18,
     ["[[specimens]] #1", "must be \"simulate\" or the path"]),
    ('haadf = ["img/a.tif"]\n', "", 17,
     ["[[specimens]] #1", "'haadf_reference' needs HAADF images"]),
    ('reference = "simulate"', 'reference = "ref/absent.tif"', 35,
     ["[[haadf]] #2", "'reference'", "absent.tif"]),
    ('haadf_reference = "ref/own.tif"', 'haadf_referenc = "ref/own.tif"', 18,
     ["unknown key 'haadf_referenc'", "did you mean 'haadf_reference'"]),
])
def test_haadf_reference_errors_name_line_and_key(tmp_path, old, new, line, words):
    assert old in HAADF
    path = _haadf_study(tmp_path, HAADF.replace(old, new, 1))
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    message = str(info.value)
    assert "\n" not in message
    assert f"study.toml, line {line}:" in message
    for word in words:
        assert word in message, message

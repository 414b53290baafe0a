"""Every command that writes follows one output policy (liprobe.io.output_policy):
never over an input (by path, symlink or hard link), never over an existing file without
--force, checked before any work. Each case asserts exit 2 with one line naming the path,
and that no input changed (SHA-256 before and after)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.robustness._files import RRNG_TEXT, tree_hashes, write_ion_file, write_mini_study
from tests.robustness.conftest import assert_one_line_error


@pytest.fixture
def study(tmp_path):
    return write_mini_study(tmp_path / "study")


def test_study_run_into_its_own_folder_refuses_before_work(cli, study):
    before = tree_hashes(study.parent)
    line = assert_one_line_error(cli("study", "run", study, "-o", study.parent, "--quiet"),
                                 study.parent, "holds the input")
    assert "another output folder" in line
    assert tree_hashes(study.parent) == before
    assert not list(study.parent.parent.glob(".study.staging-*"))  # no work was started


def test_study_run_into_a_symlink_of_its_folder_refuses(cli, study, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(study.parent, target_is_directory=True)
    before = tree_hashes(study.parent)
    assert_one_line_error(cli("study", "run", study, "-o", link, "--quiet"), "holds the input")
    assert tree_hashes(study.parent) == before


def test_study_run_into_a_folder_with_a_hard_link_to_an_input_refuses(cli, study, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    os.link(study.parent / "icp.csv", out / "icp.csv")
    before = tree_hashes(study.parent)
    assert_one_line_error(cli("study", "run", study, "-o", out, "--quiet", "--force"),
                          "holds the input", "icp.csv")
    assert tree_hashes(study.parent) == before


def test_study_run_into_a_file_or_under_a_file_refuses(cli, study, tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("keep me")
    assert_one_line_error(cli("study", "run", study, "-o", target, "--quiet"), target, "file")
    assert_one_line_error(cli("study", "run", study, "-o", target / "sub", "--quiet"),
                          "is a file, not a folder")
    assert target.read_text() == "keep me"


def test_study_run_into_a_non_empty_folder_needs_force(cli, study, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert_one_line_error(cli("study", "run", study, "-o", out, "--quiet"), out, "--force")
    assert (out / "notes.txt").read_text() == "mine"


def test_synth_specimen_never_replaces_user_data_without_force(cli, tmp_path):
    data = write_ion_file(tmp_path / "mydata.epos.pos")
    epos = tmp_path / "mydata.epos"
    epos.write_bytes(data.read_bytes())
    rrng = tmp_path / "mydata.rrng"
    rrng.write_text(RRNG_TEXT)
    before = tree_hashes(tmp_path)
    assert_one_line_error(cli("synth", "specimen", "-o", epos, "--n-ions", "1000"), epos,
                          "--force")
    epos.unlink()  # the ion file is free, its range file still exists
    assert_one_line_error(cli("synth", "specimen", "-o", epos, "--n-ions", "1000"), rrng)
    assert tree_hashes(tmp_path) == {k: v for k, v in before.items() if k != str(epos)}


def test_synth_specimen_with_force_replaces(cli, tmp_path):
    target = tmp_path / "x.pos"
    target.write_bytes(b"old")
    assert cli("synth", "specimen", "-o", target, "--n-ions", "1000", "--force").code == 0
    size = target.stat().st_size  # a POS file of about 1000 ions of 16 bytes
    assert size % 16 == 0 and size >= 16 * 500


def test_spectrum_propose_never_replaces_a_range_file_or_an_input(cli, tmp_path):
    ions = write_ion_file(tmp_path / "run.pos")
    rrng = tmp_path / "mine.rrng"
    rrng.write_text(RRNG_TEXT)
    before = tree_hashes(tmp_path)
    assert_one_line_error(cli("spectrum", ions, "--propose", rrng), rrng, "--force")
    assert_one_line_error(cli("spectrum", ions, "--propose", ions, "--force"), ions,
                          "over the input")
    assert tree_hashes(tmp_path) == before


def test_figure_with_a_data_suffix_or_over_an_input_refuses(cli, tmp_path):
    ions = write_ion_file(tmp_path / "run.pos")
    rrng = tmp_path / "r.rrng"
    rrng.write_text(RRNG_TEXT)
    before = tree_hashes(tmp_path)
    assert_one_line_error(cli("spectrum", ions, "--figure", tmp_path / "x.epos"), "x.epos",
                          "not a figure format")
    fig = tmp_path / "fig.png"
    fig.write_bytes(b"not yours")
    assert_one_line_error(cli("profile", ions, "-r", rrng, "--figure", fig), fig, "--force")
    assert fig.read_bytes() == b"not yours"
    before.pop(str(fig), None)
    assert {k: v for k, v in tree_hashes(tmp_path).items() if k != str(fig)} == before


def test_haadf_simulate_never_replaces_an_image_and_names_a_file_parent(cli, tmp_path):
    image = tmp_path / "existing.tif"
    image.write_bytes(b"II*\x00precious")
    assert_one_line_error(cli("haadf", "simulate", "-o", image, "--size", "64x64"), image,
                          "--force")
    assert image.read_bytes() == b"II*\x00precious"
    assert_one_line_error(cli("haadf", "simulate", "-o", image / "x.tif", "--size", "64x64"),
                          "is a file, not a folder")


def test_haadf_analyze_output_folder_holding_the_image_refuses(cli, tmp_path):
    image = tmp_path / "img.npy"
    np.save(image, np.zeros((64, 64), np.float32))
    before = tree_hashes(tmp_path)
    assert_one_line_error(cli("haadf", "analyze", image, "--pixel-size-nm", "0.02", "-o",
                              tmp_path), "holds the input")
    assert tree_hashes(tmp_path) == before


def test_convert_refuses_the_input_through_a_symlink_or_a_hard_link(cli, tmp_path):
    source = write_ion_file(tmp_path / "a.pos")
    (tmp_path / "sym.pos").symlink_to(source)
    os.link(source, tmp_path / "hard.pos")
    before = tree_hashes(source)
    for target in (tmp_path / "sym.pos", tmp_path / "hard.pos"):
        assert_one_line_error(cli("convert", source, target, "--force"), "input")
    assert tree_hashes(source) == before


def test_study_paper_output_into_a_non_empty_folder_needs_force(cli, tmp_path):
    out = tmp_path / "paper"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert_one_line_error(cli("study", "paper", "-o", out), out, "--force")
    assert (out / "keep.txt").read_text() == "x"


def test_os_errors_on_output_paths_are_one_line(cli, tmp_path):
    # /proc refuses new entries whoever runs the test (root included)
    assert_one_line_error(cli("synth", "specimen", "-o", "/proc/liprobe-test/x.pos",
                              "--n-ions", "1000"), "/proc/liprobe-test/x.pos", "cannot write")
    assert_one_line_error(cli("haadf", "simulate", "-o", "/proc/x.tif", "--size", "64x64"),
                          "/proc/x.tif", "cannot write")
    study = write_mini_study(tmp_path / "study")
    assert_one_line_error(cli("study", "run", study, "-o", "/proc/liprobe-out", "--quiet"),
                          "/proc/liprobe-out", "cannot write")

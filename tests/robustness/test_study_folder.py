"""A study output folder is all one run or visibly not: killed runs, concurrent runs,
stale and altered files, and what the report accepts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from liprobe.errors import OverwriteError
from liprobe.io.output_policy import (
    COMPLETE_NAME,
    INCOMPLETE_NAME,
    IncompleteOutputError,
    verify_output_folder,
)
from liprobe.report.study_figures import write_study_figures
from tests.conftest import REPO
from tests.robustness._files import tree_hashes, write_mini_study
from tests.robustness.conftest import assert_one_line_error


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """A mini study and one complete output folder of it."""
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study

    root = tmp_path_factory.mktemp("folder")
    manifest = write_mini_study(root / "study")
    run_study(read_manifest(manifest), root / "out", progress=False,
              write_figures=write_study_figures)
    return manifest, root / "out"


def _start(manifest, out, *extra):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    log = open(out.parent / f"{out.name}.log", "a")  # noqa: SIM115 - closed by the child
    try:
        return subprocess.Popen([sys.executable, "-m", "liprobe", "study", "run",
                                 str(manifest), "-o", str(out), "--quiet", *extra], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
    finally:
        log.close()


def _staging(out):
    return sorted(out.parent.glob(f".{out.name}.staging-*"))


def _wait_for_staging(out, proc, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while not _staging(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_complete_folder_lists_every_file_with_its_hash(done):
    _, out = done
    files = verify_output_folder(out, subfolders=("tables", "figures"))
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {COMPLETE_NAME}
    assert "summary.json" in files and "tables/table2.csv" in files


def test_sigkill_at_random_points_leaves_the_old_result_or_a_refused_staging_folder(
        done, tmp_path):
    from liprobe.report.html import write_report
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study

    manifest, complete = done
    out = tmp_path / "out"
    shutil.copytree(complete, out)
    old = verify_output_folder(out)
    # the run's own length, from staging to the swap, sets the kill points (a fixed range
    # of delays would land after the swap on a fast machine)
    proc = _start(manifest, out, "--force")
    _wait_for_staging(out, proc)
    start = time.monotonic()
    while _staging(out) and proc.poll() is None:
        time.sleep(0.005)
    staged_s = time.monotonic() - start
    assert proc.wait(timeout=60) == 0
    old = verify_output_folder(out)
    rng = np.random.default_rng(20211)
    outcomes = []
    for delay in staged_s * np.r_[0.3, rng.uniform(0.0, 0.9, size=2)]:
        proc = _start(manifest, out, "--force")
        # kill at a random point of the run proper: once it holds the lock and stages
        _wait_for_staging(out, proc)
        time.sleep(float(delay))
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        files = verify_output_folder(out, subfolders=("tables", "figures"))
        assert files is not None  # never a folder without its manifest
        if files != old:  # only a run that finished may have replaced the old result
            assert finished or proc.returncode == 0, "a killed run changed the folder"
            old = files
        for stage in _staging(out):
            assert (stage / INCOMPLETE_NAME).exists()
            with pytest.raises(IncompleteOutputError, match="incomplete"):
                write_report(stage, tmp_path / "report-of-staging")
            outcomes.append("left a refused staging folder")
        outcomes.append("finished" if finished else "killed")
    assert "killed" in outcomes and "left a refused staging folder" in outcomes
    # the next run removes what killed runs left and completes
    run_study(read_manifest(manifest), out, progress=False, force=True,
              write_figures=write_study_figures)
    assert not _staging(out)
    assert verify_output_folder(out, subfolders=("tables", "figures")) is not None
    assert write_report(out, tmp_path / "report").is_file()


def test_a_second_run_into_the_same_folder_refuses_while_the_first_runs(done, tmp_path, cli):
    manifest, _ = done
    out = tmp_path / "out"
    first = _start(manifest, out)
    try:
        _wait_for_staging(out, first)
        assert _staging(out), (tmp_path / "out.log").read_text()
        line = assert_one_line_error(cli("study", "run", manifest, "-o", out, "--quiet"))
        assert "another liprobe run is writing" in line or "--force" in line
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert not out.exists() or verify_output_folder(out) is not None


def test_the_lock_refuses_a_second_writer_in_process(tmp_path):
    from liprobe.io.output_policy import staged_folder

    with staged_folder(tmp_path / "out"):
        with pytest.raises(OverwriteError, match="another liprobe run"):
            with staged_folder(tmp_path / "out", force=True):
                pass
    assert verify_output_folder(tmp_path / "out") == {}


def test_the_report_refuses_stale_altered_and_incomplete_folders(done, tmp_path):
    from liprobe.report.html import write_report

    _, complete = done
    cases = {
        "stale": lambda f: (f / "figures" / "first_study.png").write_bytes(b"\x89PNG old"),
        "altered": lambda f: (f / "tables" / "table2.csv").write_text("sample\nforged\n"),
        "missing": lambda f: (f / "summary.json").unlink(),
        "incomplete": lambda f: (f / INCOMPLETE_NAME).write_text(""),
        "bad manifest": lambda f: (f / COMPLETE_NAME).write_text("{"),
    }
    for name, damage in cases.items():
        folder = tmp_path / name
        shutil.copytree(complete, folder)
        damage(folder)
        with pytest.raises(IncompleteOutputError) as info:
            write_report(folder, tmp_path / f"report-{name}")
        assert str(folder) in str(info.value), name
        assert not (tmp_path / f"report-{name}" / "index.html").exists()


def test_a_forced_rerun_replaces_the_folder_as_a_whole(done, tmp_path):
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study

    manifest, complete = done
    out = tmp_path / "out"
    shutil.copytree(complete, out)
    (out / "figures" / "first_study.png").write_bytes(b"\x89PNG from another study")
    inputs = tree_hashes(manifest.parent)
    run_study(read_manifest(manifest), out, progress=False, force=True,
              write_figures=write_study_figures)
    assert not (out / "figures" / "first_study.png").exists()
    files = verify_output_folder(out, subfolders=("tables", "figures"))
    assert tree_hashes(manifest.parent) == inputs
    # the same inputs give the same tables and figures, byte for byte
    first = verify_output_folder(complete)
    same = [name for name in files if name.endswith((".svg", ".png", ".csv"))]
    assert same and all(files[name] == first[name] for name in same), [
        name for name in same if files[name] != first[name]]


def test_an_unreachable_scheduler_is_one_line(done, tmp_path, cli):
    manifest, _ = done
    start = time.perf_counter()
    assert_one_line_error(cli("study", "run", manifest, "-o", tmp_path / "o", "--quiet",
                              "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout-s",
                              "1"), "tcp://127.0.0.1:9", "cannot reach")
    assert time.perf_counter() - start < 10
    assert not (tmp_path / "o").exists()


def test_a_failure_on_a_dask_worker_comes_back_as_the_one_liprobe_error(tmp_path, cli):
    from liprobe.data import Ion, RangeTable
    from tests.study.tiny_study import MASSES

    metals = [el for el in MASSES if el != "Li"]
    centres = np.array([MASSES[el] for el in metals])
    no_li = RangeTable(tuple(Ion(el, ((el, 1),)) for el in metals), centres - 0.2,
                       centres + 0.2, np.arange(len(metals)))
    manifest = write_mini_study(tmp_path / "study", ranges_table=no_li)
    line = assert_one_line_error(cli("study", "run", manifest, "-o", tmp_path / "out",
                                     "--quiet", "--workers", "1"), "ncm.rrng", "no ion of Li")
    assert "Traceback" not in line and not (tmp_path / "out").exists()

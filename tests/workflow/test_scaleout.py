"""Tests of liprobe.workflow.scaleout: Dask map (order, identity with serial) and chunked files.

Truth: ion counts known by construction (masses drawn at range centres from known species
labels), the in-memory functions of liprobe.apt on the same file, and tracemalloc for the
memory bound.
"""

from __future__ import annotations

import dataclasses
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from liprobe.apt.profiles import concentration_profile
from liprobe.apt.ranging import count_ions
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import FormatError, MissingFileError, ParameterError
from liprobe.io import read_ions, write_ions
from liprobe.io.chunks import iter_ion_chunks
from liprobe.workflow.scaleout import (
    chunked_composition,
    chunked_profile,
    dask_map,
    serial_map,
)

CENTRES = np.array([7.0, 16.0, 29.0, 29.5, 27.5, 31.0])  # Li, O, Ni2+?, Co, Mn, NiO2 3+ (toy)


def _ranges() -> RangeTable:
    ions = (Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("Ni", (("Ni", 1),)),
            Ion("Co", (("Co", 1),)), Ion("Mn", (("Mn", 1),)), Ion("NiO", (("Ni", 1), ("O", 1))))
    return RangeTable(ions, CENTRES - 0.2, CENTRES + 0.2, np.arange(6))


def _cloud(rng: np.random.Generator, n: int) -> tuple[IonTable, np.ndarray]:
    """Ions evaporated towards -z; Li only in the first 40 % of the depth. Labels -1 = noise."""
    z = np.sort(rng.uniform(0.0, 50.0, n))[::-1].astype(np.float32)  # evaporation: z falls
    depth = 50.0 - z
    label = rng.choice(6, size=n, p=[0.2, 0.35, 0.2, 0.1, 0.05, 0.1])
    label[(label == 0) & (depth > 20.0)] = 1  # no Li deeper than 20 nm
    noise = rng.random(n) < 0.02
    label[noise] = -1
    mass = np.where(label >= 0, CENTRES[np.clip(label, 0, None)], 50.0)
    mass = (mass + rng.uniform(-0.1, 0.1, n)).astype(np.float32)
    xyz = np.column_stack([rng.normal(0, 5, n), rng.normal(0, 5, n), z]).astype(np.float32)
    return IonTable(xyz, mass), label


@pytest.fixture
def pos_file(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, np.ndarray]:
    ions, label = _cloud(rng, 60_000)
    path = tmp_path / "cloud.pos"
    write_ions(path, ions)
    return path, label


def test_chunked_composition_counts_known_labels(pos_file) -> None:
    path, label = pos_file
    comp = chunked_composition(path, _ranges(), chunk_ions=7_001)
    expected_ions = np.bincount(label[label >= 0], minlength=6)
    assert comp.ion_counts.tolist() == expected_ions.tolist()
    assert comp.n_ions == label.size and comp.n_unranged == int((label < 0).sum())
    # atoms: Li, O (+1 per NiO), Ni (+1 per NiO), Co, Mn
    li, o, ni, co, mn = (int(expected_ions[k]) for k in range(5))
    nio = int(expected_ions[5])
    assert dict(zip(comp.elements, comp.atom_counts.tolist())) == {
        "Li": li, "O": o + nio, "Ni": ni + nio, "Co": co, "Mn": mn}
    ratio, sigma = comp.ratios()["Li"]
    assert ratio == pytest.approx(li / (ni + nio + co + mn), rel=1e-12)
    assert sigma == pytest.approx(ratio * np.sqrt(1 / li + 1 / (ni + nio + co + mn)), rel=1e-12)


def test_chunked_composition_equals_in_memory(pos_file) -> None:
    path, _ = pos_file
    whole = count_ions(read_ions(path), _ranges())
    for chunk in (999, 1 << 22):  # ragged chunks and one chunk
        comp = chunked_composition(path, _ranges(), chunk_ions=chunk)
        assert np.array_equal(comp.ion_counts, whole.counts)


def test_chunked_profile_equals_in_memory_profile(pos_file) -> None:
    path, label = pos_file
    ranges = _ranges()
    expected = concentration_profile(read_ions(path), ranges, bin_nm=2.0)
    for chunk in (4_999, 1 << 22):
        got = chunked_profile(path, ranges, bin_nm=2.0, chunk_ions=chunk)
        assert got.axis == expected.axis and got.axis.startswith("-z")
        assert np.array_equal(got.start_nm, expected.start_nm)
        assert np.array_equal(got.atom_counts, expected.atom_counts)
    # physics of the construction: no Li deeper than 20 nm below the first-evaporated end
    # (the first ion sits within 50 nm / 60 000 of the top)
    li = got.elements.index("Li")
    assert got.atom_counts[got.start_nm >= 20.0, li].sum() == 0
    assert got.atom_counts[:, li].sum() == int((label == 0).sum())


def test_chunked_reading_keeps_memory_bounded(tmp_path: Path, rng: np.random.Generator) -> None:
    ions, _ = _cloud(rng, 400_000)  # 6.4 MB file
    path = tmp_path / "big.pos"
    write_ions(path, ions)
    del ions
    tracemalloc.start()
    try:
        chunked_composition(path, _ranges(), chunk_ions=10_000)
        chunked_profile(path, _ranges(), bin_nm=1.0, chunk_ions=10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 10 000 ions x (16 B record + ~30 B work arrays) ~ 0.5 MB; the file is 6.4 MB
    assert peak < 2_000_000


def test_epos_chunks_match_reader(tmp_path: Path, rng: np.random.Generator) -> None:
    cloud, _ = _cloud(rng, 5_000)
    from liprobe.data import ION_FIELDS

    fields = {name: (np.zeros(5_000, np.int32) if name in ("pulses_since_last", "ions_per_pulse")
                     else rng.random(5_000).astype(np.float32)) for name in ION_FIELDS}
    ions = IonTable(cloud.xyz_nm, cloud.mass_to_charge_da, fields)
    path = tmp_path / "c.epos"
    write_ions(path, ions)
    whole = read_ions(path)
    parts = [(c.xyz_nm.copy(), c.mass_to_charge_da.copy())
             for c in iter_ion_chunks(path, chunk_ions=1_234)]
    assert [p[1].shape[0] for p in parts] == [1234] * 4 + [5000 - 4 * 1234]
    assert np.array_equal(np.concatenate([p[0] for p in parts]), whole.xyz_nm)
    assert np.array_equal(np.concatenate([p[1] for p in parts]), whole.mass_to_charge_da)


def test_chunk_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        list(iter_ion_chunks(tmp_path / "none.pos"))
    bad = tmp_path / "bad.pos"
    bad.write_bytes(b"\x00" * 17)
    with pytest.raises(FormatError, match="not a multiple of 16"):
        list(iter_ion_chunks(bad))
    other = tmp_path / "x.apt"
    other.write_bytes(b"\x00" * 16)
    with pytest.raises(FormatError, match="POS and EPOS"):
        list(iter_ion_chunks(other))
    good = tmp_path / "ok.pos"
    good.write_bytes(b"\x00" * 32)
    with pytest.raises(ParameterError, match="chunk_ions"):
        list(iter_ion_chunks(good, chunk_ions=0))


def test_dask_map_identical_to_serial_and_ordered(rng: np.random.Generator) -> None:
    ranges = _ranges()
    clouds = [_cloud(np.random.default_rng(seed), 3_000 + 500 * seed)[0].mass_to_charge_da
              for seed in range(6)]
    serial = serial_map(count_ions, clouds, [ranges] * len(clouds))
    seen: list[tuple[int, int]] = []
    parent_env = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS",
                                                          "MALLOC_TRIM_THRESHOLD_")}
    with dask_map(n_workers=2, progress=lambda done, total: seen.append((done, total))) as pmap:
        parallel = pmap(count_ions, clouds, [ranges] * len(clouds))
        progress_of_first_call = list(seen)
        assert pmap(count_ions, []) == []
        with pytest.raises(ParameterError, match="RangeTable"):
            pmap(count_ions, clouds[:1], ["not a range table"])
        threads_seen = pmap(os.getenv, ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                        "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"])
        malloc_trim = pmap(os.getenv, ["MALLOC_TRIM_THRESHOLD_"])
    assert [p.n_ions for p in parallel] == [3_000 + 500 * s for s in range(6)]
    for a, b in zip(serial, parallel):
        assert np.array_equal(a.counts, b.counts) and a.n_unranged == b.n_unranged
    assert progress_of_first_call == [(k, 6) for k in range(1, 7)]
    # every thread pool of a worker process is sized to its one thread (no oversubscription)
    assert threads_seen == ["1"] * 4
    # ... and this process keeps its own environment (numba refuses a later change of it)
    assert {name: os.environ.get(name) for name in parent_env} == parent_env
    # glibc's dynamic mmap threshold left on (dask's MALLOC_TRIM_THRESHOLD_ switches it off)
    assert malloc_trim == [os.environ.get("MALLOC_TRIM_THRESHOLD_")]


def test_dask_map_rejects_bad_worker_count() -> None:
    with pytest.raises(ParameterError, match="at least 1"):
        with dask_map(n_workers=0):
            pass  # pragma: no cover


def test_study_serial_and_two_workers_identical(tmp_path: Path) -> None:
    """The acceptance check: run_study serially and on 2 dask workers, byte-identical tables."""
    from liprobe.synth.example_study import example_study
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study

    study = example_study(tmp_path / "study", rng=5, n_ions=4_000, replicates=2)
    manifest = read_manifest(study.manifest_path)
    run_study(manifest, tmp_path / "serial", progress=False)
    with dask_map(n_workers=2) as pmap:
        run_study(manifest, tmp_path / "parallel", map_specimens=pmap, progress=False)
    serial = sorted((tmp_path / "serial" / "tables").glob("*.csv"))
    assert len(serial) >= 10
    for path in serial:
        other = tmp_path / "parallel" / "tables" / path.name
        assert other.read_bytes() == path.read_bytes(), path.name
    specimens = (tmp_path / "serial" / "tables" / "specimens.csv").read_text().splitlines()
    assert len(specimens) == 1 + 2 * 14  # header + 2 replicates x 14 (sample, depth)


def test_dask_map_submits_to_an_existing_scheduler() -> None:
    from dask.distributed import LocalCluster

    ranges = _ranges()
    masses = [np.array([7.0, 16.0, 16.1, 29.0], np.float32), np.array([50.0], np.float32)]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        with dask_map(scheduler=cluster.scheduler_address) as pmap:
            counts = pmap(count_ions, masses, [ranges, ranges])
        # the cluster is used, not closed, by dask_map
        assert cluster.scheduler.status.name == "running"
    assert [c.counts.tolist() for c in counts] == [[1, 2, 1, 0, 0, 0], [0] * 6]
    assert [c.n_unranged for c in counts] == [0, 1]


def test_chunked_profile_along_x_equals_in_memory_profile(pos_file) -> None:
    path, _ = pos_file
    expected = concentration_profile(read_ions(path), _ranges(), axis="x", bin_nm=3.0)
    got = chunked_profile(path, _ranges(), axis="x", bin_nm=3.0, chunk_ions=5_001)
    assert got.axis == expected.axis == "x from its minimum"
    assert np.array_equal(got.start_nm, expected.start_nm)
    assert np.array_equal(got.atom_counts, expected.atom_counts)
    with pytest.raises(ParameterError, match="axis"):
        chunked_profile(path, _ranges(), axis=(1.0, 0.0, 0.0))


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory):
    """One replicate per (sample, depth), 12 000 ions per specimen (generated once)."""
    from liprobe.synth.example_study import example_study

    return example_study(tmp_path_factory.mktemp("stream") / "study", rng=11, n_ions=12_000,
                         replicates=1)


def _one_specimen(study):
    from liprobe.workflow.manifest_file import read_manifest

    manifest = read_manifest(study.manifest_path)
    spec = next(s for s in manifest.specimens if s.cycles == 300 and not s.haadf)
    return spec, dataclasses.replace(manifest.settings, fda_block_ions=50)


def test_analyze_specimen_streams_a_file_above_the_limit(small_study) -> None:
    """Chunked path (tiny max_in_memory_ions) = in-memory path for counts, ratios, profile."""
    from liprobe.workflow.pipeline import analyze_specimen

    spec, settings = _one_specimen(small_study)
    plain = dataclasses.replace(settings, overlap_correction="none")
    whole = analyze_specimen(spec, plain)
    n = whole.n_ions
    record = {".pos": 16, ".epos": 44}[spec.apt.suffix]  # truth: file size / record size
    from liprobe.synth._example_design import LONG_SPECIMENS

    # the example study's long needles (the 300-cycle surface) hold more ions
    factor = LONG_SPECIMENS.get((spec.sample, spec.depth.label), 1.0)
    assert n == spec.apt.stat().st_size // record == int(12_000 * factor)
    streamed = analyze_specimen(spec, dataclasses.replace(plain, max_in_memory_ions=4_000))
    assert (streamed.n_ions, streamed.n_ranged) == (whole.n_ions, whole.n_ranged)
    assert streamed.counts == whole.counts and streamed.ratios == whole.ratios
    assert streamed.ratio_sigmas == whole.ratio_sigmas
    assert streamed.profile == whole.profile
    # the slab is stated: 4 000 ions from the middle of the evaporation sequence
    start = (n - 4_000) // 2
    assert {row["method"].split(", ions ")[1] for row in streamed.fda} == {
        f"{start}-{start + 3_999} of {n}"}
    note = [row for row in streamed.qc if row["check"] == "in_memory_slab"]
    assert len(note) == 1 and note[0]["verdict"] == "note"
    assert note[0]["value"] == pytest.approx(4_000 / n)
    assert not any(row["check"] == "in_memory_slab" for row in whole.qc)
    assert all(", ions " not in row["method"] for row in whole.fda)


def test_streamed_specimen_applies_the_in_memory_overlap_correction(small_study) -> None:
    """Chunked path (4 000 of 12 000 ions in memory, 3 chunks) = in-memory path with the
    isotope overlap correction on: counts, ratios, sigmas and moved shares."""
    from liprobe.workflow.pipeline import analyze_specimen

    spec, settings = _one_specimen(small_study)
    assert spec.apt.suffix == ".epos"
    on = dataclasses.replace(settings, overlap_correction="isotopes")
    whole = analyze_specimen(spec, on)
    streamed = analyze_specimen(spec, dataclasses.replace(on, max_in_memory_ions=4_000))
    raw = analyze_specimen(spec, dataclasses.replace(on, overlap_correction="none"))
    assert (streamed.n_ions, streamed.n_ranged) == (whole.n_ions, whole.n_ranged) == (
        raw.n_ions, raw.n_ranged)
    assert streamed.counts == whole.counts
    assert streamed.ratios == whole.ratios and streamed.ratio_sigmas == whole.ratio_sigmas
    assert streamed.overlap_shares == whole.overlap_shares
    assert any(key.startswith("share_16.0da_O2_2+") for key in streamed.overlap_shares)
    # the correction did act: O2 2+ ions of the 16 Da O range carry two O atoms each
    assert streamed.counts["O"] > raw.counts["O"]
    assert streamed.ratio_sigmas["O"] > raw.ratio_sigmas["O"]  # + share uncertainty
    note = next(row for row in streamed.qc if row["check"] == "in_memory_slab")
    assert "overlap" not in note["message"]


def test_streamed_overlap_statistics_equal_those_of_the_whole_file(pos_file) -> None:
    from liprobe.apt.overlap_statistics import overlap_statistics
    from liprobe.workflow.specimen_ions import load_specimen_ions

    path, label = pos_file
    ranges = _ranges()  # Li, O, Ni, Co, Mn ions: their species' isotope windows are counted
    loaded = load_specimen_ions(path, ranges, max_in_memory_ions=25_000, chunk_ions=7_000,
                                with_overlap_statistics=True)
    whole = overlap_statistics(read_ions(path), ranges)
    stats = loaded.overlap_statistics
    assert loaded.slab is not None and stats.n_ions == loaded.n_ions == 60_000
    for name in ("window_counts", "range_counts", "ion_counts", "spectrum_counts"):
        assert np.array_equal(getattr(stats, name), getattr(whole, name)), name
    # truth: the generator's labels (ions drawn inside their range, -1 = noise at 50 Da)
    assert loaded.ion_counts.tolist() == np.bincount(label[label >= 0], minlength=6).tolist()
    assert loaded.n_ranged == int((label >= 0).sum())
    plain = load_specimen_ions(path, ranges, max_in_memory_ions=25_000, chunk_ions=7_000)
    assert plain.overlap_statistics is None
    assert plain.ion_counts.tolist() == loaded.ion_counts.tolist()


def test_apt_file_above_the_limit_is_an_error(tmp_path: Path, rng: np.random.Generator) -> None:
    from liprobe.errors import LiprobeError
    from liprobe.workflow.specimen_ions import load_specimen_ions

    ions, label = _cloud(rng, 3_000)
    path = tmp_path / "c.apt"
    write_ions(path, ions)
    loaded = load_specimen_ions(path, _ranges(), max_in_memory_ions=3_000)
    assert loaded.slab is None and loaded.n_ions == 3_000
    assert loaded.n_ranged == int((label >= 0).sum())
    with pytest.raises(LiprobeError, match="convert the file to POS"):
        load_specimen_ions(path, _ranges(), max_in_memory_ions=2_999)


def test_manifest_reads_and_checks_max_in_memory_ions(small_study) -> None:
    from liprobe.errors import ManifestError
    from liprobe.study.manifest import StudySettings, parse_manifest

    text = small_study.manifest_path.read_text(encoding="utf-8")
    assert "\nseed = 0\n" in text
    assert StudySettings().max_in_memory_ions == 200_000_000

    def parse(value: str):
        edited = text.replace("\nseed = 0\n", f"\nseed = 0\nmax_in_memory_ions = {value}\n")
        return parse_manifest(edited, small_study.manifest_path)

    assert parse("5_000_000").settings.max_in_memory_ions == 5_000_000
    line = text[: text.index("\nseed = 0\n")].count("\n") + 3  # the line after seed
    for bad in ("10", "2.5e8", '"many"'):
        with pytest.raises(ManifestError, match=f"line {line}: .*max_in_memory_ions"):
            parse(bad)

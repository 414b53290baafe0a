"""The per-specimen pass on a file large enough for its compiled, in-place paths.

A seeded needle of 2.2 M ions (above the 2**21 ions where ranging, guards, profiles and
spectra switch to the numba kernels that read the big-endian memory map in place) goes
through ``analyze_specimen``; counts, ratios, the profile and O/metal are checked against
NumPy computed here from the same arrays (species by ``np.searchsorted`` over the bounds,
atoms by ``np.bincount``), and the input hash against ``hashlib``.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.io import write_ions, write_ranges
from liprobe.study.manifest import SpecimenSpec, StudySettings, parse_depth
from liprobe.workflow.pipeline import analyze_specimen

N_IONS = 2_200_000


def _ranges() -> RangeTable:
    ions = (Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("Ni", (("Ni", 1),)),
            Ion("O2", (("O", 2),)))
    return RangeTable(ions, [5.9, 6.9, 15.8, 28.8, 31.8], [6.1, 7.1, 16.2, 29.2, 32.2],
                      [0, 0, 1, 2, 3])


@pytest.mark.slow
def test_pass_on_a_large_memory_map_matches_numpy_counts(tmp_path):
    rng = np.random.default_rng(17)
    z = np.sort(rng.uniform(0.0, 60.0, N_IONS))
    r = (10.0 + 0.1 * z) * np.sqrt(rng.random(N_IONS))
    phi = rng.uniform(0, 2 * np.pi, N_IONS)
    xyz = np.column_stack([r * np.cos(phi), r * np.sin(phi), z]).astype(np.float32)
    peaks = np.array([6.015, 7.016, 16.0, 29.0, 32.0, 50.0], np.float32)
    mass = (rng.choice(peaks, N_IONS, p=[0.02, 0.25, 0.2, 0.3, 0.18, 0.05])
            + rng.normal(0, 0.03, N_IONS)).astype(np.float32)
    ranges = _ranges()
    write_ions(tmp_path / "needle.pos", IonTable(xyz, mass))
    write_ranges(tmp_path / "needle.rrng", ranges)
    spec = SpecimenSpec(name="needle", sample="NCM", cycles=0, depth=parse_depth("surface"),
                        replicate="1", apt=tmp_path / "needle.pos",
                        ranges=tmp_path / "needle.rrng")
    settings = dataclasses.replace(StudySettings(), elements=("Li", "Ni", "O"),
                                   normalize_to=("Ni",), overlap_correction="none")
    result = analyze_specimen(spec, settings)

    # independent ranging: the range whose [low, high) holds each float32 mass
    low = ranges.low_da.astype(np.float32).astype(np.float64)
    high = ranges.high_da.astype(np.float32).astype(np.float64)
    k = np.searchsorted(low, mass.astype(np.float64), side="right") - 1
    inside = (k >= 0) & (mass < high[np.maximum(k, 0)])
    species = np.where(inside, ranges.ion_index[np.maximum(k, 0)], -1)
    ions = np.bincount(species[species >= 0], minlength=4)
    atoms = {"Li": ions[0], "O": ions[1] + 2 * ions[3], "Ni": ions[2]}
    assert result.n_ions == N_IONS
    assert result.n_ranged == int(ions.sum())
    assert result.counts == {el: int(atoms[el]) for el in ("Li", "Ni", "O")}
    assert result.ratios["Li"] == pytest.approx(atoms["Li"] / atoms["Ni"], rel=1e-12)

    # profile: atoms per 2 nm bin of distance from the first ion (z grows with the sequence)
    d = xyz[species >= 0, 2].astype(np.float64) - float(xyz[0, 2])
    n_bins = int(np.floor(float(xyz[:, 2].max() - xyz[0, 2]) / 2.0)) + 1
    b = np.clip((d / 2.0).astype(np.int64), 0, n_bins - 1)
    weight = np.array([1, 1, 1, 2])[species[species >= 0]]
    np.testing.assert_array_equal(result.profile["n_atoms"],
                                  np.bincount(b, weights=weight, minlength=n_bins))

    qc = {row["check"]: row for row in result.qc}
    assert qc["o_metal"]["value"] == pytest.approx(atoms["O"] / atoms["Ni"], rel=1e-12)
    assert {row["element"] for row in result.fda} == {"Li", "Ni", "O"}
    assert all(row["n_blocks"] > 10_000 for row in result.fda)
    digest = hashlib.sha256((tmp_path / "needle.pos").read_bytes()).hexdigest()
    assert result.hashes[str(tmp_path / "needle.pos")] == digest

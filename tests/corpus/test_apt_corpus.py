"""The real AP Suite 6 export of APAV's test suite (``real-corpus/apt``) and its range files.

Truth (corpus README, APAV 1.4.0 ``tests/test_roi.py``): 945,211 ions; the APT's mass, xyz,
ions per pulse and detector x/y equal those of ``Si.epos`` of the same run; the RRNG has 25
ranges, the first Si, the last Cr2O. ``Si.epos``/``Si.pos`` (GPL) are not in the corpus: set
``LIPROBE_APAV_TESTS`` to the ``apav/tests`` folder of the APAV 1.4.0 sdist
(``pip download --no-deps APAV==1.4.0``) to compare against them; otherwise those tests skip.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from liprobe.apt.composition import compose
from liprobe.errors import LiprobeWarning
from liprobe.io import read_ions, read_ranges
from liprobe.io.apt import read_apt_sections
from tests.corpus.conftest import corpus_file
from tests.data.make_apsuite6_layout import layout_bytes

N_IONS = 945_211


def _apav_file(name: str) -> Path:
    folder = os.environ.get("LIPROBE_APAV_TESTS")
    if not folder:
        pytest.skip(f"{name} is GPL and not in the corpus: set LIPROBE_APAV_TESTS to the "
                    "apav/tests folder of the APAV 1.4.0 sdist to compare against it")
    path = Path(folder) / name
    if not path.exists():
        pytest.skip(f"{path} does not exist (LIPROBE_APAV_TESTS={folder})")
    return path


@pytest.fixture(scope="module")
def si_apt():
    path = corpus_file("apt/Si.apt")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LiprobeWarning)  # nothing of this export is skipped
        return read_ions(path)


def test_si_apt_opens_with_one_field_per_quantity(si_apt, corpus_row):
    fields = sorted(si_apt.fields)
    ok = si_apt.n_ions == N_IONS and fields == ["detector_x_mm", "detector_y_mm",
                                                "ions_per_pulse", "tofc"]
    corpus_row("apt/Si.apt", f"{si_apt.n_ions:,} ions, fields {', '.join(fields)}",
               "ion count; XDet/YDet and Detector Coordinates read once", f"{N_IONS:,} ions",
               ok)
    assert ok


def test_layout_fixture_reproduces_the_real_section_headers():
    """Every header byte of tests/data/apsuite6_layout.apt equals the real export's, except
    the counts (record count, byte count at 132-147) and the bounding box (148-171)."""
    real_path = corpus_file("apt/Si.apt")
    real, ours = read_apt_sections(real_path), read_apt_sections(
        Path(__file__).resolve().parents[1] / "data" / "apsuite6_layout.apt")
    assert [s.name for s in ours] == [s.name for s in real]
    blob = layout_bytes()
    with open(real_path, "rb") as fh:
        for mine, theirs in zip(ours, real):
            fh.seek(theirs.header_offset)
            head = fh.read(theirs.header_size)
            assert blob[mine.header_offset:mine.header_offset + 132] == head[:132], mine.name
            assert mine.header_size == theirs.header_size


def test_si_apt_equals_si_epos_of_the_same_run(si_apt, corpus_row):
    epos = read_ions(_apav_file("Si.epos"))
    checks = {
        "mass": np.array_equal(si_apt.mass_to_charge_da, epos.mass_to_charge_da),
        "xyz": np.array_equal(si_apt.xyz_nm, epos.xyz_nm),
        **{name: np.array_equal(si_apt.fields[name], epos.fields[name])
           for name in ("detector_x_mm", "detector_y_mm", "ions_per_pulse")},
    }
    corpus_row("apt/Si.apt vs APAV Si.epos", "mass, xyz, detector x/y, ions per pulse",
               ", ".join(f"{k} {'equal' if v else 'DIFFER'}" for k, v in checks.items()),
               "bit-equal (APAV test_from_apt)", all(checks.values()))
    assert all(checks.values()), checks


def test_si_apt_composition_equals_si_pos(si_apt, corpus_row):
    ranges = read_ranges(corpus_file("apt/Si.RRNG"))
    pos = read_ions(_apav_file("Si.pos"))
    ours, theirs = compose(si_apt, ranges, overlap="first"), compose(pos, ranges,
                                                                     overlap="first")
    ok = (ours.elements == theirs.elements
          and np.array_equal(ours.atom_counts, theirs.atom_counts))
    corpus_row("apt/Si.apt vs APAV Si.pos", "composition with Si.RRNG",
               " ".join(f"{e}:{c}" for e, c in zip(ours.elements, ours.atom_counts.tolist())),
               "equal to Si.pos's", ok)
    assert ok


@pytest.mark.parametrize("name", ["Si.RRNG", "Si.RNG"])
def test_si_range_files(name, corpus_row):
    ranges = read_ranges(corpus_file(f"apt/{name}"))
    names = ranges.ion_names
    first = names[int(ranges.ion_index[0])]
    last = names[int(ranges.ion_index[-1])]
    ok = ranges.n_ranges == 25 and set(names) == {"Si", "Cr", "Cu", "C", "O", "CrO", "CrO2",
                                                  "Cr2O"}
    if name == "Si.RRNG":
        ok = ok and (first, last) == ("Si", "Cr2O")
    corpus_row(f"apt/{name}", f"{ranges.n_ranges} ranges, {ranges.n_ions} ions",
               f"first {first}, last {last}", "25 ranges, first Si, last Cr2O (RRNG)", ok)
    assert ok

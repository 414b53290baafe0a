"""Real range files and the 3Depict conformance set (counts from its README table)."""

from __future__ import annotations

import pytest

from liprobe.errors import FormatError
from liprobe.io import read_ranges
from liprobe.io.env import read_env
from liprobe.io.rng import read_rng
from liprobe.io.rrng import read_rrng
from tests.conftest import SHARED

RANGEFILES = SHARED / "data/apt-rangefiles"
REAL = RANGEFILES / "real"
CONFORMANCE = RANGEFILES / "3depict-conformance"

pytestmark = pytest.mark.skipif(not RANGEFILES.is_dir(), reason="shared range files not present")

#: (ions, ranges) from 3depict-conformance/README (3Depict's own test expectations).
EXPECTED = {
    "test1.rng": (10, 6), "test2.rng": (7, 9), "test3.rng": (19, 59), "test5.rng": (4, 2),
    "test7.rng": (2, 2), "test8.rng": (2, 2), "test9.rng": (3, 3), "test10.rng": (3, 3),
    "test11.rng": (5, 10), "test12.rng": (5, 10), "test1.env": (1, 1),
    "test1.rrng": (1, 1), "test2.rrng": (3, 6), "test3.rrng": (8, 42), "test4.rrng": (14, 15),
    "test5.rrng": (1, 1), "test6.rrng": (2, 4),
}

#: Counts stated in the real/ README where it gives them.
REAL_COUNTS = {"ErMnO.env": (12, 26)}


def _read_conformance(path):
    if path.suffix == ".rrng":  # the set uses placeholder symbols A, B, Ab ...
        return read_rrng(path, check_elements=False)
    return read_rng(path) if path.suffix == ".rng" else read_env(path)


def _real_files():
    return sorted(REAL.iterdir()) if REAL.is_dir() else []


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_every_real_file_parses(path):
    table = read_ranges(path)
    assert table.n_ranges > 0
    assert table.n_ions > 0
    assert (table.high_da > table.low_da).all()
    if path.name in REAL_COUNTS:
        assert (table.n_ions, table.n_ranges) == REAL_COUNTS[path.name]


def test_real_files_cover_every_reader():
    suffixes = {p.suffix.lower() for p in _real_files()}
    assert {".rng", ".rrng", ".env"} <= suffixes


def test_decimal_comma_file_reads_dots():
    table = read_rrng(REAL / "Mo_range.rrng")
    assert table.low_da[0] == 22.8615
    assert table.volume_nm3[0] == 0.01558


def test_vaLn_exact_duplicates_dropped():
    table = read_rrng(REAL / "VAlN_film_plan-view_700C.rrng")
    lines = (REAL / "VAlN_film_plan-view_700C.rrng").read_text().splitlines()
    distinct = {ln.split("=", 1)[1].strip() for ln in lines if ln.lower().startswith("range")}
    assert table.n_ranges == len(distinct) < 1440


def test_calcite_named_peaks_and_molecular_ion():
    table = read_rrng(REAL / "calcite_ivas.rrng")
    assert "Ca2CO3" in table.ion_names
    assert table.ions[table.ion_names.index("Ca2CO3")].atoms == (("Ca", 2), ("C", 1), ("O", 3))
    assert table.ions[table.ion_names.index("52pt5")].atoms == ()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_conformance_counts(name):
    table = _read_conformance(CONFORMANCE / name)
    assert (table.n_ions, table.n_ranges) == EXPECTED[name]


def test_test4_rng_rejected_for_overlapping_ranges_of_one_ion():
    with pytest.raises(FormatError, match=r"58.0-69.11 Da overlaps range 58.0012-58.1525 Da "
                                          r"\(line 7\) of the same ion 'Q'") as info:
        read_rng(CONFORMANCE / "test4.rng")
    assert info.value.line == 8


def test_test6_rng_rejected_for_unnamed_multiple_ion():
    with pytest.raises(FormatError, match=r"several species \(Bx1 \+ Cx1\).*no name or colour"):
        read_rng(CONFORMANCE / "test6.rng")

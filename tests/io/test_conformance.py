"""Real range files and the 3Depict conformance set (counts from its README table).

The permissively licensed real files are in ``tests/data/rangefiles`` (see
``tests/data/LICENSES.md``) and always run; the GPL ones (3Depict's set, apt-tools' calcite
RRNG) are read from ``../shared`` and skip with a reason when it is absent.
"""

from __future__ import annotations

import pytest

from liprobe.errors import FormatError
from liprobe.io import read_ranges
from liprobe.io.env import read_env
from liprobe.io.rng import read_rng
from liprobe.io.rrng import read_rrng
from tests.conftest import REPO, SHARED

RANGEFILES = SHARED / "data/apt-rangefiles"
#: Real range files copied into the repository (Apache-2.0 / public domain).
REAL = REPO / "tests" / "data" / "rangefiles"
#: GPL range files: only beside the checkout.
GPL_REAL = RANGEFILES / "real"
CONFORMANCE = RANGEFILES / "3depict-conformance"


def _shared(path):
    if not path.exists():
        pytest.skip(f"{path.name} is GPL-licensed and lives only in ../shared ({path} absent)")
    return path

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
    return sorted(p for p in REAL.iterdir() if p.suffix.lower() in (".rrng", ".rng", ".env"))


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
    table = read_rrng(_shared(GPL_REAL / "calcite_ivas.rrng"))
    assert "Ca2CO3" in table.ion_names
    assert table.ions[table.ion_names.index("Ca2CO3")].atoms == (("Ca", 2), ("C", 1), ("O", 3))
    assert table.ions[table.ion_names.index("52pt5")].atoms == ()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_conformance_counts(name):
    table = _read_conformance(_shared(CONFORMANCE / name))
    assert (table.n_ions, table.n_ranges) == EXPECTED[name]


def test_test4_rng_rejected_for_overlapping_ranges_of_one_ion():
    with pytest.raises(FormatError, match=r"58.0-69.11 Da overlaps range 58.0012-58.1525 Da "
                                          r"\(line 7\) of the same ion 'Q'") as info:
        read_rng(_shared(CONFORMANCE / "test4.rng"))
    assert info.value.line == 8


def test_test6_rng_rejected_for_unnamed_multiple_ion():
    with pytest.raises(FormatError, match=r"several species \(Bx1 \+ Cx1\).*no name or colour"):
        read_rng(_shared(CONFORMANCE / "test6.rng"))


def test_column_title_dialect_without_sections():
    """The Sydney export: a first line ``mq1 mq2 volume element color``, no ``[Ions]`` or
    ``[Ranges]``, 86 range lines, ``Mo:1C:1`` run together from line 71 (corpus README)."""
    path = REAL / "aus_sydney_theska.rrng"
    lines = path.read_text().splitlines()
    assert lines[0] == "mq1 mq2 volume element color" and lines[71].startswith("Range71=")
    table = read_rrng(path)
    assert table.n_ranges == sum(ln.startswith("Range") for ln in lines) == 86
    k = int(table.low_da.tolist().index(53.36))
    assert table.ions[int(table.ion_index[k])].atoms == (("Mo", 1), ("C", 1))
    assert table.volume_nm3[k] == 0.02436 and table.colors[k] == "#660033"


def test_a_column_title_line_elsewhere_is_still_an_error(tmp_path):
    path = tmp_path / "late.rrng"
    path.write_text("[Ranges]\nRange1=1 2 H:1\nmq1 mq2 volume element color\n")
    with pytest.raises(FormatError, match="expected key=value") as info:
        read_rrng(path)
    assert info.value.line == 3

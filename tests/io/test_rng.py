"""RNG reader: declared species, molecular ions, polyatomic extension, errors."""

from __future__ import annotations

import math

import pytest

from liprobe.errors import FormatError, MissingFileError
from liprobe.io.rng import read_rng

NICKEL = """3 4
Nickel
Ni 0.0 0.8 0.0
Oxygen
O 0.0 0.8 1.0
NiO
NiO 1.0 0.0 0.0 (NiO)
------------------- Ni O NiO
. 28.80 29.40 1 0 0
. 15.90 16.10 0 1 0
. 31.90 32.10 0 2 0
. 36.90 38.10 1 1 0
"""


def _write(tmp_path, text: str, newline: str = "\n"):
    path = tmp_path / "r.rng"
    path.write_bytes(text.replace("\n", newline).encode())
    return path



def test_molecular_ranges_match_declared_composed_columns(tmp_path):
    text = NICKEL.replace("3 4", "4 4").replace(
        "------------------- Ni O NiO",
        "O2\nO2 0.0 0.0 1.0 (O2)\n------------------- Ni O NiO O2").replace(
        " 1 0 0\n", " 1 0 0 0\n").replace(" 0 1 0\n", " 0 1 0 0\n").replace(
        " 0 2 0\n", " 0 2 0 0\n").replace(" 1 1 0\n", " 1 1 0 0\n")
    table = read_rng(_write(tmp_path, text))
    assert table.ion_names == ("Ni", "O", "NiO", "O2")
    assert table.ion_index.tolist() == [0, 1, 3, 2]
    assert table.ions[3].atoms == (("O", 2),)
    assert table.colors[2] == "#0000ff"
    assert table.ions[0].color == "#00cc00"
    assert all(math.isnan(v) for v in table.volume_nm3)


def test_unmatched_multiple_with_composed_columns_is_rejected(tmp_path):
    with pytest.raises(FormatError, match=r"several species \(Ox2\).*NiO") as info:
        read_rng(_write(tmp_path, NICKEL))
    assert info.value.line == 11


def test_new_molecular_ion_when_no_column_is_all_zero(tmp_path):
    text = """3 3
Al
Al 0.2 1.0 1.0
H
H 0.8 0.8 0.0
Mg
Mg 0.8 0.0 0.8
----------------- Al H Mg
. 26.8 27.3 1 0 0
. 0.9 1.3 0 1 0
. 13.9 14.1 1 1 1
"""
    table = read_rng(_write(tmp_path, text, "\r\n"))
    assert table.ion_names == ("Al", "H", "Mg", "AlHMg")
    assert table.ions[3].atoms == (("Al", 1), ("H", 1), ("Mg", 1))


def test_polyatomic_extension_renames_the_matching_range(tmp_path):
    text = """2 2
Al
Al 0.2 1.0 1.0
H
H 0.8 0.8 0.0
----------------- Al H
. 26.8 27.3 1 0
. 13.951 14.101 1 1


--- polyatomic extension
1 1
AlH
AlH 1.00 0.00 0.00
----------------- AlH
. 13.951 14.101   1
"""
    table = read_rng(_write(tmp_path, text))
    assert table.ion_names == ("Al", "H", "AlH")
    assert table.n_ranges == 2
    assert table.ions[2].color == "#ff0000"
    assert table.ions[2].atoms == (("Al", 1), ("H", 1))


def test_extension_range_must_match_a_main_range(tmp_path):
    text = ("1 1\nAl\nAl 0.2 1.0 1.0\n---- Al\n. 26.8 27.3 1\n--- polyatomic extension\n"
            "1 1\nAlH\nAlH 1 0 0\n---- AlH\n. 13.9 14.1 1\n")
    with pytest.raises(FormatError, match="13.9-14.1 Da matches no range") as info:
        read_rng(_write(tmp_path, text))
    assert info.value.line == 11


def test_non_element_labels_are_ions_without_atoms(tmp_path):
    text = ("2 2\nunknown\nunknown 0.6 0.6 0\nMn2O\nMn2O 0 0 0\n----- unknown Mn2O\n"
            ". 1 2 1 0\n. 126 127 0 1\n")
    table = read_rng(_write(tmp_path, text))
    assert table.ions[0].atoms == ()
    assert table.ions[1].atoms == (("Mn", 2), ("O", 1))


def test_marker_column_is_optional_and_negative_bounds_allowed(tmp_path):
    text = "2 2\nM\nM 0 0 1\nN\nN 1 0 0\n-------\n3 -0.5 0.5 1 0\n1.5 2.4 0 1\n"
    table = read_rng(_write(tmp_path, text))
    assert table.low_da.tolist() == [-0.5, 1.5]
    assert table.ion_index.tolist() == [0, 1]


def test_same_ion_overlap_rejected_by_default(tmp_path):
    text = "1 2\nQ\nQ 1 0 1\n---- Q\n. 58.0012 58.1525 1\n. 58.0 69.11 1\n"
    with pytest.raises(FormatError, match=r"58.0-69.11 Da overlaps .* same ion 'Q'") as info:
        read_rng(_write(tmp_path, text))
    assert info.value.line == 6
    assert read_rng(_write(tmp_path, text), same_ion_overlaps="keep").n_ranges == 2


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("x y\n", "species count .x. is not a number", 1),
        ("1 1\nLi\nLi 1 0\n---\n. 1 2 1\n", "short name", 3),
        ("1 1\nLi\nLi 1 0 0\n. 1 2 1\n", "ends early", 4),
        ("1 1\nLi\nLi 1 0 0\nLi\n. 1 2 1\n", "dashed", 4),
        ("1 1\nLi\nLi 1 0 0\n---\n. 1 2 1 0\n", "5 values", 5),
        ("1 1\nLi\nLi 1 0 0\n---\n. 2 1 1\n", "not above", 5),
        ("1 1\nLi\nLi 1 0 0\n---\n. a 2 1\n", "lower bound", 5),
        ("1 1\nLi\nLi 1 0 0\n---\n. 1 2 1\nextra words\n", "unexpected text", 6),
    ],
)
def test_errors_name_the_line(tmp_path, text, message, line):
    with pytest.raises(FormatError, match=message) as info:
        read_rng(_write(tmp_path, text))
    assert info.value.line == line


def test_missing_rng(tmp_path):
    with pytest.raises(MissingFileError):
        read_rng(tmp_path / "nope.rng")

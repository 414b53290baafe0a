"""RRNG dialects and errors, from small inline files written to tmp_path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liprobe.data import Ion, RangeTable
from liprobe.errors import FormatError, MissingFileError, ParameterError
from liprobe.io.rrng import read_rrng, write_rrng

BASIC = """[Ions]
Number=2
Ion1=Li
Ion2=O
[Ranges]
Number=3
Range1=6.9 7.1 Vol:0.02 Li:1 Color:FF0000
Range2=15.9 16.1 Vol:0.0288 O:1 Color:00CC00
Range3=31.9 32.1 Vol:0.0577 O:2 Color:0000ff
"""


def _write(tmp_path, text: str, name: str = "r.rrng", newline: str = "\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("latin-1"))
    return path


def test_basic_file(tmp_path):
    table = read_rrng(_write(tmp_path, BASIC))
    assert table.ion_names == ("Li", "O", "O2")
    assert table.ions[2].atoms == (("O", 2),)
    assert table.low_da.tolist() == [6.9, 15.9, 31.9]
    assert table.high_da.tolist() == [7.1, 16.1, 32.1]
    assert table.ion_index.tolist() == [0, 1, 2]
    assert table.volume_nm3.tolist() == [0.02, 0.0288, 0.0577]
    assert table.colors == ("#ff0000", "#00cc00", "#0000ff")
    assert table.ions[0].color == "#ff0000"


def test_decimal_commas(tmp_path):
    text = "[Ranges]\nNumber=1\nRange1=22,8615 23,0910 Vol:0,01558 Mo:1 Color:FF0033\n"
    table = read_rrng(_write(tmp_path, text))
    assert table.low_da.tolist() == [22.8615]
    assert table.high_da.tolist() == [23.091]
    assert table.volume_nm3.tolist() == [0.01558]


def test_crlf_and_case_insensitive_keys_and_trailing_spaces(tmp_path):
    text = ("[IONS]  \nnumber=1\nion1=Ni\n[ranges] \nNUMBER=1\n"
            "range1=  28.8 29.4  VOL:0.0109 Ni:1 COLOR:00cc00  \n")
    table = read_rrng(_write(tmp_path, text, newline="\r\n"))
    assert table.ion_names == ("Ni",)
    assert table.low_da.tolist() == [28.8]
    assert table.volume_nm3.tolist() == [0.0109]
    assert table.colors == ("#00cc00",)


def test_duplicate_keys_keep_distinct_ranges(tmp_path):
    text = ("[Ranges]\nNumber=3\nRange1=26.7 26.9 Al:1\nRange1=55.9 56.0 Fe:1\n"
            "Range1=27.8 28.0 Si:1\n")
    table = read_rrng(_write(tmp_path, text))
    assert table.ion_names == ("Al", "Fe", "Si")
    assert table.low_da.tolist() == [26.7, 55.9, 27.8]


def test_exact_duplicate_ranges_are_dropped(tmp_path):
    line = "Range{}=6.8889 7.3155 Vol:0.02248 N:1 Color:99CC00\n"
    text = "[Ranges]\nNumber=4\n" + "".join(line.format(k) for k in range(1, 4))
    text += "Range4=13.3727 13.8096 Vol:0.01661 Al:1 Color:33FF00\n"
    table = read_rrng(_write(tmp_path, text))
    assert table.n_ranges == 2
    assert table.ion_names == ("N", "Al")


def test_missing_vol_and_color(tmp_path):
    table = read_rrng(_write(tmp_path, "[Ranges]\nRange1=1.0 2.0 H:1\n"))
    assert math.isnan(table.volume_nm3[0])
    assert table.colors == (None,)


def test_missing_or_empty_ions_section(tmp_path):
    for text in ("[Ranges]\nRange1=1 2 H:1\n", "[Ions]\n[Ranges]\nRange1=1 2 H:1\n",
                 "[Ions]\nNumber=0\n[Ranges]\nNumber=1\nRange1=1 2 H:1\n"):
        assert read_rrng(_write(tmp_path, text)).ion_names == ("H",)


def test_name_without_composition_is_an_ion_without_atoms(tmp_path):
    text = "[Ranges]\nRange1=58.566 58.96 Vol:0.0 Name:59 Color:FF00FF\nRange2=1 2 H:1\n"
    table = read_rrng(_write(tmp_path, text))
    assert table.ions[0] == Ion("59", (), "#ff00ff")
    assert table.ion_names == ("59", "H")


def test_canonical_names_in_written_order_and_counts(tmp_path):
    text = ("[Ranges]\nRange1=44.7 46.3 Ni:1 O:2\nRange2=29.9 30.1 Li:2 O:1\n"
            "Range3=89.6 94.3 O:2 Ni:1\nRange4=30.5 30.9 Ni:1.000 Name:whatever\n")
    table = read_rrng(_write(tmp_path, text))
    assert table.ion_names == ("NiO2", "Li2O", "Ni")
    assert table.ion_index.tolist() == [0, 1, 0, 2]  # O2Ni is the same ion as NiO2


def test_comments_are_ignored(tmp_path):
    text = "# made by hand\n; also a comment\n[Ranges]\n# inside\nRange1=1 2 H:1\n"
    assert read_rrng(_write(tmp_path, text)).n_ranges == 1


def test_overlaps_are_kept_by_default(tmp_path):
    text = "[Ranges]\nRange1=6.8 7.3 N:1\nRange2=6.9 7.0 N:1\nRange3=7.0 7.5 Li:1\n"
    assert read_rrng(_write(tmp_path, text)).n_ranges == 3
    with pytest.raises(FormatError, match="same ion 'N'") as info:
        read_rrng(_write(tmp_path, text), same_ion_overlaps="error")
    assert info.value.line == 3


def test_latin1_file_decodes(tmp_path):
    text = "# Pr\xfcfung\n[Ranges]\nRange1=1 2 H:1\n"
    assert read_rrng(_write(tmp_path, text)).n_ranges == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Range1=abc 2.0 H:1", "lower bound 'abc' is not a number"),
        ("Range1=1.0 x H:1", "upper bound 'x'"),
        ("Range1=2.0 1.0 H:1", "not above lower bound"),
        ("Range1=2.0 2.0 H:1", "not above lower bound"),
        ("Range1=1.0 2.0 Xx:1", "unknown element 'Xx'"),
        ("Range1=1.0 2.0 H:one", "count of H"),
        ("Range1=1.0 2.0 H:1.5", "whole"),
        ("Range1=1.0", "lower and an upper bound"),
        ("Range1=1.0 2.0 H1", "Key:Value"),
        ("Range1=1.0 2.0 Vol:0.1", "neither a composition"),
        ("Range1=1.0 2.0 H:1 Color:GG0000", "RRGGBB"),
        ("this is not a key value line", "key=value"),
    ],
)
def test_errors_name_the_line(tmp_path, line, message):
    path = _write(tmp_path, "[Ions]\nNumber=1\n[Ranges]\nNumber=1\n" + line + "\n")
    with pytest.raises(FormatError, match=message) as info:
        read_rrng(path)
    assert info.value.line == 5


def test_placeholder_symbols_need_check_elements_false(tmp_path):
    path = _write(tmp_path, "[Ranges]\nRange1=1 2 A:1\n")
    with pytest.raises(FormatError, match="unknown element 'A'"):
        read_rrng(path)
    assert read_rrng(path, check_elements=False).ions[0].atoms == (("A", 1),)


def test_empty_file_and_no_ranges_section(tmp_path):
    with pytest.raises(FormatError, match="empty"):
        read_rrng(_write(tmp_path, "  \n"))
    with pytest.raises(FormatError, match=r"no \[Ranges\]"):
        read_rrng(_write(tmp_path, "[Ions]\nNumber=1\nIon1=H\n"))
    with pytest.raises(MissingFileError):
        read_rrng(tmp_path / "nope.rrng")


def test_write_then_read_gives_the_same_table(tmp_path):
    table = RangeTable(
        ions=(Ion("Li", (("Li", 1),), "#ff0000"), Ion("NiO2", (("Ni", 1), ("O", 2)), None),
              Ion("peak59", (), "#00ff00")),
        low_da=np.array([6.9, 44.7, 58.5, 7.9]),
        high_da=np.array([7.1, 46.3, 59.0, 8.1]),
        ion_index=np.array([0, 1, 2, 0]),
        volume_nm3=np.array([0.02, np.nan, 0.0, 0.02]),
        colors=("#ff0000", None, "#00ff00", "#ff00ff"),
    )
    path = tmp_path / "out.rrng"
    write_rrng(path, table)
    back = read_rrng(path)
    assert back.ions == table.ions
    assert back.low_da.tolist() == table.low_da.tolist()
    assert back.high_da.tolist() == table.high_da.tolist()
    assert back.ion_index.tolist() == table.ion_index.tolist()
    np.testing.assert_array_equal(back.volume_nm3, table.volume_nm3)
    assert back.colors == table.colors
    assert "Range3=58.5 59.0 Vol:0.0 Name:peak59 Color:00FF00" in path.read_text()


def test_write_rejects_names_that_are_not_one_word(tmp_path):
    table = RangeTable((Ion("two words", ()),), np.array([1.0]), np.array([2.0]), np.array([0]))
    with pytest.raises(ParameterError, match="one non-empty word"):
        write_rrng(tmp_path / "x.rrng", table)


def test_fill_missing_writes_vol_and_color_on_every_range_for_ivas(tmp_path):
    table = RangeTable(
        ions=(Ion("Si", (("Si", 1),)), Ion("CrO", (("Cr", 1), ("O", 1))), Ion("peak59", ())),
        low_da=np.array([27.9, 67.6, 58.5]), high_da=np.array([28.6, 69.6, 59.0]),
        ion_index=np.array([0, 1, 2]), volume_nm3=np.array([np.nan, 0.04083, np.nan]),
        colors=(None, "#ff0000", None))
    path = tmp_path / "ivas.rrng"
    write_rrng(path, table, fill_missing=True)
    text = path.read_text()
    lines = [ln for ln in text.splitlines() if ln.startswith("Range")]
    assert all(" Vol:" in ln and " Color:" in ln for ln in lines)
    assert "[Ions]\nNumber=4\nIon1=Si\nIon2=Cr\nIon3=O\nIon4=peak59\n" in text
    back = read_rrng(path)
    # IVAS's own Si.RRNG (APAV test data) lists Vol:0.02003 for Si; periodictable's
    # density gives the volume per atom of solid Si to 0.1 %.
    assert back.volume_nm3[0] == pytest.approx(0.02003, rel=1e-3)
    assert back.volume_nm3[1] == 0.04083 and back.volume_nm3[2] == 0.0
    assert back.colors[1] == "#ff0000" and back.colors[0] is not None
    np.testing.assert_array_equal(back.low_da, table.low_da)
    # the same table written twice gives the same colours (stable, from the name)
    write_rrng(tmp_path / "again.rrng", table, fill_missing=True)
    assert (tmp_path / "again.rrng").read_text() == text

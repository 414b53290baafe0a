"""ENV (GPM Rouen) reader."""

from __future__ import annotations

import pytest

from liprobe.errors import FormatError, MissingFileError
from liprobe.io.env import read_env

ENV = """#
#   GPM Rouen environment file
# Version Id
Rev_2.0

# Number of elements / Number of mass ranges
3\t4
# List of Element and Color components
O\t0.0\t1.0\t0.0
Mn_2+\t0.0\t0.5\t1.0
Hyd\t0.0\t0.0\t0.0
# Definition of  Mass ranges / Atomic volumes / Increment for concentration
O\t15.880\t16.840\t20.000\t1.000
Mn\t27.330\t27.950\t11.660\t1.000
Mn\t54.800\t55.200\t11.660\t1.000
Hyd\t0.9\t1.1\t5.0\t1.000
# Atom probe definition
1 3 5
lalall
"""


def _write(tmp_path, text: str):
    path = tmp_path / "r.env"
    path.write_text(text)
    return path


def test_read_env(tmp_path):
    table = read_env(_write(tmp_path, ENV))
    assert table.ion_names == ("O", "Mn", "Hyd")
    assert table.ions[1].atoms == (("Mn", 1),)
    assert table.ions[2].atoms == ()
    assert table.low_da.tolist() == [15.88, 27.33, 54.8, 0.9]
    assert table.ion_index.tolist() == [0, 1, 1, 2]
    # volumes are Å^3 in the file: 11.66 Å^3 = 0.01166 nm^3
    assert table.volume_nm3.tolist() == pytest.approx([0.020, 0.01166, 0.01166, 0.005])
    assert table.colors[0] == "#00ff00"
    assert table.colors[1] == "#0080ff"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Rev_2.0\n1 2 3\n", "n_species"),
        ("1 1\nO 0 1\nO 1 2 3 1\n", "<name> <r> <g> <b>"),
        ("1 1\nO 0 1 0\nX 1 2 3 1\n", "undeclared species 'X'"),
        ("1 1\nO 0 1 0\nO 1 2 3\n", "<volume>"),
        ("1 2\nO 0 1 0\nO 1 2 3 1\n", "ends early"),
        ("1 1\nO 0 1 0\nO 2 1 3 1\n", "not above"),
        ("# only comments\n", "no data lines"),
    ],
)
def test_env_errors(tmp_path, text, message):
    with pytest.raises(FormatError, match=message):
        read_env(_write(tmp_path, text))


def test_missing_env(tmp_path):
    with pytest.raises(MissingFileError):
        read_env(tmp_path / "nope.env")

"""``liprobe ranges`` / ``composition`` with ``--allow-unknown-elements``.

Truth: the 3Depict range-file conformance set (``../shared/data/apt-rangefiles/
3depict-conformance``, GPL, not in the repository) and the ion/range counts its README
states from 3Depict's own test suite; a hand-written RRNG with placeholder symbols.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.data import IonTable
from liprobe.errors import LiprobeWarning
from liprobe.io import write_ions
from tests.conftest import SHARED

CONFORMANCE = SHARED / "data" / "apt-rangefiles" / "3depict-conformance"
#: (ions, ranges), or None for a file 3Depict must reject (README table).
EXPECTED = {
    "test1.rng": (10, 6), "test2.rng": (7, 9), "test3.rng": (19, 59), "test4.rng": None,
    "test5.rng": (4, 2), "test6.rng": None, "test7.rng": (2, 2), "test8.rng": (2, 2),
    "test9.rng": (3, 3), "test10.rng": (3, 3), "test11.rng": (5, 10), "test12.rng": (5, 10),
    "test1.env": (1, 1), "test1.rrng": (1, 1), "test2.rrng": (3, 6), "test3.rrng": (8, 42),
    "test4.rrng": (14, 15), "test5.rrng": (1, 1), "test6.rrng": (2, 4),
}

PLACEHOLDER_RRNG = """[Ranges]
Number=3
Range1=10.0 11.0 A:1
Range2=20.0 21.0 A:1 O:2
Range3=16.0 16.5 O:1
"""


def test_the_whole_3depict_conformance_set_from_the_cli(capsys):
    if not CONFORMANCE.is_dir():
        pytest.skip(f"3Depict conformance set (GPL) not present at {CONFORMANCE}; it lives in "
                    "../shared only")
    files = sorted(p.name for p in CONFORMANCE.iterdir() if p.suffix in (".rng", ".rrng",
                                                                          ".env"))
    assert sorted(EXPECTED) == files
    agree = 0
    for name, expected in EXPECTED.items():
        with warnings.catch_warnings():  # placeholder symbols warn; checked below
            warnings.simplefilter("ignore", LiprobeWarning)
            code = main(["ranges", str(CONFORMANCE / name), "--allow-unknown-elements",
                         "--json"])
        out, err = capsys.readouterr()
        if expected is None:
            agree += code == 2 and len(err.strip().splitlines()) == 1
        elif code == 0:
            payload = json.loads(out)
            agree += (payload["n_ions"], payload["n_ranges"]) == expected
    assert agree == len(EXPECTED) == 19


def test_placeholder_symbols_are_rejected_without_the_flag(tmp_path, capsys):
    path = tmp_path / "placeholders.rrng"
    path.write_text(PLACEHOLDER_RRNG)
    assert main(["ranges", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3: unknown element 'A'" in err and "--allow-unknown-elements" in err


def test_placeholders_become_named_ions_without_atoms(tmp_path, capsys):
    path = tmp_path / "placeholders.rrng"
    path.write_text(PLACEHOLDER_RRNG)
    # the CLI prints liprobe warnings on stderr, one line per kind
    assert main(["ranges", str(path), "--allow-unknown-elements", "--json"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"liprobe: warning: .*'A' \(line 3\).*named ions without atoms",
                     captured.err), captured.err
    payload = json.loads(captured.out)
    assert payload["ions"] == ["A", "AO2", "O"]
    assert [r["atoms"] for r in payload["ranges"]] == [{}, {}, {"O": 1}]

    # composition: 4 ions at 10.5 Da, 3 at 20.5 Da, 5 at 16.2 Da, 2 unranged at 50 Da:
    # the placeholder ions are ranged but contribute no atoms, so O has 5 atoms only.
    mass = np.repeat(np.float32([10.5, 20.5, 16.2, 50.0]), [4, 3, 5, 2])
    ions = write_ions(tmp_path / "run.pos", IonTable(np.zeros((14, 3), np.float32), mass))
    assert main(["composition", str(ions), "-r", str(path), "--allow-unknown-elements",
                 "--json"]) == 0
    captured = capsys.readouterr()
    assert "liprobe: warning:" in captured.err
    payload = json.loads(captured.out)
    assert (payload["n_ions"], payload["n_ranged"]) == (14, 12)
    assert payload["elements"]["O"]["atoms"] == 5

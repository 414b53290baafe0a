"""``liprobe demo``: the synthetic NCM811 data set is written, read back and ranged."""

from __future__ import annotations

import re

from liprobe.apt.composition import compose
from liprobe.cli import main
from liprobe.cli.demo_command import DEMO_STOICHIOMETRY, write_demo_specimen
from liprobe.io import read_ions, read_ranges


def test_demo_specimen_has_known_composition(tmp_path):
    made = write_demo_specimen(tmp_path, n_formula_units=20_000, seed=5)
    comp = compose(read_ions(made["epos"]), read_ranges(made["rrng"]))
    assert comp.n_ions == made["n_ions"]
    # generated atoms follow the formula exactly
    assert made["atoms"] == {"Li": 20_000, "Ni": 16_000, "Co": 3_000, "Mn": 1_000, "O": 40_000}
    # measured ratios: within 5 sigma of the formula (minor isotopes, 64Ni2+ under O2+
    # and 3 % background make small biases)
    for element, truth in DEMO_STOICHIOMETRY.items():
        assert abs(comp.ratio(element) - truth) < 5 * comp.ratio_sigma(element) + 0.01
    assert 0.02 < comp.unranged_fraction < 0.05


def test_demo_command_prints_metal_ratios(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert (out_dir / "ncm811_demo.epos").stat().st_size % 44 == 0
    li = re.search(r"^Li\s+([0-9.]+)", out, re.M)
    assert li is not None and abs(float(li.group(1)) - 1.0) < 0.03

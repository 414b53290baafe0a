"""``.to_frame()`` and ``_repr_html_`` of the main data and result objects, checked against
the hand-built fixture of ``tests/cli/test_files_commands`` (counts known by construction)."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.composition import compose
from liprobe.apt.frequency import frequency_distribution, scan_block_sizes
from liprobe.apt.profiles import concentration_profile
from liprobe.io import read_ions, read_ranges
from tests.cli.test_files_commands import ATOMS, N_IONS, PEAKS, files  # noqa: F401


def test_ion_table_frame_and_view(files):  # noqa: F811
    ions = read_ions(files["epos"])
    frame = ions.to_frame()
    assert list(frame.columns) == list(ions.field_names) and len(frame) == N_IONS
    np.testing.assert_array_equal(frame["mass_to_charge_da"].to_numpy(), ions.mass_to_charge_da)
    assert frame["x_nm"].dtype == np.float32 and frame["x_nm"].dtype.isnative
    html = ions._repr_html_()
    assert f"{N_IONS} ions" in html and "<table" in html and f"of {N_IONS} rows" in html


def test_range_table_frame(files):  # noqa: F811
    frame = read_ranges(files["rrng"]).to_frame()
    assert len(frame) == 7 and frame.loc[0, "ion"] == "Li"
    assert frame.loc[0, "low_da"] == pytest.approx(6.8) and frame.loc[3, "atoms"] == "Ni:1 O:2"


def test_composition_frame_has_the_counted_atoms(files):  # noqa: F811
    comp = compose(read_ions(files["pos"]), read_ranges(files["rrng"]))
    frame = comp.to_frame().set_index("element")
    for element, atoms in ATOMS.items():
        assert frame.loc[element, "atoms"] == atoms
    metals = ATOMS["Ni"] + ATOMS["Co"] + ATOMS["Mn"]
    assert frame.loc["Li", "ratio"] == pytest.approx(ATOMS["Li"] / metals)
    assert "ratios to" in comp._repr_html_()


def test_profile_fda_and_scan_frames(files):  # noqa: F811
    ions, ranges = read_ions(files["pos"]), read_ranges(files["rrng"])
    profile = concentration_profile(ions, ranges, bin_nm=20.0)
    frame = profile.to_frame()
    assert frame["n_atoms"].sum() == sum(ATOMS.values())
    fda = frequency_distribution(ions, ranges, block_ions=10, elements=["Li", "O"])
    table = fda.to_frame()
    assert list(table["element"]) == ["Li", "O"]
    assert table["n_blocks"].iloc[0] == fda.n_blocks
    scan = scan_block_sizes(ions, ranges, block_ions=(5, 10), elements=["Li"])
    assert list(scan.to_frame()["block_ions"]) == [5, 10]
    for obj in (profile, fda, scan):
        assert "<table" in obj._repr_html_()
    assert sum(n for _, n in PEAKS) == N_IONS

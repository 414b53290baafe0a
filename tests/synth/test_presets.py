"""Presets: every published APT row has one; the Li-lines preset is detectably segregated."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from liprobe.apt.frequency import frequency_distribution
from liprobe.errors import ParameterError
from liprobe.synth import PRESET_ROWS, PRESETS, generate_specimen, get_preset, ncm_ranges
from tests.conftest import PUBLISHED

TABLE = PUBLISHED / "table2_apt.csv"


def test_every_row_of_table2_has_a_preset():
    with open(TABLE) as fh:
        rows = list(csv.DictReader(fh))
    covered = {(str(r["cycles"]), r["region"]) for r in PRESET_ROWS.values()}
    assert {(r["cycles"], r["region"]) for r in rows} <= covered
    assert {"ncm-pristine", "ncm-formation", "ncm-300cycles-surface", "ncm-300cycles-30nm",
            "ncm-homogeneous", "ncm-li-lines"} <= set(PRESETS)
    for name, row in PRESET_ROWS.items():
        params = PRESETS[name]
        # the preset's profile at its specimen top reproduces the published Li ratio where
        # the paper gives a depth
        if row["depth_nm"] is not None:
            assert params.profile.ratio_at("Li", params.specimen_depth_nm) == pytest.approx(
                row["li"])


def test_surface_preset_is_li_depleted_at_its_top(rng):
    params = get_preset("ncm-300cycles-surface", n_ions=30_000)
    _, truth = generate_specimen(params, rng=rng)
    counts = truth.element_counts()
    li = counts["Li"] / (counts["Ni"] + counts["Co"] + counts["Mn"])
    assert li == pytest.approx(0.03, abs=0.01)


def test_get_preset_overrides_and_errors():
    assert get_preset("ncm-pristine", n_ions=10).n_ions == 10
    assert get_preset("ncm-pristine") is PRESETS["ncm-pristine"]
    with pytest.raises(ParameterError, match="did you mean 'ncm-pristine'"):
        get_preset("ncm-pristin")
    with pytest.raises(ParameterError, match="no field"):
        get_preset("ncm-pristine", apex_radius=3)


def test_li_lines_preset_gives_li_mu_above_one_half():
    params = get_preset("ncm-li-lines", n_ions=600_000)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(3))
    result = frequency_distribution(ions, ncm_ranges(params), block_ions=100,
                                    elements=["Li", "Ni"])
    assert result.species["Li"].mu >= 0.5
    # the homogeneous preset stays near random
    homogeneous = get_preset("ncm-homogeneous", n_ions=600_000)
    ions_h, _ = generate_specimen(homogeneous, rng=np.random.default_rng(3))
    result_h = frequency_distribution(ions_h, ncm_ranges(homogeneous), block_ions=100,
                                      elements=["Li"])
    assert result_h.species["Li"].mu < 0.1

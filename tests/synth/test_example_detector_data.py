"""Which example-study specimens carry detector data (EPOS) for the report's detector view."""

from __future__ import annotations

import json

import numpy as np

from liprobe.io import read_ions
from liprobe.synth.example_study import PAPER_EPOS_SPECIMEN, example_study

FIELDS = ("detector_x_mm", "detector_y_mm", "dc_voltage_kv", "ions_per_pulse")


def test_paper_scale_writes_one_epos_specimen_with_detector_fields(tmp_path):
    study = example_study(tmp_path / "s", scale="paper", rng=1, n_ions=300, replicates=1,
                          haadf=False)
    specimens = json.loads(study.truth_path.read_text())["specimens"]
    epos = [s for s in specimens if s["apt"].endswith(".epos")]
    assert [(s["sample"], s["depth_label"], s["replicate"]) for s in epos] == \
        [PAPER_EPOS_SPECIMEN]
    assert all(s["apt"].endswith(".pos") for s in specimens if s not in epos)
    ions = read_ions(study.root / epos[0]["apt"])
    assert all(k in ions.fields for k in FIELDS)
    # the evaporating tip blunts: the voltage rises along the ion sequence
    v = ions.fields["dc_voltage_kv"]
    assert v[-30:].mean() > v[:30].mean()
    assert not read_ions(study.root / specimens[0]["apt"]).fields  # POS: positions, m/q


def test_demo_scale_specimens_all_carry_detector_fields(tmp_path):
    study = example_study(tmp_path / "d", rng=1, n_ions=300, replicates=1, haadf=False)
    specimens = json.loads(study.truth_path.read_text())["specimens"]
    assert all(s["apt"].endswith(".epos") for s in specimens)
    ions = read_ions(study.root / specimens[0]["apt"])
    assert all(k in ions.fields for k in FIELDS)
    assert np.any(ions.fields["ions_per_pulse"] >= 2)

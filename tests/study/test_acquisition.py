"""Run conditions per specimen: read from the file (NeXus), set or overridden in the
manifest's ``acquisition`` table, reported in the specimen result and summary.json."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.data import IonTable
from liprobe.errors import ManifestError
from liprobe.io import read_ions
from liprobe.io.nexus import write_nexus
from liprobe.workflow.manifest_file import read_manifest
from liprobe.workflow.pipeline import analyze_specimen
from tests.study.tiny_study import write_tiny_study


def _study_with_nexus(tmp_path, acquisition_line: str):
    path = write_tiny_study(tmp_path, np.random.default_rng(11))
    first = read_manifest(path).specimens[0]
    ions = read_ions(first.apt)
    nexus = first.apt.with_suffix(".nxs")
    write_nexus(nexus, IonTable(ions.xyz_nm, ions.mass_to_charge_da, ions.fields,
                                {"laser_pulse_energy_pj": 40.0, "base_temperature_k": 60.0,
                                 "instrument": "LEAP 4000X HR"}))
    text = path.read_text()
    old = f'apt = "apt/{first.apt.name}"'
    assert old in text
    path.write_text(text.replace(old, f'apt = "apt/{nexus.name}"\n{acquisition_line}', 1))
    return read_manifest(path)


def test_manifest_overrides_and_completes_what_the_file_states(tmp_path):
    manifest = _study_with_nexus(
        tmp_path, "acquisition = { base_temperature_k = 50, pulse_frequency_khz = 250 }")
    spec = manifest.specimens[0]
    assert spec.acquisition == (("base_temperature_k", 50.0), ("pulse_frequency_khz", 250.0))
    result = analyze_specimen(spec, manifest.settings)
    assert result.acquisition == {"instrument": "LEAP 4000X HR",
                                  "laser_pulse_energy_pj": 40.0,  # from the file
                                  "base_temperature_k": 50.0,     # manifest wins
                                  "pulse_frequency_khz": 250.0}
    assert analyze_specimen(manifest.specimens[1], manifest.settings).acquisition == {}


@pytest.mark.parametrize(("line", "message"), [
    ("acquisition = { base_temperatur_k = 50 }", "did you mean 'base_temperature_k'"),
    ("acquisition = { laser_pulse_energy_pj = -3 }", "must be a positive number \\(pJ\\)"),
    ("acquisition = { instrument = 5 }", "'instrument' must be a non-empty text"),
    ("acquisition = 5", "must be a table"),
])
def test_bad_acquisition_tables_name_the_line(tmp_path, line, message):
    with pytest.raises(ManifestError, match=message) as info:
        _study_with_nexus(tmp_path, line)
    assert "line" in str(info.value) and "[[specimens]] #1" in str(info.value)


@pytest.mark.slow
def test_summary_reports_the_run_conditions_per_specimen(tmp_path):
    import json

    from liprobe.workflow.pipeline import run_study

    manifest = _study_with_nexus(tmp_path, "acquisition = { pulse_frequency_khz = 250 }")
    out = run_study(manifest, tmp_path / "out", progress=False)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    name = manifest.specimens[0].name
    assert summary["acquisition"] == {name: {"instrument": "LEAP 4000X HR",
                                             "laser_pulse_energy_pj": 40.0,
                                             "base_temperature_k": 60.0,
                                             "pulse_frequency_khz": 250.0}}
    assert out.summary["acquisition"] == summary["acquisition"]

"""write_specimen: the ion file, its range file and the truth; same seed, same bytes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liprobe.errors import ParameterError
from liprobe.io import read_ions, read_ranges
from liprobe.synth import SpecimenParams, generate_specimen, ncm_ranges, write_specimen


def _write(path, seed):
    params = SpecimenParams(n_ions=15_000)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(seed))
    return write_specimen(path, ions, ncm_ranges(params), truth), ions, truth


def test_epos_same_seed_same_bytes_different_seed_different(tmp_path):
    a, _, _ = _write(tmp_path / "a" / "s.epos", 1)
    b, _, _ = _write(tmp_path / "b" / "s.epos", 1)
    c, _, _ = _write(tmp_path / "c" / "s.epos", 2)
    assert a["ions"].read_bytes() == b["ions"].read_bytes()
    assert a["ranges"].read_bytes() == b["ranges"].read_bytes()
    assert a["truth_npz"].read_bytes() == b["truth_npz"].read_bytes()
    assert a["ions"].read_bytes() != c["ions"].read_bytes()


@pytest.mark.parametrize("suffix", [".epos", ".pos", ".apt"])
def test_round_trip_through_readers(tmp_path, suffix):
    written, ions, truth = _write(tmp_path / f"s{suffix}", 4)
    assert written["ranges"] == tmp_path / "s.rrng"
    back = read_ions(written["ions"])
    assert back.n_ions == ions.n_ions
    assert np.array_equal(back.mass_to_charge_da, ions.mass_to_charge_da)
    if suffix == ".epos":
        assert np.array_equal(back.fields["ions_per_pulse"], ions.fields["ions_per_pulse"])
    ranges = read_ranges(written["ranges"])
    assert ranges.ion_names == tuple(ion.name for ion in truth.ions)
    assert np.array_equal(truth.ion_index_in(ranges), truth.ion_index)
    assert np.allclose(ranges.low_da, ncm_ranges(truth.params).low_da)
    summary = json.loads(written["truth_json"].read_text())
    assert summary["n_ions"] == ions.n_ions
    assert summary["atom_counts"] == truth.composition.total_atom_counts()
    npz = np.load(written["truth_npz"])
    assert np.array_equal(npz["ion_index"], truth.ion_index)


def test_unknown_suffix(tmp_path):
    params = SpecimenParams(n_ions=100)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(0))
    with pytest.raises(ParameterError, match=".epos"):
        write_specimen(tmp_path / "s.txt", ions, ncm_ranges(params))

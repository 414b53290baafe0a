"""``liprobe spectrum --species``: the proposal uses the candidates given, and says which
strong peaks got no range. Truth: a synthetic Si+ spectrum drawn from silicon's natural
isotopes (28Si 92.2 %, 29Si 4.7 %, 30Si 3.1 %, ``periodictable``) on a flat background."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liprobe.cli import main
from liprobe.data import IonTable
from liprobe.io import write_ions
from liprobe.isotopes import element_isotopes


@pytest.fixture
def silicon_run(tmp_path, rng):
    isotopes = element_isotopes("Si")
    masses = np.array([m for m, _ in isotopes])
    abundance = np.array([p for _, p in isotopes])
    n = 200_000
    peak = rng.choice(masses, size=n, p=abundance / abundance.sum()) + rng.normal(0, 0.01, n)
    background = rng.uniform(1.0, 100.0, 4_000)
    mass = np.concatenate([peak, background]).astype(np.float32)
    xyz = rng.uniform(-10, 10, (mass.size, 3)).astype(np.float32)
    return write_ions(tmp_path / "si.pos", IonTable(xyz, mass))


def _spectrum(capsys, *argv):
    code = main(["spectrum", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


@pytest.mark.parametrize("species", ["Si,O", "all"])
def test_silicon_peaks_are_ranged_as_si_with_si_among_the_candidates(silicon_run, capsys,
                                                                     species):
    code, payload, err = _spectrum(capsys, str(silicon_run), "--species", species)
    assert code == 0, err
    ions = {r["ion"] for r in payload["proposed_ranges"]}
    assert "Ni" not in ions
    si = [r for r in payload["proposed_ranges"] if r["ion"] == "Si"]
    for mass in (27.977, 28.976, 29.974):  # the three isotopes, each in a Si range
        assert any(r["low_da"] <= mass < r["high_da"] for r in si), mass
    assert payload["unranged_strong_peaks"] == []
    assert "got no range" not in err


def test_ncm_candidates_do_not_force_silicon_onto_nickel(silicon_run, capsys):
    code, payload, err = _spectrum(capsys, str(silicon_run))
    if code == 0:  # whatever is proposed, 28Si stays unranged and is reported
        assert "Ni" not in {r["ion"] for r in payload["proposed_ranges"]}
        assert any(abs(p["position_da"] - 27.98) < 0.05 for p in payload["unranged_strong_peaks"])
        assert "strong peak(s) got no range" in err and "--species" in err
    else:
        assert code == 2 and "--species" in err and "27.9" in err


def test_unknown_species_token_is_a_one_line_error(silicon_run, capsys):
    code, _, err = _spectrum(capsys, str(silicon_run), "--species", "Si,Xx")
    assert code == 2 and "'Xx' is not an element" in err


def test_proposed_rrng_is_complete_for_ivas_without_float_noise(silicon_run, capsys,
                                                                tmp_path):
    out = tmp_path / "proposed.rrng"
    code, payload, err = _spectrum(capsys, str(silicon_run), "--species", "Si",
                                   "--propose", str(out))
    assert code == 0, err
    lines = [ln for ln in out.read_text().splitlines() if ln.startswith("Range")]
    assert len(lines) == len(payload["proposed_ranges"]) >= 3
    for line in lines:
        low, high = line.split("=", 1)[1].split()[:2]
        # bin edges are multiples of 0.01 Da: at most 2 decimals once the noise is gone
        assert len(low.partition(".")[2]) <= 2 and len(high.partition(".")[2]) <= 2, line
        assert " Vol:" in line and " Color:" in line and " Si:1" in line

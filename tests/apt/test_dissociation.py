"""Expected dissociation channels of ranged molecular ions (charge placement rules)."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.detector import PulsePairs
from liprobe.apt.dissociation import dissociation_channels, pairs_off_peaks
from liprobe.data import Ion, RangeTable
from liprobe.errors import ParameterError


def _ranges(items):
    ions = tuple(dict.fromkeys(Ion(name, atoms) for name, atoms, _ in items))
    names = [i.name for i in ions]
    low = np.array([c - 0.1 for _, _, c in items])
    return RangeTable(ions, low, low + 0.2, np.array([names.index(n) for n, _, _ in items]))


LI, O, NI = ("Li", (("Li", 1),)), ("O", (("O", 1),)), ("Ni", (("Ni", 1),))


def test_singly_charged_parent_keeps_its_charge_on_the_lower_ionisation_fragment():
    r = _ranges([(*LI, 7.016), (*O, 15.995), (*O, 7.997), ("LiO", (("Li", 1), ("O", 1)), 23.011),
                 ("O2", (("O", 2),), 31.990), (*NI, 57.935), ("NiO", (("Ni", 1), ("O", 1)), 73.930)])
    mass = np.concatenate([np.full(50, 23.0), np.full(30, 32.0), np.full(10, 73.93)])
    got = dissociation_channels(r, mass)
    assert [c.label for c in got] == ["LiO+ -> Li+ + O", "O2+ -> O+ + O", "NiO+ -> Ni+ + O"]
    lio = got[0]
    # Li 5.39 eV < O 13.62 eV (NIST): the charge stays on Li; masses of 7Li and 7Li 16O
    assert lio.first_mass_da == pytest.approx(7.016, abs=1e-3)
    assert lio.parent_mass_da == pytest.approx(7.016 + 15.995, abs=2e-3)
    assert (lio.parent_charge, lio.first_charge, lio.second_charge) == (1, 1, 0)
    assert [c.n_parent_ions for c in got] == [50, 30, 10]
    assert len(dissociation_channels(r, mass, max_parents=1)) == 1


def test_doubly_charged_parent_explodes_into_two_ranged_ions():
    nio2 = ("NiO2", (("Ni", 1), ("O", 2)))
    # NiO2 2+ at (57.935 + 2 x 15.995) / 2 = 44.96 Da; NiO+ and O+ ranged, Ni+ and O2+ not
    r = _ranges([(*nio2, 44.962), ("NiO", (("Ni", 1), ("O", 1)), 73.930), (*O, 15.995)])
    got = dissociation_channels(r, np.full(5, 44.96))
    assert [c.label for c in got] == ["NiO2 2+ -> NiO+ + O+"]
    assert got[0].parent_mass_da == pytest.approx(57.935 + 2 * 15.995, abs=5e-3)


def test_an_unranged_fragment_drops_its_channel_and_bad_options_raise():
    r = _ranges([("LiO", (("Li", 1), ("O", 1)), 23.011), (*O, 15.995)])  # Li+ not ranged
    assert dissociation_channels(r, np.full(5, 23.0)) == ()
    with pytest.raises(ParameterError):
        dissociation_channels(r, np.full(5, 23.0), max_parents=0)


def test_pairs_of_two_ranged_ions_are_left_out():
    r = _ranges([(*LI, 7.016), (*O, 15.995)])
    low = np.array([7.0, 7.0, 9.0], np.float32)
    high = np.array([16.0, 40.0, 16.0], np.float32)
    kept = pairs_off_peaks(PulsePairs(np.arange(3), np.arange(3) + 1, low, high, None), r)
    assert kept.first.tolist() == [1, 2]

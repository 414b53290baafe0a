"""1-D profiles: truth from the synthetic generator's depth profile and hand-made clouds."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.profiles import concentration_profile
from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.synth import DepthProfile, generate_specimen, get_preset, ncm_ranges

LI_NI = RangeTable((Ion("Li", (("Li", 1),)), Ion("NiO", (("Ni", 1), ("O", 1)))),
                   [6.5, 74.5], [7.5, 75.5], [0, 1])


def _line_cloud(rng, z, li_prob):
    n = z.size
    xyz = np.column_stack([rng.uniform(-5, 5, n), rng.uniform(-5, 5, n), z]).astype(np.float32)
    mass = np.where(rng.random(n) < li_prob, 7.0, 75.0).astype(np.float32)
    return IonTable(xyz, mass)


def _within(measured, sigma, truth):
    z = np.abs(measured - truth) / sigma
    # 2σ per bin: allow the ~5 % of bins a correct estimator puts beyond 2σ, none beyond 4σ
    assert np.mean(z <= 2.0) >= 0.85, z
    assert np.all(z < 4.0), z


@pytest.mark.parametrize("kind", ["step", "gradient"])
def test_synthetic_li_profile_recovered_within_2_sigma(kind):
    if kind == "step":
        profile = DepthProfile(depth_nm=(0.0, 9.99, 10.0, 1000.0), li=(0.5, 0.5, 1.0, 1.0))
    else:
        profile = DepthProfile(depth_nm=(0.0, 30.0), li=(0.4, 1.2))
    params = get_preset("ncm-homogeneous", apex_radius_nm=12.0, shank_angle_deg=3.0,
                        profile=profile, n_ions=400_000)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(11))
    ranges = ncm_ranges(params)
    prof = concentration_profile(ions, ranges, bin_nm=2.0)
    li = prof.elements.index("Li")
    centres = prof.center_nm
    full = prof.n_atoms > 2000  # drop the sparse last bin
    if kind == "step":
        full &= np.abs(centres - 10.0) > 1.5  # bins touching the step see the 0.2 nm blur
    expected = np.array([params.profile.mean_ratios(a, b)["Li"]
                         for a, b in zip(prof.start_nm, prof.end_nm)])
    _within(prof.ratios[full, li], prof.ratio_sigmas[full, li], expected[full])
    assert full.sum() >= 5
    if kind == "step":
        assert prof.ratios[centres < 8, li].mean() < 0.6
        assert prof.ratios[(centres > 12) & full, li].mean() > 0.9


def test_fixed_width_bins_count_atoms_of_molecular_ions(rng):
    z = rng.uniform(0, 10, 20_000)
    ions = _line_cloud(rng, np.sort(z), 0.3)
    prof = concentration_profile(ions, LI_NI, bin_nm=2.5)
    assert prof.n_bins == 4  # span just below 10 nm: [0, 2.5) ... [7.5, 10)
    # every NiO ion adds one Ni and one O atom
    li, ni, o = (prof.elements.index(e) for e in ("Li", "Ni", "O"))
    np.testing.assert_array_equal(prof.atom_counts[:, ni], prof.atom_counts[:, o])
    assert prof.atom_counts.sum() == 20_000 + np.count_nonzero(ions.mass_to_charge_da == 75)
    # Li / metal: p / (1 - p) = 0.4286 expected for p = 0.3
    _within(prof.ratios[:, li], prof.ratio_sigmas[:, li], 0.3 / 0.7)
    # σ of the Li atom fraction from the ions (Danoix et al. with a 2-atom NiO ion): Li
    # ions add (1 - f), NiO ions (0 - 2 f) and Ni ions (0 - f) to the fraction's gradient
    f = prof.fractions[:, li]
    n_nio = prof.atom_counts[:, o]
    n_li = prof.atom_counts[:, li]
    n_ni = prof.atom_counts[:, ni] - n_nio
    var = (n_li * (1 - f) ** 2 + n_ni * f**2 + n_nio * (2 * f) ** 2) / prof.n_atoms**2
    np.testing.assert_allclose(prof.sigmas[:, li], np.sqrt(var), rtol=1e-12)
    assert np.all(prof.sigmas[:, li] > np.sqrt(f * (1 - f) / prof.n_atoms))


def test_fixed_ion_count_bins_hold_equal_counts(rng):
    z = np.sort(rng.exponential(5.0, 50_000))  # uneven density along z
    ions = _line_cloud(rng, z, 0.25)
    prof = concentration_profile(ions, LI_NI, bin_ions=5_000)
    assert prof.n_bins == 10
    # edges quantised to span/65536: counts within 1 % of the target
    assert np.all(np.abs(prof.ion_counts - 5_000) <= 50), prof.ion_counts
    assert prof.ion_counts.sum() == 50_000


def test_distance_from_first_ion_when_z_decreases_with_depth(rng):
    z = -np.sort(rng.uniform(0, 20, 10_000))  # reconstruction with z pointing up
    li_prob = np.where(z > -10, 0.1, 0.6)  # Li-rich deeper than 10 nm
    n = z.size
    xyz = np.column_stack([np.zeros(n), np.zeros(n), z]).astype(np.float32)
    mass = np.where(rng.random(n) < li_prob, 7.0, 75.0).astype(np.float32)
    prof = concentration_profile(IonTable(xyz, mass), LI_NI, bin_nm=5.0)
    li = prof.elements.index("Li")
    assert prof.start_nm[0] == 0.0
    assert prof.fractions[0, li] < 0.2 < 0.4 < prof.fractions[-1, li]


def test_profile_json_and_frame_shape(rng):
    ions = _line_cloud(rng, np.sort(rng.uniform(0, 4, 1000)), 0.5)
    prof = concentration_profile(ions, LI_NI, bin_nm=2.0)
    payload = prof.to_dict()
    assert [b["n_atoms"] for b in payload["bins"]] == prof.n_atoms.tolist()
    first = payload["bins"][0]
    assert set(first) >= {"start_nm", "end_nm", "n_atoms", "fractions", "sigmas"}
    assert first["fractions"]["Li"] == pytest.approx(prof.fractions[0, 0])
    frame = prof.to_frame()
    assert frame.shape[0] == prof.n_bins
    assert frame["Li"].to_numpy() == pytest.approx(prof.fractions[:, 0])


def test_profile_along_a_vector_axis(rng):
    n = 10_000
    x = rng.uniform(0, 10, n)
    xyz = np.column_stack([x, rng.uniform(0, 1, n), rng.uniform(0, 1, n)]).astype(np.float32)
    mass = np.where(rng.random(n) < np.where(x < 5, 0.2, 0.7), 7.0, 75.0).astype(np.float32)
    prof = concentration_profile(IonTable(xyz, mass), LI_NI, axis=(1, 0, 0), bin_nm=5.0)
    li = prof.elements.index("Li")
    p = np.array([0.2, 0.7])  # Li atom fraction: each NiO ion brings two atoms
    _within(prof.fractions[:, li], prof.sigmas[:, li], p / (p + 2 * (1 - p)))


def test_bad_options_raise_parameter_error(rng):
    ions = _line_cloud(rng, np.sort(rng.uniform(0, 4, 100)), 0.5)
    with pytest.raises(ParameterError, match="not both"):
        concentration_profile(ions, LI_NI, bin_nm=1.0, bin_ions=10)
    with pytest.raises(ParameterError, match="bin_nm"):
        concentration_profile(ions, LI_NI, bin_nm=-1.0)
    with pytest.raises(ParameterError, match="axis"):
        concentration_profile(ions, LI_NI, axis="w")
    with pytest.raises(ParameterError, match="normalize_to"):
        concentration_profile(ions, LI_NI, normalize_to="Co")


def test_profile_and_composition_share_the_default_denominator():
    """Ni+Co+Mn where ranged, also with another transition metal (Zr) ranged: counted by
    hand, Li/(Ni+Co+Mn) = 30 / (20 + 6 + 4) = 1 in both, not 30 / 40 with Zr."""
    from liprobe.apt.composition import compose

    names = ["Li", "Ni", "Co", "Mn", "Zr"]
    peaks = [7.0, 29.0, 29.5, 27.5, 45.0]
    counts = [30, 20, 6, 4, 10]
    mass = np.repeat(np.float32(peaks), counts)
    xyz = np.zeros((mass.size, 3), np.float32)
    xyz[:, 2] = np.linspace(0.0, 0.5, mass.size)  # one 1-nm bin
    ions = IonTable(xyz, mass)
    ranges = RangeTable(tuple(Ion(n, ((n, 1),)) for n in names),
                        [p - 0.2 for p in peaks], [p + 0.2 for p in peaks], range(5))
    composition = compose(ions, ranges)
    profile = concentration_profile(ions, ranges, bin_nm=1.0)
    assert profile.denominator == ("Ni", "Co", "Mn")
    assert composition.ratio("Li") == 1.0
    assert profile.ratios[0, profile.elements.index("Li")] == 1.0
    assert composition.to_dict()["normalized_to"] == ["Ni", "Co", "Mn"]

"""Every writable format round-trips bit-exact (Hypothesis), incl. 0 ions and float32
extremes: subnormals, max, -0.0, infinities and NaNs with any payload (all 2**32 bit
patterns are drawn, so signalling NaNs too)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.io import FORMATS, read_ions, read_ranges, write_ions, write_ranges
from liprobe.io.epos import EPOS_FIELDS

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

SPECIAL_BITS = [0x00000000, 0x80000000, 0x00000001, 0x007FFFFF, 0x7F7FFFFF, 0xFF7FFFFF,
                0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFFFFFFF, 0x3F800000]
_bits32 = st.one_of(st.sampled_from(SPECIAL_BITS), st.integers(0, 2**32 - 1))


def _f32(shape) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.uint32, shape, elements=_bits32).map(lambda a: a.view(np.float32))


def bits(array: np.ndarray) -> np.ndarray:
    """Raw bit patterns as plain integers (byte order taken into account)."""
    array = np.asarray(array)
    if array.dtype.kind == "f":
        return array.view(array.dtype.str.replace("f", "u")).astype(np.uint64)
    return array.astype(np.int64)


@st.composite
def ion_tables(draw, *, epos_fields: bool, extra_fields: bool = False) -> IonTable:
    n = draw(st.integers(0, 12))
    fields = {}
    if epos_fields:
        for name in EPOS_FIELDS[:5]:
            fields[name] = draw(_f32(n))
        for name in EPOS_FIELDS[5:]:
            fields[name] = draw(hnp.arrays(np.int32, n))
    if extra_fields:
        fields["charge_state"] = draw(hnp.arrays(np.uint8, n))
        fields["weight_f64"] = draw(hnp.arrays(np.uint64, n)).view(np.float64)
        fields["pair_i16"] = draw(hnp.arrays(np.int16, (n, 2)))
    return IonTable(draw(_f32((n, 3))), draw(_f32(n)), fields)


def assert_ions_identical(back: IonTable, ions: IonTable, field_names) -> None:
    assert back.n_ions == ions.n_ions
    np.testing.assert_array_equal(bits(back.xyz_nm), bits(ions.xyz_nm))
    np.testing.assert_array_equal(bits(back.mass_to_charge_da), bits(ions.mass_to_charge_da))
    for name in field_names:
        assert back.fields[name].shape == ions.fields[name].shape
        np.testing.assert_array_equal(bits(back.fields[name]), bits(ions.fields[name]))


@SETTINGS
@given(ions=ion_tables(epos_fields=False))
def test_pos_round_trip_bit_exact(tmp_path, ions):
    path = write_ions(tmp_path / "x.pos", ions)
    assert_ions_identical(read_ions(path), ions, ())


@SETTINGS
@given(ions=ion_tables(epos_fields=True))
def test_epos_round_trip_bit_exact(tmp_path, ions):
    path = write_ions(tmp_path / "x.epos", ions)
    back = read_ions(path)
    assert set(back.fields) == set(EPOS_FIELDS)
    assert_ions_identical(back, ions, EPOS_FIELDS)


@SETTINGS
@given(ions=ion_tables(epos_fields=True, extra_fields=True))
def test_apt_round_trip_bit_exact(tmp_path, ions):
    path = write_ions(tmp_path / "x.apt", ions)
    back = read_ions(path)
    assert list(back.fields) == list(ions.fields)
    for name in ions.fields:
        assert back.fields[name].dtype.newbyteorder("=") == ions.fields[name].dtype
    assert_ions_identical(back, ions, ions.fields)


ELEMENTS = ["H", "Li", "O", "Ni", "Co", "Mn", "C"]


@st.composite
def range_tables(draw) -> RangeTable:
    compositions = draw(st.lists(
        st.lists(st.tuples(st.sampled_from(ELEMENTS), st.integers(1, 4)), min_size=0,
                 max_size=3, unique_by=lambda p: p[0]),
        min_size=0, max_size=5, unique_by=lambda c: tuple(sorted(c))))
    colour = st.one_of(st.none(), st.integers(0, 0xFFFFFF).map(lambda v: f"#{v:06x}"))
    finite = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=True)
    ranges = []
    for index in range(len(compositions)):
        for _ in range(draw(st.integers(1, 3))):
            low = draw(finite)
            high = low + draw(st.floats(1e-9, 1e3))
            if not high > low:
                high = np.nextafter(low, np.inf)
            volume = draw(st.one_of(st.just(np.nan), st.floats(0, 1, allow_subnormal=True)))
            if (low, high, index) not in {r[:3] for r in ranges}:  # exact duplicates are
                ranges.append((low, high, index, volume, draw(colour)))  # dropped by design
    order = draw(st.permutations(range(len(ranges))))
    ranges = [ranges[i] for i in order]
    # ions in order of first appearance, named canonically, coloured like their first range
    first: dict[int, int] = {}
    for k, rng in enumerate(ranges):
        first.setdefault(rng[2], k)
    ions, remap = [], {}
    for old, k in sorted(first.items(), key=lambda item: item[1]):
        atoms = tuple(compositions[old])
        name = "".join(f"{s}{c if c > 1 else ''}" for s, c in atoms) or f"peak{old}"
        remap[old] = len(ions)
        ions.append(Ion(name, atoms, ranges[k][4]))
    return RangeTable(
        tuple(ions), np.array([r[0] for r in ranges], float),
        np.array([r[1] for r in ranges], float), np.array([remap[r[2]] for r in ranges], int),
        np.array([r[3] for r in ranges], float), tuple(r[4] for r in ranges))


def assert_ranges_identical(back: RangeTable, table: RangeTable) -> None:
    assert back.ions == table.ions
    for name in ("low_da", "high_da", "volume_nm3"):
        np.testing.assert_array_equal(getattr(back, name).view(np.uint64),
                                      getattr(table, name).view(np.uint64))
    np.testing.assert_array_equal(back.ion_index, table.ion_index)
    assert back.colors == table.colors


@SETTINGS
@given(table=range_tables())
def test_rrng_round_trip_bit_exact(tmp_path, table):
    path = write_ranges(tmp_path / "x.rrng", table)
    assert_ranges_identical(read_ranges(path), table)


def _full_table(n: int) -> IonTable:
    rng = np.random.default_rng(2021)
    fields = {name: rng.normal(size=n).astype(np.float32) for name in EPOS_FIELDS[:5]}
    fields["pulses_since_last"] = rng.integers(0, 50, n, dtype=np.int32)
    fields["ions_per_pulse"] = rng.integers(0, 3, n, dtype=np.int32)
    xyz = rng.normal(scale=20.0, size=(n, 3)).astype(np.float32)
    return IonTable(xyz, rng.uniform(1, 120, n).astype(np.float32), fields)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.writable and f.kind in ("ions", "ranges")],
                         ids=lambda f: f.name)
def test_every_writable_registry_format_round_trips(tmp_path, fmt):
    path = tmp_path / f"x{fmt.suffixes[0]}"
    if fmt.kind == "ions":
        ions = _full_table(257)
        back = read_ions(write_ions(path, ions))
        kept = [] if fmt.name == "pos" else list(EPOS_FIELDS)
        assert_ions_identical(back, ions, kept)
    else:
        table = RangeTable((Ion("Li", (("Li", 1),), "#aa0000"), Ion("NiO2", (("Ni", 1), ("O", 2)))),
                           np.array([6.9, 44.7]), np.array([7.1, 46.3]), np.array([0, 1]),
                           np.array([0.02, np.nan]), ("#aa0000", None))
        assert_ranges_identical(read_ranges(write_ranges(path, table)), table)


def test_same_data_as_pos_epos_apt_read_back_identical(tmp_path):
    ions = _full_table(1000)
    tables = {suffix: read_ions(write_ions(tmp_path / f"same.{suffix}", ions))
              for suffix in ("pos", "epos", "apt")}
    for table in tables.values():
        np.testing.assert_array_equal(np.asarray(table.xyz_nm, np.float32), ions.xyz_nm)
        np.testing.assert_array_equal(np.asarray(table.mass_to_charge_da, np.float32),
                                      ions.mass_to_charge_da)
    for name in EPOS_FIELDS:
        np.testing.assert_array_equal(tables["epos"].fields[name], tables["apt"].fields[name])
        np.testing.assert_array_equal(tables["apt"].fields[name], ions.fields[name])

"""Truncated, bit-flipped and garbage inputs to every reader raise FormatError only.

Seeds are valid files; Hypothesis mutates them (bounded examples, derandomized). A mutated
file may still be valid, in which case the reader must simply return (and the data must
be readable); anything else than FormatError (struct.error, UnicodeDecodeError,
IndexError, numpy errors ...) fails the test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import FormatError, LiprobeWarning
from liprobe.io.apt import read_apt, write_apt
from liprobe.io.ato import read_ato
from liprobe.io.env import read_env
from liprobe.io.epos import EPOS_FIELDS, read_epos, write_epos
from liprobe.io.nexus import read_nexus, write_nexus
from liprobe.io.pos import read_pos, write_pos
from liprobe.io.rng import read_rng
from liprobe.io.rrng import read_rrng, write_rrng

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

RNG_TEXT = b"""3 4
Nickel
Ni 0.0 0.8 0.0
Oxygen
O 0.0 0.8 1.0
NiO
NiO 1.0 0.0 0.0 (NiO)
------------------- Ni O NiO
. 28.80 29.40 1 0 0
. 15.90 16.10 0 1 0
. 36.90 38.10 1 1 0
. 74.0 75.0 0 0 1
--- polyatomic extension
1 1
NiO
NiO 1.0 0.0 0.0
---- NiO
. 74.0 75.0 1
"""

ENV_TEXT = b"""# comment
Rev_2.0
2 3
O 0.0 1.0 0.0
Mn_2+ 0.0 0.5 1.0
O 15.880 16.840 20.000 1.000
Mn 27.330 27.950 11.660 1.000
Mn 54.8 55.2 11.660 1.000
# Atom probe definition
"""


def _ions() -> IonTable:
    rng = np.random.default_rng(99)
    n = 6
    fields = {name: rng.normal(size=n).astype(np.float32) for name in EPOS_FIELDS[:5]}
    fields |= {name: rng.integers(0, 4, n, dtype=np.int32) for name in EPOS_FIELDS[5:]}
    return IonTable(rng.normal(size=(n, 3)).astype(np.float32),
                    rng.uniform(1, 60, n).astype(np.float32), fields)


def _seed(tmp_path_factory, name: str) -> bytes:
    path = tmp_path_factory.mktemp("seed") / name
    ions = _ions()
    if name.endswith(".pos"):
        write_pos(path, ions)
    elif name.endswith(".epos"):
        write_epos(path, ions)
    elif name.endswith(".apt"):
        write_apt(path, ions)
    elif name.endswith(".rrng"):
        write_rrng(path, RangeTable((Ion("Li", (("Li", 1),)), Ion("NiO2", (("Ni", 1), ("O", 2)))),
                                    np.array([6.9, 44.7]), np.array([7.1, 46.3]),
                                    np.array([0, 1]), np.array([0.02, 0.07]),
                                    ("#ff0000", None)))
    elif name.endswith(".nxs"):
        write_nexus(path, ions)
    elif name.endswith(".ato"):  # v3: 8-byte header, 14 little-endian float32 per ion
        records = np.zeros((ions.n_ions, 14), "<f4")
        records[:, :3], records[:, 3] = ions.xyz_nm, ions.mass_to_charge_da
        path.write_bytes(np.array([0, 3], "<u4").tobytes() + records.tobytes())
    elif name.endswith(".rng"):
        path.write_bytes(RNG_TEXT)
    else:
        path.write_bytes(ENV_TEXT)
    return path.read_bytes()


READERS = {".pos": read_pos, ".epos": read_epos, ".apt": read_apt, ".ato": read_ato,
           ".nxs": read_nexus,
           ".rrng": read_rrng,
           ".rng": read_rng, ".env": read_env}


@pytest.fixture(scope="module", params=sorted(READERS))
def case(request, tmp_path_factory):
    suffix = request.param
    return suffix, READERS[suffix], _seed(tmp_path_factory, "seed" + suffix)


def _only_format_errors(reader, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LiprobeWarning)
        try:
            result = reader(path)
        except FormatError:
            return
    if isinstance(result, IonTable):  # touch every byte of a mapped result
        for column in (result.xyz_nm, result.mass_to_charge_da, *result.fields.values()):
            assert len(np.ascontiguousarray(column).tobytes()) == column.nbytes


def test_seeds_are_valid(case, tmp_path):
    suffix, reader, seed = case
    path = tmp_path / f"seed{suffix}"
    path.write_bytes(seed)
    reader(path)


@SETTINGS
@given(data=st.data())
def test_truncated(case, tmp_path, data):
    suffix, reader, seed = case
    cut = data.draw(st.integers(0, len(seed) - 1))
    path = tmp_path / f"t{suffix}"
    path.write_bytes(seed[:cut])
    _only_format_errors(reader, path)


@SETTINGS
@given(data=st.data())
def test_bit_flipped(case, tmp_path, data):
    suffix, reader, seed = case
    blob = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        bit = data.draw(st.integers(0, 8 * len(blob) - 1))
        blob[bit // 8] ^= 1 << (bit % 8)
    path = tmp_path / f"f{suffix}"
    path.write_bytes(bytes(blob))
    _only_format_errors(reader, path)


@SETTINGS
@given(data=st.data())
def test_garbage_spliced(case, tmp_path, data):
    suffix, reader, seed = case
    start = data.draw(st.integers(0, len(seed)))
    garbage = data.draw(st.binary(min_size=1, max_size=64))
    stop = data.draw(st.integers(start, min(len(seed), start + 64)))
    path = tmp_path / f"g{suffix}"
    path.write_bytes(seed[:start] + garbage + seed[stop:])
    _only_format_errors(reader, path)


@SETTINGS
@given(blob=st.binary(min_size=0, max_size=2048))
def test_pure_garbage(case, tmp_path, blob):
    suffix, reader, _ = case
    path = tmp_path / f"p{suffix}"
    path.write_bytes(blob)
    _only_format_errors(reader, path)


@SETTINGS
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_garbage_text(case, tmp_path, text):
    suffix, reader, seed = case
    path = tmp_path / f"x{suffix}"
    path.write_bytes(seed[: len(seed) // 2] + text.encode("utf-8"))
    _only_format_errors(reader, path)


def _apt_header_spans(seed: bytes) -> list[tuple[int, int]]:
    """Byte spans of the file header and of every section header of a liprobe APT seed."""
    spans, offset = [(0, 540)], 540
    while offset < len(seed):
        size = int(np.frombuffer(seed, "<i4", 1, offset + 4)[0])
        spans.append((offset, offset + size))
        offset += size + int(np.frombuffer(seed, "<i8", 1, offset + 140)[0])
    return spans


@SETTINGS
@given(data=st.data())
def test_apt_header_bits_flipped(tmp_path_factory, data):
    seed = _seed(tmp_path_factory, "hdr.apt")
    spans = _apt_header_spans(seed)
    blob = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 3))):
        start, stop = data.draw(st.sampled_from(spans))
        bit = data.draw(st.integers(8 * start, 8 * stop - 1))
        blob[bit // 8] ^= 1 << (bit % 8)
    path = tmp_path_factory.mktemp("flip") / "h.apt"
    path.write_bytes(bytes(blob))
    _only_format_errors(read_apt, path)

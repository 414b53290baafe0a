"""Every real range file of the corpus (``real-corpus/ranges``, ``apt-rangefiles/real``)
through liprobe's readers, one report row each.

Truth: the corpus READMEs (ErMnO.env: 12 species, 26 ranges; VAlN: 1,440 range lines, 48
distinct; calcite: Ca2CO3 and unnamed peaks; Sydney: column-title dialect, ``Mo:1C:1``) and,
for every file, its own range lines: each ``Range...=`` line (RRNG) or table row (RNG/ENV)
is read, exact duplicates once.
"""

from __future__ import annotations

import pytest

from liprobe.io import read_ranges
from tests.conftest import SHARED

ROOTS = (SHARED / "data" / "real-corpus" / "ranges", SHARED / "data" / "apt-rangefiles" / "real")
SUFFIXES = (".rrng", ".rng", ".env")
#: (ions, ranges) the READMEs state.
STATED = {"ErMnO.env": (12, 26), "VAlN_film_plan-view_700C.rrng": (None, 48)}


def _files():
    found = []
    for root in ROOTS:
        if root.is_dir():
            found += sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES)
    return found


def _ranges_in_text(path) -> tuple[int, str]:
    """The number of ranges the file's own text gives, read without liprobe."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if path.suffix.lower() == ".rrng":
        distinct = {" ".join(ln.split("=", 1)[1].split()) for ln in lines
                    if ln.strip().lower().startswith("range") and "=" in ln}
        return len(distinct), "distinct Range lines in the file"
    counts = [ln.split() for ln in lines
              if ln.strip() and not ln.strip().startswith(("#", "Rev"))][0]
    return int(counts[1]), "ranges declared in the file's count line"


@pytest.mark.parametrize("path", _files() or [None],
                         ids=lambda p: "absent" if p is None else p.name)
def test_real_range_file_reads(path, corpus_row):
    if path is None:
        pytest.skip(f"no real range files beside the checkout ({ROOTS[0]}); corpus tests run "
                    "where ../shared exists")
    name = str(path.relative_to(SHARED / "data"))
    if len(path.name) > 60:  # ifes names carry a SHA-256
        name = name.replace(path.name, path.name.split(".")[0] + ".…" + path.suffix)
    table = read_ranges(path)
    counts = (table.n_ions, table.n_ranges)
    in_text, where = _ranges_in_text(path)
    stated = STATED.get(path.name)
    ok = table.n_ranges == in_text and bool((table.high_da > table.low_da).all())
    truth = f"{in_text} {where}"
    if stated is not None:
        ok = ok and all(s is None or s == c for s, c in zip(stated, counts))
        truth += f"; README: {stated[0] or 'n/a'} ions, {stated[1]} ranges"
    corpus_row(name, f"{table.n_ions} ions, {table.n_ranges} ranges", "range count", truth, ok)
    assert ok

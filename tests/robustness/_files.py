"""Small hostile and valid inputs for the robustness suite (all written under tmp_path).

A *mini study* has two samples (0 and 300 cycles), three depths and two replicates at the
first depth: enough for every step of ``liprobe study run`` to run in a few seconds. Every
specimen holds exactly known counts (tests/study/tiny_study.py), so Li/M = li / 1000.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from tests.study.tiny_study import ranges, specimen

#: (sample, cycles, depth, Li counts of the replicates)
MINI_DESIGN = (
    ("P", 0, "bulk", (1030,)),
    ("C", 300, "surface", (20, 40)),
    ("C", 300, "700 nm", (760,)),
)


def write_mini_study(folder: Path, *, rng: np.random.Generator | None = None,
                     settings: str = "", ranges_table=None, extra: str = "") -> Path:
    """Write the mini study into ``folder``; return the manifest path."""
    from liprobe.io import write_ions, write_ranges

    rng = np.random.default_rng(5) if rng is None else rng
    (folder / "apt").mkdir(parents=True, exist_ok=True)
    write_ranges(folder / "ncm.rrng", ranges() if ranges_table is None else ranges_table)
    defaults = ['gradient_models = ["exponential"]', 'profile_bin_nm = 10.0',
                'fda_block_ions = 100', 'overlap_correction = "none"']
    given = {line.split("=")[0].strip() for line in settings.splitlines() if "=" in line}
    lines = ['[study]', 'name = "mini"', '', '[settings]',
             *[d for d in defaults if d.split("=")[0].strip() not in given], settings, '']
    for sample, cycles in (("P", 0), ("C", 300)):
        lines += ['[[samples]]', f'name = "{sample}"', f'cycles = {cycles}', '']
    for k, (sample, _, depth, li_counts) in enumerate(MINI_DESIGN):
        for rep, li in enumerate(li_counts, start=1):
            name = f"s{k}_r{rep}.pos"
            write_ions(folder / "apt" / name, specimen(li, rng))
            lines += ['[[specimens]]', f'sample = "{sample}"', f'depth = "{depth}"',
                      f'replicate = {rep}', f'apt = "apt/{name}"', 'ranges = "ncm.rrng"', '']
    (folder / "icp.csv").write_text("sample,cycles,li_wt_pct,ni_wt_pct,co_wt_pct,mn_wt_pct\n"
                                    "P,0,6.77,44.31,8.24,2.46\nC,300,5.44,44.58,8.29,2.48\n")
    lines += ['[icp]', 'file = "icp.csv"', '']
    path = folder / "study.toml"
    path.write_text("\n".join(lines) + extra)
    return path


def tree_hashes(*roots: Path) -> dict[str, str]:
    """SHA-256 of every regular file under ``roots`` (or of ``roots`` that are files)."""
    out = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            out[os.fspath(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def write_ion_file(path: Path, *, n: int = 2000, seed: int = 3) -> Path:
    """A small POS file of known NCM-like ions (Li, Ni, Co, Mn, O)."""
    from liprobe.io import write_ions

    write_ions(path, specimen(int(n * 0.1), np.random.default_rng(seed)))
    return path


RRNG_TEXT = ("[Ions]\nNumber=1\nIon1=Li\n[Ranges]\nNumber=1\n"
             "Range1=6.8000 7.2000 Vol:0.01000 Li:1 Color:FF0000\n")

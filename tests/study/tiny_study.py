"""A tiny study on disk with exactly known counts (test helper; files under tmp_path).

Every specimen holds Li, Ni, Co, Mn and O ions at single masses with fixed counts, so each
specimen's metal-normalised Li ratio is known exactly: ``li_count / 1000``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liprobe.data import Ion, IonTable, RangeTable

#: (sample, cycles, depth text, Li counts of the replicates)
DESIGN = (
    ("NCM-pristine", 0, "bulk", (1030, 1040)),
    ("NCM-100", 100, "< 100 nm", (560, 580)),
    ("NCM-100", 100, "300 nm", (750, 770)),
    ("NCM-100", 100, "2000 nm", (985, 995)),
    ("NCM-300", 300, "surface", (20, 40)),
    ("NCM-300", 300, "100 nm", (460, 480)),
    ("NCM-300", 300, "700 nm", (760, 780)),
    ("NCM-300", 300, "2500 nm", (1020, 1040)),
)
MASSES = {"Li": 7.0, "Ni": 58.0, "Co": 59.0, "Mn": 55.0, "O": 16.0}
METALS = {"Ni": 800, "Co": 150, "Mn": 50}


def ranges() -> RangeTable:
    ions = tuple(Ion(el, ((el, 1),)) for el in MASSES)
    centres = np.array(list(MASSES.values()))
    return RangeTable(ions, centres - 0.2, centres + 0.2, np.arange(len(ions)))


def specimen(li_count: int, rng: np.random.Generator) -> IonTable:
    counts = {"Li": li_count, **METALS, "O": 1900}
    mass = np.concatenate([np.full(n, MASSES[el], np.float32) for el, n in counts.items()])
    rng.shuffle(mass)
    n = mass.size
    xyz = np.column_stack([rng.uniform(-10, 10, n), rng.uniform(-10, 10, n),
                           np.sort(rng.uniform(0, 40, n))]).astype(np.float32)
    return IonTable(xyz, mass)


def write_tiny_study(folder: Path, rng: np.random.Generator, *, extra: str = "") -> Path:
    from liprobe.io import write_ions, write_ranges

    (folder / "apt").mkdir(parents=True, exist_ok=True)
    write_ranges(folder / "ncm.rrng", ranges())
    lines = ['[study]', 'name = "tiny"', '', '[settings]', 'gradient_models = ["exponential"]',
             'profile_bin_nm = 5.0', 'fda_block_ions = 50', '']
    for sample, cycles in (("NCM-pristine", 0), ("NCM-100", 100), ("NCM-300", 300)):
        lines += ['[[samples]]', f'name = "{sample}"', f'cycles = {cycles}', '']
    for k, (sample, _, depth, li_counts) in enumerate(DESIGN):
        for rep, li in enumerate(li_counts, start=1):
            name = f"s{k}_r{rep}.pos"
            write_ions(folder / "apt" / name, specimen(li, rng))
            lines += ['[[specimens]]', f'sample = "{sample}"', f'depth = "{depth}"',
                      f'replicate = {rep}', f'apt = "apt/{name}"', 'ranges = "ncm.rrng"', '']
    (folder / "icp.csv").write_text(
        "specimen,cycles,li_wt_pct,ni_wt_pct,co_wt_pct,mn_wt_pct\n"
        "NCM-pristine,0,6.77,44.31,8.24,2.46\nNCM-100,100,6.16,44.36,8.23,2.46\n"
        "NCM-300,300,5.44,44.58,8.29,2.48\n")
    cycle = np.arange(1, 301)
    capacity = 181.0 * (1 - 0.24 * (cycle - 1) / 299) * 0.01
    (folder / "cell.csv").write_text("Cycle,Qdis_mAh\n" + "".join(
        f"{c},{q:.6f}\n" for c, q in zip(cycle, capacity, strict=True)))
    lines += ['[icp]', 'file = "icp.csv"', '', '[[cycling]]', 'file = "cell.csv"',
              'format = "csv"', 'sample = "NCM-300"', 'active_mass_g = 0.01',
              'columns = { cycle = "Cycle", discharge_capacity_mah = "Qdis_mAh" }', '']
    path = folder / "study.toml"
    path.write_text("\n".join(lines) + extra)
    return path

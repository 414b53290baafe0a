"""Benchmark: a whole study of 70 specimens x 1 M ions (target: <= 2 min on 2 cores).

Writes a synthetic study (the paper's design: 14 sample/depth groups x 5 replicates, Li
from the published Table 2, 5 % unranged background) to a temporary folder, then times

- the baseline: reading each POS file and counting its ions per range with plain NumPy
  (``np.searchsorted`` on the sorted range edges): the I/O + ranging floor;
- ``analyze_specimen`` over every specimen (composition, profile, FDA, quality checks);
- ``run_study`` end to end (specimens + aggregation + fits + growth law + figures), serially
  and, when dask.distributed works here, on 2 local workers.

Run: ``.venv/bin/python benchmarks/bench_study.py [--specimens 70] [--ions 1000000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

MASSES = {"Li": (6.015, 7.016), "Ni": (57.935, 59.93), "Co": (58.933,), "Mn": (54.938,),
          "O": (15.995, 31.99)}


def _write_study(folder: Path, n_specimens: int, n_ions: int, rng: np.random.Generator) -> Path:
    import pandas as pd

    from liprobe.data import Ion, IonTable, RangeTable
    from liprobe.io import write_ions, write_ranges
    from liprobe.study.paper import published_tables

    _, table2, _ = published_tables()
    ions, low, high, index = [], [], [], []
    for el, masses in MASSES.items():
        ions.append(Ion(el, ((el, 1),)))
        for m in masses:
            low.append(m - 0.15)
            high.append(m + 0.15)
            index.append(len(ions) - 1)
    write_ranges(folder / "ncm.rrng", RangeTable(tuple(ions), low, high, index))
    (folder / "apt").mkdir(parents=True, exist_ok=True)
    lines = ['[study]', 'name = "benchmark"', '']
    for name, cycles in table2.groupby("specimen")["cycles"].first().items():
        lines += ['[[samples]]', f'name = "{name}"', f'cycles = {int(cycles)}', '']
    groups = list(table2.itertuples())
    for k in range(n_specimens):
        g = groups[k % len(groups)]
        li = g.li * (1 + 0.02 * rng.standard_normal())
        weights = np.array([li * 0.0759, li * 0.9241, 0.8 * 0.68, 0.8 * 0.32, 0.15, 0.05,
                            0.9, 0.45])
        weights = weights / weights.sum() * 0.95
        centres = np.array([m for masses in MASSES.values() for m in masses])
        choice = rng.choice(centres.size + 1, size=n_ions, p=np.r_[weights, 0.05])
        mass = np.where(choice < centres.size, centres[np.minimum(choice, centres.size - 1)]
                        + 0.03 * rng.standard_normal(n_ions), rng.uniform(1, 80, n_ions))
        z = np.sort(rng.uniform(0, 200, n_ions))
        xyz = np.column_stack([rng.uniform(-20, 20, n_ions), rng.uniform(-20, 20, n_ions), z])
        name = f"s{k:03d}.pos"
        write_ions(folder / "apt" / name, IonTable(xyz.astype(np.float32),
                                                    mass.astype(np.float32)))
        depth = (f"depth_nm = {g.depth_nm:g}" if np.isfinite(g.depth_nm)
                 else f'depth = "{"< 100 nm" if "<" in g.depth_as_reported else "bulk"}"')
        lines += ['[[specimens]]', f'sample = "{g.specimen}"', depth,
                  f'replicate = {k // len(groups) + 1}', f'apt = "apt/{name}"',
                  'ranges = "ncm.rrng"', '']
    path = folder / "study.toml"
    path.write_text("\n".join(lines))
    del pd
    return path


def _baseline(manifest) -> float:
    from liprobe.io import read_ions, read_ranges

    start = time.perf_counter()
    for spec in manifest.specimens:
        ions = read_ions(spec.apt)
        ranges = read_ranges(spec.ranges)
        order = np.argsort(ranges.low_da)
        edges = np.empty(2 * order.size)
        edges[0::2], edges[1::2] = ranges.low_da[order], ranges.high_da[order]
        slot = np.searchsorted(edges, ions.mass_to_charge_da.astype(np.float64), side="right")
        inside = slot % 2 == 1
        np.bincount(ranges.ion_index[order][slot[inside] // 2], minlength=ranges.n_ions)
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print a table of measured figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specimens", type=int, default=70)
    parser.add_argument("--ions", type=int, default=1_000_000)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()

    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import analyze_specimen, run_study

    with tempfile.TemporaryDirectory(prefix="liprobe-bench-study-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        manifest = read_manifest(_write_study(folder, args.specimens, args.ions,
                                              np.random.default_rng(0)))
        t_write = time.perf_counter() - t0
        # warm the numba caches on one specimen so compile time is not counted
        analyze_specimen(manifest.specimens[0], manifest.settings)
        t_base = _baseline(manifest)
        t0 = time.perf_counter()
        for spec in manifest.specimens:
            analyze_specimen(spec, manifest.settings)
        t_specimens = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_study(manifest, folder / "out", progress=False)
        t_run = time.perf_counter() - t0
        t_dask = float("nan")
        if not args.no_dask:
            try:
                from liprobe.workflow.scaleout import dask_map

                t0 = time.perf_counter()
                with dask_map(n_workers=2) as pmap:
                    run_study(manifest, folder / "out_dask", map_specimens=pmap, progress=False)
                t_dask = time.perf_counter() - t0
            except ImportError as exc:  # pragma: no cover - dask is a dependency
                print(f"dask run skipped: {exc}")
    n = args.specimens
    print(f"study of {n} specimens x {args.ions:,} ions (writing the data took {t_write:.1f} s)")
    print(f"{'step':<52}{'total s':>9}{'per specimen s':>16}")
    rows = [("baseline: read + NumPy searchsorted ranging", t_base),
            ("analyze_specimen (composition, profile, FDA, QC)", t_specimens),
            ("run_study serial (all tables, fits, figures)", t_run),
            ("run_study on 2 dask workers", t_dask)]
    for label, seconds in rows:
        print(f"{label:<52}{seconds:>9.1f}{seconds / n:>16.3f}")
    print(f"target: <= 120 s for 70 x 1 M ions; run_study serial / baseline = "
          f"{t_run / t_base:.1f}x")


if __name__ == "__main__":
    main()

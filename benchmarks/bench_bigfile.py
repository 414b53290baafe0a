"""Big-file benchmark: composition and z-profile of a POS larger than memory, bounded memory.

Writes a simulated NCM-like POS of ``--size-gb`` GB (default 0.5 GB under ``make bench``;
run ``--size-gb 20`` by hand for the acceptance figure: the free disk is checked first), then
runs :func:`liprobe.workflow.scaleout.chunked_composition`,
:func:`~liprobe.workflow.scaleout.chunked_profile` and the whole per-specimen analysis
:func:`liprobe.workflow.pipeline.analyze_specimen` on its chunked path (``max_in_memory_ions``
below the file's ion count: composition and profile streamed, FDA and quality checks on a
slab) each in a fresh child process and reports
its wall time and peak resident memory (``ru_maxrss`` of the child). Baseline measured in
the same run: the in-memory path, ``count_ions(read_ions(path, mmap=False))`` (skipped
when the file would not fit in a quarter of the RAM).

Run: ``.venv/bin/python benchmarks/bench_bigfile.py [--size-gb 20] [--dir /big/tmp]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: (atoms, peak m/q in Da, relative abundance): a compact NCM811-like spectrum.
PEAKS = (
    (("Li",), 7.016, 0.27), (("Li",), 6.015, 0.02), (("O",), 15.995, 0.13),
    (("Ni",), 28.968, 0.17), (("Ni",), 29.965, 0.07), (("Co",), 29.466, 0.04),
    (("Mn",), 27.469, 0.012), (("O", "O"), 31.990, 0.21), (("Ni", "O"), 73.930, 0.03),
)
BACKGROUND = 0.03
PEAK_LIMIT_MIB = 4096
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {bench_dir!r})
from bench_bigfile import make_ranges
path, step, chunk = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ranges = make_ranges()
start = time.perf_counter()
if step == "composition":
    from liprobe.workflow.scaleout import chunked_composition
    out = chunked_composition(path, ranges, chunk_ions=chunk)
    check = out.ratios()["Li"][0]
elif step == "profile":
    from liprobe.workflow.scaleout import chunked_profile
    out = chunked_profile(path, ranges, bin_nm=1.0, chunk_ions=chunk)
    check = float(out.n_bins)
elif step == "specimen":
    from liprobe.io import write_ranges
    from liprobe.study.manifest import Depth, SpecimenSpec, StudySettings
    from liprobe.workflow.pipeline import analyze_specimen
    rrng = path.with_suffix(".rrng")
    write_ranges(rrng, ranges)
    spec = SpecimenSpec("big", "big", 0, Depth(0.0, 0.0, 0.0, "surface"), "1", path, rrng)
    out = analyze_specimen(spec, StudySettings(max_in_memory_ions=int(sys.argv[4])))
    check = out.ratios["Li"]
else:
    from liprobe.apt.ranging import count_ions
    from liprobe.io import read_ions
    out = count_ions(read_ions(path, mmap=False), ranges)
    check = float(out.counts[0])
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "check": check,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def make_ranges():
    """RangeTable of :data:`PEAKS` (+-0.2 Da)."""
    from liprobe.data import Ion, RangeTable

    names: dict[str, int] = {}
    ions, low, high, index = [], [], [], []
    for atoms, mass, _ in PEAKS:
        name = "".join(atoms)
        if name not in names:
            names[name] = len(ions)
            counts: dict[str, int] = {}
            for a in atoms:
                counts[a] = counts.get(a, 0) + 1
            ions.append(Ion(name, tuple(counts.items())))
        low.append(mass - 0.2)
        high.append(mass + 0.2)
        index.append(names[name])
    return RangeTable(tuple(ions), low, high, index)


def write_big_pos(path: Path, n_ions: int, *, seed: int = 5, chunk: int = 1 << 22) -> None:
    """Write ``n_ions`` ions chunk by chunk (memory bounded); z falls with evaporation."""
    rng = np.random.default_rng(seed)
    centres = np.array([m for _, m, _ in PEAKS])
    weights = np.array([w for _, _, w in PEAKS])
    weights = np.append(weights / weights.sum() * (1 - BACKGROUND), BACKGROUND)
    length_nm = max(1.0, n_ions / (119 * 0.37 * np.pi * 40.0**2))
    with open(path, "wb") as fh:
        for start in range(0, n_ions, chunk):
            n = min(chunk, n_ions - start)
            block = np.empty((n, 4), dtype=">f4")
            block[:, :2] = rng.normal(0.0, 20.0, (n, 2))
            block[:, 2] = -length_nm * (start + np.arange(n)) / n_ions
            peak = rng.choice(weights.size, size=n, p=weights)
            mass = np.where(peak < centres.size, centres[np.minimum(peak, centres.size - 1)]
                            + rng.normal(0.0, 0.03, n), rng.uniform(1.0, 120.0, n))
            block[:, 3] = mass
            block.tofile(fh)


def _child(path: Path, step: str, chunk: int, limit: int = 0) -> dict:
    import json

    code = CHILD.format(bench_dir=str(Path(__file__).resolve().parent))
    done = subprocess.run([sys.executable, "-c", code, str(path), step, str(chunk), str(limit)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Write the big POS, process it in child processes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=0.5)
    parser.add_argument("--chunk-ions", type=int, default=1 << 22)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the POS")
    parser.add_argument("--max-in-memory-ions", type=int, default=10_000_000,
                        help="analyze_specimen's limit (FDA/QC slab size) for the last row")
    if argv is None:  # by hand: the command line; under run_all.py: the defaults
        argv = sys.argv[1:] if Path(sys.argv[0]).name == Path(__file__).name else []
    args = parser.parse_args(argv)
    n_ions = int(args.size_gb * 1e9) // 16
    folder = args.dir or Path(tempfile.gettempdir())
    free = shutil.disk_usage(folder).free
    if free < n_ions * 16 * 1.05 + 2e9:
        print(f"bench_bigfile: not enough free disk in {folder}: {free / 1e9:.1f} GB free, "
              f"{n_ions * 16 / 1e9:.1f} GB needed (+2 GB margin); use --dir or --size-gb")
        return
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with tempfile.TemporaryDirectory(prefix="liprobe-bigfile-", dir=folder) as tmp:
        path = Path(tmp) / "big.pos"
        start = time.perf_counter()
        write_big_pos(path, n_ions)
        t_write = time.perf_counter() - start
        rows = [("write POS (generator, chunked)", t_write, None, None)]
        if n_ions * 16 < ram / 4:
            base = _child(path, "baseline", args.chunk_ions)
            rows.append(("baseline count_ions(read_ions(mmap=False))", base["seconds"],
                         base["maxrss_kib"] / 1024, base["check"]))
        else:
            rows.append((f"baseline in memory: skipped ({n_ions * 16 / 2**30:.1f} GiB "
                         f"> RAM/4)", float("nan"), None, None))
        comp = _child(path, "composition", args.chunk_ions)
        rows.append((f"chunked_composition ({args.chunk_ions:,} ions/chunk)", comp["seconds"],
                     comp["maxrss_kib"] / 1024, comp["check"]))
        prof = _child(path, "profile", args.chunk_ions)
        rows.append(("chunked_profile (2 passes, 1 nm bins)", prof["seconds"],
                     prof["maxrss_kib"] / 1024, prof["check"]))
        if n_ions > args.max_in_memory_ions:
            whole = _child(path, "specimen", args.chunk_ions, args.max_in_memory_ions)
            rows.append((f"chunked analyze_specimen (slab {args.max_in_memory_ions / 1e6:g} M)",
                         whole["seconds"], whole["maxrss_kib"] / 1024, whole["check"]))
    print(f"liprobe big-file benchmark: {n_ions:,} ions = {n_ions * 16 / 1e9:.2f} GB POS, "
          f"RAM {ram / 2**30:.1f} GiB, {os.cpu_count()} CPUs")
    print(f"{'step':<52} {'seconds':>9} {'M ions/s':>9} {'peak RSS MiB':>13}")
    for name, seconds, rss, _ in rows:
        rate = n_ions / seconds / 1e6 if seconds == seconds and seconds > 0 else float("nan")
        rss_text = f"{rss:13.0f}" if rss is not None else f"{'-':>13}"
        print(f"{name:<52} {seconds:9.2f} {rate:9.1f} {rss_text}")
    worst = max(r[2] for r in rows if r[2] is not None and "chunked" in r[0])
    print(f"chunked peak RSS {worst:.0f} MiB: {'within' if worst <= PEAK_LIMIT_MIB else 'ABOVE'} "
          f"the {PEAK_LIMIT_MIB} MiB limit")


if __name__ == "__main__":
    main()

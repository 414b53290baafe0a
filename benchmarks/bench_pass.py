"""Per-specimen pass benchmark: `liprobe fda` and the study's one-specimen analysis.

Writes (once, reused) a synthetic NCM POS of N ions with the realistic spectrum of
:mod:`bench_foundation` and a realistic layout: ions in evaporation order, z increasing
along the sequence, x/y uniform in a needle cross-section whose radius grows with depth.
Then, each in a FRESH subprocess (as a user runs it):

(a) ``liprobe fda FILE -r RANGES``;
(b) the study's per-specimen pass (``analyze_specimen``: range, compose, overlap
    correction, profile, FDA, QC) with default study settings;
(c) the baseline: ``np.fromfile(path, ">f4")`` plus a byteswap of the mass column;
(d) the pass again with an empty numba cache: the first run after an install, when the
    compiled kernels are built (once; later runs load them from the cache).

Reported per step: wall seconds, CPU seconds (user + sys) and peak RSS of the child
(``RUSAGE_CHILDREN``), RSS / file size, and the ratios of wall and CPU time to the baseline
measured in the same run (on a loaded machine wall time is inflated; the CPU ratio is not).
Targets (100 M ions): pass <= 10 s (b, with the kernels cached as after any first run),
peak RSS <= 1.5x the file.

Run: ``.venv/bin/python benchmarks/bench_pass.py [n_ions] [--dir DIR]`` (default 1e8 ions,
DIR = /tmp/liprobe-bench-pass; a 100 M-ion file is 1.6 GB: check ``df -h`` first).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_foundation import BACKGROUND, SPECTRUM, make_ranges  # noqa: E402

BLOCK = 1 << 21


def write_needle_pos(path: Path, n_ions: int, *, seed: int = 1,
                     depth_nm: float = 300.0) -> None:
    """Write a POS of ``n_ions`` in evaporation order: z grows along the sequence."""
    rng = np.random.default_rng(seed)
    centres = np.concatenate([np.array(p) for _, _, p, _ in SPECTRUM])
    weights = np.concatenate([np.full(len(p), w / len(p)) for _, _, p, w in SPECTRUM])
    weights = weights / weights.sum() * (1 - BACKGROUND)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        for start in range(0, n_ions, BLOCK):
            n = min(BLOCK, n_ions - start)
            block = np.empty((n, 4), dtype=">f4")
            z = (start + np.arange(n)) * (depth_nm / n_ions)
            radius = 20.0 + 0.1 * z  # a needle with a shank angle
            r = radius * np.sqrt(rng.random(n))
            phi = rng.uniform(0.0, 2 * np.pi, n)
            block[:, 0] = r * np.cos(phi)
            block[:, 1] = r * np.sin(phi)
            block[:, 2] = z
            peak = rng.choice(centres.size + 1, size=n, p=np.append(weights, BACKGROUND))
            block[:, 3] = np.where(peak < centres.size,
                                   centres[np.minimum(peak, centres.size - 1)]
                                   + rng.normal(0.0, 0.025, n),
                                   rng.uniform(1.0, 120.0, n))
            fh.write(block.tobytes())
    tmp.replace(path)


#: the child of (b): the study's per-specimen function, from wherever it lives
PASS_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from liprobe.study.manifest import SpecimenSpec, StudySettings, parse_depth
    from liprobe.workflow.pipeline import analyze_specimen
    spec = SpecimenSpec(name="bench", sample="NCM", cycles=0, depth=parse_depth("surface"),
                        replicate="1", apt=Path(sys.argv[1]), ranges=Path(sys.argv[2]))
    result = analyze_specimen(spec, StudySettings())
    print("ok", type(result).__name__)
""")

BASELINE_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    raw = np.fromfile(sys.argv[1], ">f4")
    mass = raw[3::4].astype(np.float32)
    print("ok", mass.size)
""")


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed:\n{proc.stdout}\n{proc.stderr}")
    # RUSAGE_CHILDREN is the max over all waited-for children: run each step from its
    # own wrapper process so that the figure is that step's alone
    return wall, 0.0, proc.stdout


def _measured(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Run ``args`` inside a fresh wrapper that reports the child's wall, peak RSS (MiB) and
    CPU seconds (user + sys: less sensitive than wall time to other load on the machine)."""
    wrapper = textwrap.dedent("""
        import resource, subprocess, sys, time
        t = time.perf_counter()
        p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
        wall = time.perf_counter() - t
        if p.returncode:
            sys.stderr.write(p.stdout + p.stderr); sys.exit(p.returncode)
        use = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(wall, use.ru_maxrss / 1024, use.ru_utime + use.ru_stime)
    """)
    _, _, out = _child([sys.executable, "-c", wrapper, *args], env)
    wall, rss, cpu = out.split()[-3:]
    return float(wall), float(rss), float(cpu)


def main(argv: list[str] | None = None) -> None:
    """Write (or reuse) the file, run the three fresh processes, print the table."""
    from liprobe.io import write_ranges

    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path("/tmp/liprobe-bench-pass")
    if "--dir" in args:
        k = args.index("--dir")
        folder = Path(args[k + 1])
        del args[k:k + 2]
    n_ions = int(float(args[0])) if args else 100_000_000
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"needle_{n_ions}.pos"
    free_disk = shutil.disk_usage(folder).free
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if not path.exists() and (16 * n_ions > free_disk / 2 or 16 * n_ions * 4 > ram):
        print(f"{n_ions:.3g} ions need {16 * n_ions / 2**30:.1f} GiB of disk and ~4x that of "
              f"RAM; running 1e7 instead")
        n_ions = 10_000_000
        path = folder / f"needle_{n_ions}.pos"
    ranges_path = folder / "ncm.rrng"
    if not path.exists() or path.stat().st_size != 16 * n_ions:
        t = time.perf_counter()
        write_needle_pos(path, n_ions)
        print(f"wrote {path} in {time.perf_counter() - t:.1f} s")
    if not ranges_path.exists():
        write_ranges(ranges_path, make_ranges())
    size_mib = path.stat().st_size / 2**20
    env = dict(os.environ)
    py = sys.executable
    steps = [
        ("baseline np.fromfile + byteswap m/q", [py, "-c", BASELINE_CHILD, str(path)]),
        ("liprobe fda", [py, "-m", "liprobe", "fda", str(path), "-r", str(ranges_path)]),
        ("study per-specimen pass", [py, "-c", PASS_CHILD, str(path), str(ranges_path)]),
    ]
    rows = [(name, *_measured(cmd, env)) for name, cmd in steps]
    # the first run after an install: numba compiles every kernel the pass uses (its
    # cache, an empty folder here, then serves later runs)
    with tempfile.TemporaryDirectory() as cold:
        rows.append(("pass, first run (kernels compile)",
                     *_measured(steps[2][1], {**env, "NUMBA_CACHE_DIR": cold})))
    base, base_cpu = rows[0][1], rows[0][3]
    print(f"{n_ions:.3g} ions, file {size_mib:.0f} MiB, fresh process each, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'step':36s} {'wall s':>7s} {'x base':>6s} {'CPU s':>7s} {'x base':>6s} "
          f"{'RSS MiB':>8s} {'RSS/file':>8s}")
    for name, wall, rss, cpu in rows:
        print(f"{name:36s} {wall:7.2f} {wall / base:6.1f} {cpu:7.2f} {cpu / base_cpu:6.1f} "
              f"{rss:8.0f} {rss / size_mib:8.2f}")
    if n_ions >= 100_000_000:
        wall, rss = rows[2][1], rows[2][2]
        print(f"pass <= 10 s: {'met' if wall <= 10 else 'NOT met'}; "
              f"peak RSS <= 1.5x file: fda {'met' if rows[1][2] <= 1.5 * size_mib else 'NOT met'}"
              f", pass {'met' if rss <= 1.5 * size_mib else 'NOT met'}")


if __name__ == "__main__":
    main()

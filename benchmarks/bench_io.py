"""Benchmark: reading a 10 M-ion POS with ``read_pos`` vs ``np.fromfile``.

Writes a 10 M-ion POS (160 MB) under a temporary folder, then times

* liprobe: ``read_pos(path)`` + ``np.asarray(ions.mass_to_charge_da, np.float32)``
  (memory map, then touching the whole mass column), and
* baseline: ``np.fromfile(path, '>f4')`` (one read of the whole file),

as the median of several runs in the same process, and measures the peak memory of each
in a fresh child process (growth of the peak RSS, ``VmHWM`` in ``/proc/self/status``, which
counts the mapped file pages, and the tracemalloc peak of heap allocations). Targets: read time
<= 1.5x fromfile, peak memory <= 1.5x the file size.

Run: ``.venv/bin/python benchmarks/bench_io.py [n_ions]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_IONS = 10_000_000
REPEATS = 5

_CHILD = r"""
import sys, tracemalloc
import numpy as np
from liprobe.io.pos import read_pos

def high_water_bytes():  # VmHWM: peak RSS of this process image (fresh after exec)
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")

path, which = sys.argv[1], sys.argv[2]
before = high_water_bytes()
tracemalloc.start()
if which == "read_pos":
    ions = read_pos(path)
    mass = np.asarray(ions.mass_to_charge_da, np.float32)
else:
    data = np.fromfile(path, ">f4")
_, peak = tracemalloc.get_traced_memory()
after = high_water_bytes()
print(after - before, peak)
"""


def _write_pos(path: Path, n_ions: int) -> None:
    from liprobe.data import IonTable
    from liprobe.io.pos import write_pos

    rng = np.random.default_rng(0)
    xyz = rng.normal(scale=30.0, size=(n_ions, 3)).astype(np.float32)
    mass = rng.uniform(1.0, 120.0, n_ions).astype(np.float32)
    write_pos(path, IonTable(xyz, mass))


def _time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _child_memory(path: Path, which: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), which], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def main() -> None:
    """Run the benchmark and print a table."""
    from liprobe.io.pos import read_pos

    n_ions = int(sys.argv[1]) if len(sys.argv) > 1 else N_IONS
    with tempfile.TemporaryDirectory(prefix="liprobe-bench-io-") as tmp:
        path = Path(tmp) / "bench.pos"
        _write_pos(path, n_ions)
        size = path.stat().st_size

        def liprobe_read() -> None:
            ions = read_pos(path)
            np.asarray(ions.mass_to_charge_da, np.float32)

        def baseline_read() -> None:
            np.fromfile(path, ">f4")

        baseline_read()  # warm the page cache once for both
        t_lib = _time(liprobe_read, REPEATS)
        t_base = _time(baseline_read, REPEATS)
        rss_lib, heap_lib = _child_memory(path, "read_pos")
        rss_base, heap_base = _child_memory(path, "fromfile")

    mb = 1e6
    print(f"POS read benchmark: {n_ions:,} ions, file {size / mb:.0f} MB, "
          f"median of {REPEATS} runs")
    print(f"{'method':<34}{'time s':>9}{'peak RSS MB':>13}{'heap MB':>10}{'RSS/file':>10}")
    print(f"{'read_pos + mass column (liprobe)':<34}{t_lib:>9.3f}{rss_lib / mb:>13.0f}"
          f"{heap_lib / mb:>10.0f}{rss_lib / size:>10.2f}")
    print(f"{'np.fromfile(path, >f4) (baseline)':<34}{t_base:>9.3f}{rss_base / mb:>13.0f}"
          f"{heap_base / mb:>10.0f}{rss_base / size:>10.2f}")
    print(f"time ratio liprobe/baseline: {t_lib / t_base:.2f} (target <= 1.5); "
          f"memory liprobe/file: {max(rss_lib, heap_lib) / size:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()

"""Foundation benchmark: read a 10 M-ion POS, range it and compute its composition.

Baselines measured in the same run: ``np.fromfile(path, ">f4")`` plus a byteswap of the
mass column (reading the raw bytes and making the masses native), and a plain compiled
lookup histogram over the same masses and the same lookup table (no exact fallback at
range bounds: the fastest any ranging over that table can be). Steady figures are medians
of 5 in-process calls with warm JIT and a warm page cache; the first in-process call and a
fresh ``liprobe composition`` process on 1 M ions (median of 5 wall times) are timed too.
Peak memory of each step from ``tracemalloc`` (NumPy allocations; the memory map itself is
page cache, not heap).

Targets: read+range+compose <= 2x the fromfile+byteswap baseline, ranging <= 1.5x the
lookup histogram, first in-process compose <= 3x the steady one, the fresh process <= 0.4 s
on a quiet machine.

The best installed peer, APAV (``--peer-python`` or ``$LIPROBE_PEER_PYTHON``: a Python with
``apav``, which needs ``numpy < 2``, so usually its own venv), is timed on the same files:
steady read+range+compose, a fresh process on 1 M ions, and its atoms per element are
compared with liprobe's.

Run: ``.venv/bin/python benchmarks/bench_foundation.py [n_ions] [--peer-python PATH]``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

#: (ion name, atoms, m/q of its peaks in Da, relative ion abundance): an NCM811-like
#: laser-pulsed spectrum with 31 ranged peaks.
SPECTRUM = (
    ("H", (("H", 1),), (1.008,), 0.01),
    ("H2", (("H", 2),), (2.016,), 0.005),
    ("Li", (("Li", 1),), (6.015, 7.016), 0.28),
    ("O", (("O", 1),), (15.995, 17.999), 0.13),
    ("LiO", (("Li", 1), ("O", 1)), (22.010, 23.011), 0.015),
    ("Mn", (("Mn", 1),), (27.469, 54.938), 0.012),
    ("Ni", (("Ni", 1),), (28.968, 29.965, 30.466, 30.964, 57.935, 59.931, 60.931, 61.928),
     0.23),
    ("Co", (("Co", 1),), (29.466, 58.933), 0.04),
    ("O2", (("O", 2),), (31.990, 33.994), 0.21),
    ("MnO", (("Mn", 1), ("O", 1)), (70.933,), 0.002),
    ("NiO", (("Ni", 1), ("O", 1)), (73.930, 75.926, 76.926, 77.923), 0.03),
    ("CoO", (("Co", 1), ("O", 1)), (74.928,), 0.005),
    ("NiO2", (("Ni", 1), ("O", 2)), (89.925,), 0.003),
)
BACKGROUND = 0.05  # share of ions uniform in 1-120 Da
REPEATS = 5


def make_ranges():
    """The RangeTable of :data:`SPECTRUM` (+-0.15 Da, +-0.3 Da above 40 Da)."""
    from liprobe.data import Ion, RangeTable

    ions, low, high, index = [], [], [], []
    for k, (name, atoms, peaks, _) in enumerate(SPECTRUM):
        ions.append(Ion(name, atoms))
        for m in peaks:
            half = 0.3 if m > 40 else 0.15
            low.append(m - half)
            high.append(m + half)
            index.append(k)
    return RangeTable(tuple(ions), low, high, index)


def write_spectrum_pos(path: Path, n_ions: int, *, seed: int = 1) -> None:
    """Write ``n_ions`` ions with the :data:`SPECTRUM` mass spectrum as a POS file."""
    rng = np.random.default_rng(seed)
    centres = np.concatenate([np.array(p) for _, _, p, _ in SPECTRUM])
    weights = np.concatenate([np.full(len(p), w / len(p)) for _, _, p, w in SPECTRUM])
    weights = weights / weights.sum() * (1 - BACKGROUND)
    with open(path, "wb") as fh:
        for start in range(0, n_ions, 1 << 21):
            n = min(1 << 21, n_ions - start)
            block = np.empty((n, 4), dtype=">f4")
            block[:, :3] = rng.normal(0.0, 20.0, (n, 3))
            peak = rng.choice(centres.size + 1, size=n, p=np.append(weights, BACKGROUND))
            mass = np.where(peak < centres.size,
                            centres[np.minimum(peak, centres.size - 1)]
                            + rng.normal(0.0, 0.025, n),
                            rng.uniform(1.0, 120.0, n))
            block[:, 3] = mass
            fh.write(block.tobytes())


def _measure(fn, repeats: int = REPEATS) -> tuple[float, float, object]:
    """Median seconds of ``repeats`` calls and the traced peak MiB of one call."""
    result = fn()  # warm: JIT, page cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return float(np.median(times)), peak / 2**20, result


def _lookup_histogram():
    """A compiled histogram over a lookup table: the same table lookup, nothing else."""
    import numba

    @numba.njit(cache=False, nogil=True)
    def histogram(mass, cells, origin, inv_width, counts):  # pragma: no cover - jitted
        n = cells.shape[0]
        for i in range(mass.shape[0]):
            x = (np.float64(mass[i]) - origin) * inv_width
            c = -1
            if x >= 0.0 and x < n:
                c = cells[int(x)]
            counts[c + 2] += 1

    return histogram


def _fresh_process(path: Path, ranges_path: Path, repeats: int = REPEATS) -> tuple[float, float]:
    """Median wall seconds of ``liprobe composition`` and of ``python -c 'import numpy'``."""
    def wall(args):
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        return float(np.median(times[1:]))  # the first one warms the page cache and numba's

    cli = wall([sys.executable, "-m", "liprobe", "composition", str(path), "-r", str(ranges_path)])
    numpy_only = wall([sys.executable, "-c", "import numpy"])
    return cli, numpy_only


def _first_call(path: Path, ranges_path: Path) -> float:
    """Seconds of the first read+range+compose in a fresh interpreter (imports excluded)."""
    code = (
        "import time, liprobe.io as io, liprobe.apt.composition as c\n"
        f"r = io.read_ranges({str(ranges_path)!r})\n"
        f"t = time.perf_counter(); c.compose(io.read_ions({str(path)!r}), r)\n"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


#: The best peer that installs (APAV 1.4; it needs numpy < 2): read a POS, range it with
#: an RRNG, atoms per element. Prints the median of argv[3] steady calls after a first one
#: (NaN for none), then the atoms per element as JSON.
PEER_CHILD = """
import json, statistics, sys, time
import apav as ap
from apav.analysis import RangedMassSpectrum
def run():
    ranges = ap.RangeCollection.from_rrng(sys.argv[2])
    return RangedMassSpectrum(ap.Roi.from_pos(sys.argv[1]), ranges, decompose=True).quant_dict
quant = run()
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); run(); times.append(time.perf_counter() - t)
print(statistics.median(times) if times else float("nan"))
print(json.dumps({el: int(n) for el, (_, n) in quant.items()}))
"""


def _peer_python(args: list[str]) -> str | None:
    """A Python that imports APAV: ``--peer-python PATH``, ``$LIPROBE_PEER_PYTHON``, or
    this interpreter if APAV is installed here; None when there is none."""
    import os

    if "--peer-python" in args:
        k = args.index("--peer-python")
        path = args[k + 1]
        del args[k:k + 2]
        return path
    for python in (os.environ.get("LIPROBE_PEER_PYTHON"), sys.executable):
        if python and subprocess.run([python, "-c", "import apav"],
                                     capture_output=True).returncode == 0:
            return python
    return None


def _peer(python: str, path: Path, small: Path, rrng: Path) -> tuple[float, float, dict]:
    """APAV's steady read+range+compose of ``path`` (median of REPEATS in one process), the
    median wall of a fresh process composing ``small`` and APAV's atoms per element."""
    import json

    out = subprocess.run([python, "-c", PEER_CHILD, str(path), str(rrng), str(REPEATS)],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    steady = float(out[0])
    atoms = json.loads(out[1])
    walls = []
    for _ in range(REPEATS + 1):
        start = time.perf_counter()
        subprocess.run([python, "-c", PEER_CHILD, str(small), str(rrng), "0"], check=True,
                       capture_output=True)
        walls.append(time.perf_counter() - start)
    return steady, float(np.median(walls[1:])), atoms


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table of measured figures."""
    from liprobe.apt.composition import compose
    from liprobe.apt.ranging import _segments, assign_ranges, count_ions
    from liprobe.io import read_ions, write_ranges

    args = list(sys.argv[1:] if argv is None else argv)
    peer_python = _peer_python(args)
    n_ions = int(float(args[0])) if args else 10_000_000
    ranges = make_ranges()
    with tempfile.TemporaryDirectory(prefix="liprobe-bench-") as tmp:
        path = Path(tmp) / "bench.pos"
        write_spectrum_pos(path, n_ions)
        ions = read_ions(path)
        mass_native = np.ascontiguousarray(ions.mass_to_charge_da, dtype=np.float32)
        sorted_low = np.sort(ranges.low_da)

        rows = []

        def pipeline():
            return compose(read_ions(path), ranges)

        def fromfile_byteswap():
            raw = np.fromfile(path, ">f4")
            return raw[3::4].astype(np.float32)

        t_base, m_base, _ = _measure(fromfile_byteswap)
        rows.append(("baseline np.fromfile + byteswap of m/q", t_base, m_base))
        seg = _segments(ranges, "error")
        histogram = _lookup_histogram()
        hist_counts = np.zeros(int(seg.cells.max()) + 3, np.int64)
        t_hist, m_hist, _ = _measure(
            lambda: histogram(mass_native, seg.cells, seg.origin, seg.inv_width, hist_counts))
        rows.append(("baseline lookup histogram, native", t_hist, m_hist))
        t_read, m_read, _ = _measure(lambda: read_ions(path).n_ions)
        rows.append(("read_ions (memory map)", t_read, m_read))
        t_count, m_count, _ = _measure(lambda: count_ions(ions, ranges))
        rows.append(("count_ions, big-endian strided POS column", t_count, m_count))
        t_native, m_native, _ = _measure(lambda: count_ions(mass_native, ranges))
        rows.append(("count_ions, native float32", t_native, m_native))
        t_label, m_label, _ = _measure(lambda: assign_ranges(mass_native, ranges))
        rows.append(("assign_ranges (index per ion), native", t_label, m_label))
        t_ss, m_ss, _ = _measure(lambda: np.searchsorted(sorted_low, mass_native))
        rows.append(("baseline np.searchsorted, native", t_ss, m_ss))
        t_all, m_all, comp = _measure(pipeline)
        rows.append(("read_ions + range + compose", t_all, m_all))

        small = Path(tmp) / "small.pos"
        write_spectrum_pos(small, 1_000_000)
        ranges_path = Path(tmp) / "bench.rrng"
        write_ranges(ranges_path, ranges)
        t_small, _, _ = _measure(lambda: compose(read_ions(small), ranges))
        t_first = _first_call(small, ranges_path)
        t_cli, t_numpy = _fresh_process(small, ranges_path)
        peer = None
        if peer_python:
            peer_rrng = Path(tmp) / "peer.rrng"  # APAV requires Vol: and Color: per range
            write_ranges(peer_rrng, ranges, fill_missing=True)
            peer = _peer(peer_python, path, small, peer_rrng)

    print(f"liprobe foundation benchmark: {n_ions:,} ions, {ranges.n_ranges} ranges, "
          f"median of {REPEATS}")
    print(f"{'step':<44} {'seconds':>9} {'peak MiB':>9}")
    for name, seconds, peak in rows:
        print(f"{name:<44} {seconds:9.4f} {peak:9.1f}")
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"read+range+compose / (fromfile + byteswap): {t_all / t_base:.2f}x "
          f"(target <= 2x: {verdict(t_all <= 2 * t_base)})")
    print(f"ranging (count_ions, native) / lookup histogram: {t_native / t_hist:.2f}x "
          f"(target <= 1.5x: {verdict(t_native <= 1.5 * t_hist)})")
    print(f"1 M ions: first in-process compose {t_first:.4f} s, steady {t_small:.4f} s: "
          f"{t_first / t_small:.1f}x (target <= 3x: {verdict(t_first <= 3 * t_small)})")
    print(f"fresh process 'liprobe composition' on 1 M ions: {t_cli:.3f} s wall, median of "
          f"{REPEATS} (python -c 'import numpy' alone: {t_numpy:.3f} s; target <= 0.4 s on a "
          f"quiet machine: {verdict(t_cli <= 0.4)})")
    if peer is None:
        print("peer: APAV not installed (python -m venv P; P/bin/pip install apav 'numpy<2'; "
              "then --peer-python P/bin/python)")
    else:
        steady, wall, atoms = peer
        ours = {el: int(comp.atoms(el)) for el in comp.elements}
        print(f"peer APAV, read+range+compose {n_ions:,} ions: {steady:.4f} s steady; "
              f"liprobe {t_all / steady:.2f}x of it; fresh process on 1 M ions {wall:.3f} s "
              f"wall (liprobe {t_cli / wall:.2f}x of it); atoms per element "
              f"{'identical' if atoms == ours else f'DIFFER: APAV {atoms} vs {ours}'}")
    print(f"check: ranged fraction {comp.n_ranged / comp.n_ions:.4f} "
          f"(generated {1 - BACKGROUND:.2f} + background inside ranges)")


if __name__ == "__main__":
    main()

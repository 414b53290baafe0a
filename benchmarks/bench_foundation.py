"""Foundation benchmark: read a 10 M-ion POS, range it and compute its composition.

Baseline measured in the same run: ``np.fromfile(path, ">f4")`` (reading the raw bytes
into memory), plus ``np.searchsorted`` ranging for the ranging step alone. Medians of 5
runs with warm JIT and a warm page cache; peak memory of each step from ``tracemalloc``
(NumPy allocations; the memory map itself is page cache, not heap).

Run: ``.venv/bin/python benchmarks/bench_foundation.py [n_ions]``.
"""

from __future__ import annotations

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


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table of measured figures."""
    from liprobe.apt.composition import compose
    from liprobe.apt.ranging import assign_ranges, count_ions
    from liprobe.io import read_ions

    args = sys.argv[1:] if argv is None else argv
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

        t_base, m_base, _ = _measure(lambda: np.fromfile(path, ">f4"))
        rows.append(("baseline np.fromfile(path, '>f4')", t_base, m_base))
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

    print(f"liprobe foundation benchmark: {n_ions:,} ions, {ranges.n_ranges} ranges, "
          f"median of {REPEATS}")
    print(f"{'step':<44} {'seconds':>9} {'peak MiB':>9}")
    for name, seconds, peak in rows:
        print(f"{name:<44} {seconds:9.4f} {peak:9.1f}")
    print(f"read+range+compose / fromfile baseline: {t_all / t_base:.2f}x "
          f"(target: read+range+compose <= 0.15 s at 10 M ions: "
          f"{'met' if t_all <= 0.15 * n_ions / 1e7 else 'NOT met'})")
    print(f"check: ranged fraction {comp.n_ranged / comp.n_ions:.4f} "
          f"(generated {1 - BACKGROUND:.2f} + background inside ranges)")


if __name__ == "__main__":
    main()

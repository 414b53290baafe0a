"""Benchmark: synthetic NCM specimen generation (target: 10 M ions in <= 10 s, <= 3 GB).

Run ``python benchmarks/bench_synth.py [n_ions ...]``. Each size runs in a fresh
subprocess, so the peak RSS is that of one generation. The baseline, measured in the
same subprocess, is the *random-number floor*: drawing the ~12 random numbers per ion
the generator needs (positions, pulses, class, isotope, peak shape, tail, blur) with
NumPy and nothing else; the ratio shows what the physics adds on top.
"""

from __future__ import annotations

import json
import subprocess
import sys

TARGET_S = 10.0
TARGET_GB = 3.0

_CHILD = r"""
import json, resource, sys, time
import numpy as np
from liprobe.synth import SpecimenParams, generate_specimen
n = int(sys.argv[1])
rng = np.random.default_rng(0)
t0 = time.perf_counter()
for _ in range(4):
    rng.random(n, dtype=np.float32)
rng.standard_exponential(n, dtype=np.float32)
rng.standard_normal((n, 3), dtype=np.float32)
rng.standard_normal(n, dtype=np.float32)
rng.random(n)
rng.random(n, dtype=np.float32)
baseline = time.perf_counter() - t0
params = SpecimenParams(n_ions=n)
t0 = time.perf_counter()
ions, truth = generate_specimen(params, rng=np.random.default_rng(1))
elapsed = time.perf_counter() - t0
rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB (Linux)
print(json.dumps({"n_ions": ions.n_ions, "seconds": elapsed, "baseline_seconds": baseline,
                  "peak_rss_gb": rss_gb, "length_nm": truth.length_nm}))
"""


def measure(n_ions: int) -> dict[str, float]:
    """Generate ``n_ions`` in a fresh interpreter; time, baseline and peak RSS."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n_ions)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Print a table of generation time and memory against the random-number floor."""
    sizes = [int(a) for a in (argv or ())] or [1_000_000, 10_000_000]
    print(f"{'ions':>11}  {'generate (s)':>12}  {'rng floor (s)':>13}  {'ratio':>6}  "
          f"{'Mions/s':>8}  {'peak RSS (GB)':>13}  target")
    for n in sizes:
        r = measure(n)
        ok = r["seconds"] <= TARGET_S * n / 10_000_000 and r["peak_rss_gb"] <= TARGET_GB
        print(f"{r['n_ions']:>11}  {r['seconds']:>12.2f}  {r['baseline_seconds']:>13.2f}  "
              f"{r['seconds'] / r['baseline_seconds']:>6.1f}  "
              f"{r['n_ions'] / r['seconds'] / 1e6:>8.2f}  {r['peak_rss_gb']:>13.2f}  "
              f"{'ok' if ok else 'MISSED'} (<= {TARGET_S * n / 1e7:.1f} s, <= {TARGET_GB} GB)")


if __name__ == "__main__":
    main(sys.argv[1:])

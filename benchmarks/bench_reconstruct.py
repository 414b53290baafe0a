"""Benchmark: reconstruction and mass calibration of 10 M ions (targets 1 s and 2 s).

Run ``python benchmarks/bench_reconstruct.py [n_ions]``. A fresh subprocess, pinned to
two cores where the platform allows, builds detector-space arrays (float32, as read from
an EPOS), compiles the kernels on a small input, then times the Bas and shank
reconstructions, the mass-calibration fit and its application. The baseline, in the
same process, is ``np.cumsum`` over the same number of float64 values: the ratio says
how many cumulative sums one step costs, which stays meaningful on a loaded machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

TARGET_RECONSTRUCT_S = 1.0
TARGET_CALIBRATE_S = 2.0

_CHILD = r"""
import json, os, sys, time
try:
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
except (AttributeError, OSError):
    pass
import numpy as np
from liprobe.apt.reconstruct import ReconstructionParams, reconstruct
from liprobe.apt.mass_calibration import apply_mass_calibration, fit_mass_calibration
n = int(sys.argv[1])
rng = np.random.default_rng(0)
r = 20 * np.sqrt(rng.random(n, dtype=np.float32))
phi = rng.random(n, dtype=np.float32) * np.float32(2 * np.pi)
x, y = (r * np.cos(phi)).astype(np.float32), (r * np.sin(phi)).astype(np.float32)
v = np.linspace(2.0, 6.0, n, dtype=np.float32)
true = rng.choice(np.array([7.016, 15.995, 28.9676, 31.99], np.float32), n)
mass = (true * (1 + 0.01 * (v - 4)) * (1 + 2e-5 * (x * x + y * y))
        * (1 + 5e-4 * rng.standard_normal(n, dtype=np.float32))).astype(np.float32)
big = [a.astype(">f4") for a in (x, y, v)]  # as memory-mapped from an EPOS
p = ReconstructionParams(initial_radius_nm=25.0, shank_angle_deg=5.0)
reconstruct(x[:1000], y[:1000], v[:1000], params=p)  # compile
reconstruct(x[:1000], y[:1000], v[:1000], params=p, protocol="shank")
fit_mass_calibration(mass[:20000], v[:20000], x[:20000], y[:20000], peaks_da=[7.016])
best = {}
def timed(name, fn):
    t = []
    for _ in range(3):
        t0 = time.perf_counter(); out = fn(); t.append(time.perf_counter() - t0)
    best[name] = min(t)
    return out
values = rng.random(n)
timed("baseline_cumsum", lambda: np.cumsum(values))
timed("bas", lambda: reconstruct(*big, params=p))
timed("shank", lambda: reconstruct(*big, params=p, protocol="shank"))
cal = timed("calibration_fit", lambda: fit_mass_calibration(mass, v, x, y,
                                                            peaks_da=[7.016, 15.995, 28.9676]))
timed("calibration_apply", lambda: apply_mass_calibration(cal, mass, v, x, y))
best["calibration_total"] = best["calibration_fit"] + best["calibration_apply"]
best["n_ions"] = n
best["cores"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
print(json.dumps(best))
"""


def measure(n_ions: int) -> dict[str, float]:
    """Time the steps for ``n_ions`` in a fresh interpreter (best of three)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n_ions)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Print each step's time, its ratio to the np.cumsum baseline and the target."""
    n = int((argv or ["10000000"])[0])
    r = measure(n)
    base = r["baseline_cumsum"]
    print(f"{r['n_ions']} ions on {r['cores']} cores; baseline np.cumsum: {base:.3f} s")
    for name, target in (("bas", TARGET_RECONSTRUCT_S), ("shank", TARGET_RECONSTRUCT_S),
                         ("calibration_fit", None), ("calibration_apply", None),
                         ("calibration_total", TARGET_CALIBRATE_S)):
        scaled = None if target is None else target * n / 1e7
        verdict = "" if scaled is None else ("ok" if r[name] <= scaled else "MISSED") + \
            f" (<= {scaled:.2f} s)"
        print(f"{name:>18}: {r[name]:7.3f} s  {r[name] / base:6.1f} x cumsum  {verdict}")


if __name__ == "__main__":
    main(sys.argv[1:])

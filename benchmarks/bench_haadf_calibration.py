"""Benchmark: the shipped HAADF calibration table against a direct multislice calculation.

Runs frozen-phonon multislice (abTEM) at thicknesses that are not in the table and
compares R0 and k with the table interpolated there (acceptance: within 10 %). Needs
``pip install liprobe[simulate]``; skips with a message otherwise. CPU: a few minutes.

    python benchmarks/bench_haadf_calibration.py [--kv 200] [--convergence-mrad 20]
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kv", type=float, default=200.0)
    parser.add_argument("--convergence-mrad", type=float, default=20.0)
    parser.add_argument("--thickness-nm", default="5.0,11.5")
    parser.add_argument("--configs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=77)
    args = parser.parse_args(argv)
    try:
        import abtem  # noqa: F401
    except ImportError:
        print("SKIPPED: abTEM is not installed (pip install liprobe[simulate])")
        return 0
    from liprobe.stem.calibration import calibration_at
    from liprobe.stem.multislice import MultisliceSettings, calibrate_multislice

    thick = tuple(float(t) for t in args.thickness_nm.split(","))
    start = time.perf_counter()
    rows = calibrate_multislice(kv=args.kv, convergence_mrad=args.convergence_mrad,
                                detectors_mrad=((70.0, 160.0), (90.0, 200.0)),
                                thickness_nm=thick,
                                settings=MultisliceSettings(n_configs=args.configs,
                                                            sites_per_type=1, seed=args.seed))
    elapsed = time.perf_counter() - start
    print(f"direct multislice: {args.kv:g} kV, {args.convergence_mrad:g} mrad, "
          f"{args.configs} configurations, seed {args.seed}, {elapsed:.0f} s")
    print("detector_mrad thickness_nm  R0_direct R0_table  dev%   k_direct k_table  dev%  "
          "(table SE: R0, k)")
    worst = 0.0
    for row in rows:
        det = (row["detector_inner_mrad"], row["detector_outer_mrad"])
        p = calibration_at(kv=args.kv, convergence_mrad=args.convergence_mrad,
                           detector_mrad=det, thickness_nm=row["thickness_nm"])
        d_r0 = 100 * (p.R0 / row["R0"] - 1)
        d_k = 100 * (p.k / row["k"] - 1)
        worst = max(worst, abs(d_r0), abs(d_k))
        print(f"{det[0]:g}-{det[1]:g}       {row['thickness_nm']:8.3f}   {row['R0']:.4f}   "
              f"{p.R0:.4f}  {d_r0:+6.1f}   {row['k']:.3f}    {p.k:.3f}  {d_k:+6.1f}  "
              f"({p.R0_se:.4f}, {p.k_se:.3f}; direct {row['R0_se']:.4f}, {row['k_se']:.3f})")
    print(f"largest deviation {worst:.1f} % (acceptance 10 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the shipped HAADF calibration table against a direct multislice calculation.

Runs frozen-phonon multislice (abTEM) at thicknesses that are not in the table, with its
own seed, and compares R0 and k with the table interpolated there (acceptance: within
10 %). ``--record FILE`` writes the direct rows and their provenance as JSON (the record
that ``tests/stem/test_calibration.py`` checks the shipped table against). Needs
``pip install liprobe[simulate]``; skips with a message otherwise. CPU: about 1 min per
configuration at 5 sites per type.

    python benchmarks/bench_haadf_calibration.py [--kv 200] [--convergence-mrad 20]
        [--configs 8] [--sites-per-type 5] [--record FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time


def compare(rows, *, kv: float, convergence_mrad: float, calibration=None) -> list[dict]:
    """Table (interpolated) against direct rows: deviations and their combined SE."""
    from liprobe.stem.calibration import calibration_at

    out = []
    for row in rows:
        det = (row["detector_inner_mrad"], row["detector_outer_mrad"])
        p = calibration_at(calibration, kv=kv, convergence_mrad=convergence_mrad,
                           detector_mrad=det, thickness_nm=row["thickness_nm"])
        entry = {"detector_mrad": list(det), "thickness_nm": row["thickness_nm"]}
        for name, tab, tab_se in (("R0", p.R0, p.R0_se), ("k", p.k, p.k_se)):
            ratio = tab / row[name]
            rel_se = ratio * math.hypot(tab_se / tab, row[name + "_se"] / row[name])
            entry.update({f"{name}_direct": row[name], f"{name}_direct_se": row[name + "_se"],
                          f"{name}_table": tab, f"{name}_table_se": tab_se,
                          f"{name}_dev_pct": 100 * (ratio - 1), f"{name}_dev_se_pct": 100 * rel_se})
        out.append(entry)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kv", type=float, default=200.0)
    parser.add_argument("--convergence-mrad", type=float, default=20.0)
    parser.add_argument("--thickness-nm", default="4.9,11.5")
    parser.add_argument("--configs", type=int, default=8)
    parser.add_argument("--sites-per-type", type=int, default=5)
    parser.add_argument("--seed", type=int, default=4911)
    parser.add_argument("--record", default=None, help="write the direct rows here (JSON)")
    args = parser.parse_args(argv)
    try:
        import abtem
    except ImportError:
        print("SKIPPED: abTEM is not installed (pip install liprobe[simulate])")
        return 0
    from liprobe.stem.multislice import MultisliceSettings, calibrate_multislice

    thick = tuple(float(t) for t in args.thickness_nm.split(","))
    settings = MultisliceSettings(n_configs=args.configs, sites_per_type=args.sites_per_type,
                                  seed=args.seed)
    start = time.perf_counter()
    rows = calibrate_multislice(kv=args.kv, convergence_mrad=args.convergence_mrad,
                                detectors_mrad=((70.0, 160.0), (90.0, 200.0)),
                                thickness_nm=thick, settings=settings,
                                progress=lambda line: print(line, flush=True))
    elapsed = time.perf_counter() - start
    print(f"direct multislice: {args.kv:g} kV, {args.convergence_mrad:g} mrad, "
          f"{args.configs} configurations x {args.sites_per_type} sites per type, seed "
          f"{args.seed}, {elapsed:.0f} s")
    if args.record:
        record = {"format": "liprobe-haadf-direct-check/1",
                  "provenance": {"code": "liprobe.stem.multislice.calibrate_multislice via "
                                         "benchmarks/bench_haadf_calibration.py",
                                 "abtem_version": abtem.__version__, "device": "cpu",
                                 "kv": args.kv, "convergence_mrad": args.convergence_mrad,
                                 "thickness_nm_requested": list(thick),
                                 "frozen_phonon_configs": args.configs,
                                 "sites_per_type_per_config": args.sites_per_type,
                                 "seed": args.seed, "wall_time_s": round(elapsed, 1),
                                 "computed_utc": datetime.datetime.now(datetime.UTC)
                                 .isoformat(timespec="seconds")},
                  "rows": rows}
        with open(args.record, "w", encoding="utf-8") as fh:
            json.dump(record, fh, indent=1)
            fh.write("\n")
    print("detector_mrad thickness_nm  R0_direct R0_table  dev% (SE)   k_direct k_table  "
          "dev% (SE)")
    worst = 0.0
    for c in compare(rows, kv=args.kv, convergence_mrad=args.convergence_mrad):
        det = c["detector_mrad"]
        worst = max(worst, abs(c["R0_dev_pct"]), abs(c["k_dev_pct"]))
        print(f"{det[0]:g}-{det[1]:g}       {c['thickness_nm']:8.3f}   {c['R0_direct']:.4f}   "
              f"{c['R0_table']:.4f}  {c['R0_dev_pct']:+5.1f} ({c['R0_dev_se_pct']:.1f})   "
              f"{c['k_direct']:.3f}    {c['k_table']:.3f}  {c['k_dev_pct']:+5.1f} "
              f"({c['k_dev_se_pct']:.1f})")
    print(f"largest deviation {worst:.1f} % (acceptance 10 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

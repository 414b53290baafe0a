"""Scale-out benchmark: the example study run serially and on a local Dask cluster.

Generates the example study (``--scale paper``: 70 specimens x 4 M ions, ~4.5 GB; reused
when already complete in ``--dir``), then times :func:`liprobe.study.pipeline.run_study`
serially (the baseline, measured in the same run) and with
:func:`liprobe.study.scaleout.dask_map` for each ``--workers`` count, and checks that every
output table is byte-identical to the serial run's.

Under ``make bench`` (no arguments) it runs a reduced study (70 specimens x 200 000 ions) so
that it finishes in minutes; run by hand for the paper-scale figure::

    .venv/bin/python benchmarks/bench_scaleout.py --scale paper --workers 2 4 8
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def _tables(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "tables").glob("*.csv"))}


def main(argv: list[str] | None = None) -> None:
    """Generate (or reuse) the study, run it serially and in parallel, print the figures."""
    from liprobe.study.manifest import read_manifest
    from liprobe.study.pipeline import run_study
    from liprobe.study.scaleout import dask_map
    from liprobe.synth.example_study import SCALES, example_study, study_is_complete

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="paper")
    parser.add_argument("--n-ions", type=int, default=None, help="ions per specimen")
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--dir", type=Path, default=None, help="study folder (kept)")
    if argv is None:  # by hand: the command line; under run_all.py: a reduced default
        argv = (sys.argv[1:] if Path(sys.argv[0]).name == Path(__file__).name
                else ["--n-ions", "200000"])
    args = parser.parse_args(argv)
    n_ions = args.n_ions or SCALES[args.scale].n_ions
    temp = None
    if args.dir is None:
        temp = tempfile.TemporaryDirectory(prefix="liprobe-bench-scaleout-")
        root = Path(temp.name) / "study"
    else:
        root = args.dir
    rows = []
    try:
        start = time.perf_counter()
        if study_is_complete(root, scale=args.scale) and args.dir is not None:
            gen = "reused"
        else:
            example_study(root, scale=args.scale, rng=2021, n_ions=n_ions, overwrite=True)
            gen = f"{time.perf_counter() - start:.1f} s"
        manifest = read_manifest(root / "study.toml")
        n_total = len(manifest.specimens) * n_ions

        out = root.parent / f"{root.name}-out-serial"
        start = time.perf_counter()
        run_study(manifest, out, progress=False)
        t_serial = time.perf_counter() - start
        reference = _tables(out)
        rows.append(("serial (baseline)", t_serial, 1.0, "-"))
        for workers in args.workers:
            out_k = root.parent / f"{root.name}-out-w{workers}"
            start = time.perf_counter()
            with dask_map(n_workers=workers) as pmap:
                run_study(manifest, out_k, map_specimens=pmap, progress=False)
            seconds = time.perf_counter() - start
            same = _tables(out_k) == reference
            rows.append((f"dask local cluster, {workers} workers", seconds, t_serial / seconds,
                         "yes" if same else "NO"))
    finally:
        if temp is not None:
            temp.cleanup()
    print(f"liprobe scale-out benchmark: {args.scale} study, {len(manifest.specimens)} "
          f"specimens x {n_ions:,} ions = {n_total / 1e6:.0f} M ions; generation {gen}; "
          f"{os.cpu_count()} CPUs")
    print(f"{'run':<34} {'seconds':>9} {'speed-up':>9} {'tables identical':>17}")
    for name, seconds, speedup, same in rows:
        print(f"{name:<34} {seconds:9.1f} {speedup:9.2f} {same:>17}")


if __name__ == "__main__":
    main()

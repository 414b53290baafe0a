"""Scale-out benchmark: the example study run serially and on a local Dask cluster.

Generates the example study (``--scale paper``: 70 specimens; ``--n-ions`` per specimen;
reused when already complete in ``--dir``), then runs
:func:`liprobe.workflow.pipeline.run_study` serially (the baseline, measured in the same run:
:func:`liprobe.workflow.scaleout.serial_map`) and with
:func:`liprobe.workflow.scaleout.dask_map` for each ``--workers`` count, and prints

- generation time;
- per run: the *map* part (every specimen and every ``[[haadf]]`` image: the work that can
  run in parallel), the *rest* (tables, fits, figures, summary: serial by nature), the
  cluster start + stop, and the total;
- speed-up of the map part and of the whole run against the serial baseline, and the
  Amdahl bound of the whole run for that many workers given the measured serial rest;
- the CPU seconds of this process and its dask workers (reaped when the cluster closes),
  and the CPU the *other* processes of the machine used during each run (in cores; busy
  jiffies of ``/proc/stat`` minus this process and its children): on a shared machine
  this is what the parallel run could not have;
- whether every output table is byte-identical to the serial run's.

Under ``make bench`` (no arguments) it runs a reduced study (70 specimens x 200 000 ions);
run by hand for larger figures::

    .venv/bin/python benchmarks/bench_scaleout.py --n-ions 2000000 --workers 2
    .venv/bin/python benchmarks/bench_scaleout.py --scale paper --workers 2 4 8
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _tables(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "tables").glob("*.csv"))}


def _busy_jiffies() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine from /proc/stat (NaN elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan"), float("nan")
    values = [int(v) for v in fields[:8]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]
    return (sum(values) - idle) / tick, sum(values) / tick


def _own_cpu() -> float:
    """CPU seconds of this process and its reaped children (the dask workers, once closed)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class _TimedMap:
    """Wrap a map function and record the wall time spent inside it."""

    def __init__(self, func: Callable[..., list]) -> None:
        self.func = func
        self.seconds = 0.0

    def __call__(self, *args):
        start = time.perf_counter()
        try:
            return self.func(*args)
        finally:
            self.seconds += time.perf_counter() - start


def _measure(run: Callable[[], tuple[float, float]]) -> dict[str, float]:
    """Total wall time, map time (returned by ``run``) and the other processes' cores."""
    busy0, _ = _busy_jiffies()
    own0 = _own_cpu()
    start = time.perf_counter()
    map_seconds, setup_seconds = run()
    total = time.perf_counter() - start
    busy1, _ = _busy_jiffies()
    ours = _own_cpu() - own0
    others = max(0.0, (busy1 - busy0) - ours) / total
    return {"total": total, "map": map_seconds, "setup": setup_seconds,
            "rest": total - map_seconds - setup_seconds, "others": others, "cpu": ours}


def main(argv: list[str] | None = None) -> None:
    """Generate (or reuse) the study, run it serially and in parallel, print the figures."""
    from liprobe.synth.example_study import SCALES, example_study, study_is_complete
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study
    from liprobe.workflow.scaleout import dask_map, serial_map

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
        if args.dir is not None and study_is_complete(root, scale=args.scale, n_ions=n_ions):
            gen = "reused"
        else:
            example_study(root, scale=args.scale, rng=2021, n_ions=n_ions, overwrite=True)
            gen = f"{time.perf_counter() - start:.1f} s"
        manifest = read_manifest(root / "study.toml")
        n_total = len(manifest.specimens) * n_ions
        n_tasks = len(manifest.specimens) + len(manifest.haadf)

        def serial() -> tuple[float, float]:
            timed = _TimedMap(serial_map)
            run_study(manifest, root.parent / "out-serial", map_specimens=timed,
                      progress=False)
            return timed.seconds, 0.0

        base = _measure(serial)
        reference = _tables(root.parent / "out-serial")
        rows.append(("serial (baseline)", base, "-"))
        for workers in args.workers:
            out = root.parent / f"out-w{workers}"

            def parallel(workers: int = workers, out: Path = out) -> tuple[float, float]:
                start = time.perf_counter()
                with dask_map(n_workers=workers) as pmap:
                    timed = _TimedMap(pmap)
                    started = time.perf_counter() - start
                    run_study(manifest, out, map_specimens=timed, progress=False)
                    inside = time.perf_counter()
                return timed.seconds, started + (time.perf_counter() - inside)

            figures = _measure(parallel)
            rows.append((f"dask local cluster, {workers} workers", figures,
                         "yes" if _tables(out) == reference else "NO"))
    finally:
        if temp is not None:
            temp.cleanup()
    print(f"liprobe scale-out benchmark: {args.scale} study, {len(manifest.specimens)} "
          f"specimens x {n_ions:,} ions = {n_total / 1e6:.0f} M ions ({n_tasks} map tasks "
          f"with the HAADF images); generation {gen}; {os.cpu_count()} CPUs")
    print(f"{'run':<30} {'map s':>7} {'rest s':>7} {'start+stop s':>13} {'total s':>8} "
          f"{'map x':>6} {'total x':>8} {'Amdahl x':>9} {'our CPU s':>10} {'others cores':>13} "
          f"{'identical':>10}")
    for name, f, same in rows:
        workers = 1 if same == "-" else int(name.split(", ")[1].split()[0])
        # whole-run bound: the serial run's map part divided by the workers, its rest kept
        bound = base["total"] / (base["map"] / workers + base["rest"])
        print(f"{name:<30} {f['map']:7.1f} {f['rest']:7.1f} {f['setup']:13.1f} "
              f"{f['total']:8.1f} {base['map'] / f['map']:6.2f} "
              f"{base['total'] / f['total']:8.2f} {bound:9.2f} {f['cpu']:10.1f} "
              f"{f['others']:13.2f} {same:>10}")


if __name__ == "__main__":
    main()

"""Timing and memory of the 3-D analyses on 10 M ions, against plain references.

Run ``.venv/bin/python benchmarks/bench_spatial.py [n_ions] [field,clusters]``. Each stage
runs in its own subprocess (so each peak RSS is its own) on seeded boxes from
:mod:`liprobe.synth.features3d` (density 30 ions/nm^3, 50 x 50 x ~133 nm for 10 M ions):

- ``field``: concentration field (1 nm voxels, 1.5 nm delocalisation) + isosurfaces +
  proxigram (±5 nm) on a box with 40 Li-rich precipitates of radius 4 nm; reference: a
  plain ``numpy.histogramdd`` of all atoms and of Li atoms on the same grid (no smoothing,
  no surfaces), in the same process;
- ``clusters``: maximum-separation method (d_max 0.5 nm, order 1, N_min 20, envelope and
  erosion 0.5 nm, one random-labelling repeat) and our DBSCAN on a box with 2000 clusters of
  radius 1.5 nm (3 % Li matrix); reference: ``sklearn.cluster.DBSCAN`` on the same solute
  positions (eps 0.5, min_samples 2), and a plain cKDTree ``query_pairs`` + connected
  components (linkage only: no baseline, envelope or erosion). The maximum-separation call
  is timed as a whole (wall and CPU) and per step (linkage, baseline linkage, envelope +
  erosion, description); its own peak RSS is read from ``VmHWM`` after a reset.

The machine may be loaded by other work: the ratios to the references measured in the same
process are the figures that travel.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np

TARGETS_S = {"field + isosurface + proxigram": 5.0, "clusters (maxsep + baseline)": 10.0}


def _box(n_ions: int) -> tuple[float, float, float]:
    return (50.0, 50.0, max(n_ions / (30.0 * 2500.0), 20.0))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the peak RSS (VmHWM) where Linux allows it, so a step's own peak shows."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _timed_steps(module, names):
    """Wrap ``module.<name>`` to record (wall, cpu) seconds per call; returns the record."""
    record: dict[str, list[tuple[float, float]]] = {}

    def wrap(name, f):
        def timed(*args, **kwargs):
            t, c = time.perf_counter(), time.process_time()
            out = f(*args, **kwargs)
            record.setdefault(name, []).append((time.perf_counter() - t,
                                                time.process_time() - c))
            return out
        return timed

    for name in names:
        setattr(module, name, wrap(name, getattr(module, name)))
    return record


def stage_field(n_ions: int) -> dict:
    from liprobe.apt.field import concentration_field
    from liprobe.apt.isosurface import find_isosurfaces
    from liprobe.apt.proxigram import proxigram
    from liprobe.apt.ranging import species_per_ion
    from liprobe.synth.features3d import feature_ranges, generate_clusters

    ions, _ = generate_clusters(rng=np.random.default_rng(0), box_nm=_box(n_ions),
                                n_clusters=max(1, int(40 * n_ions / 10_000_000)),
                                radius_nm=4.0, min_gap_nm=2.0,
                                cluster_composition={"Li": 0.6, "Ni": 0.1, "O": 0.3})
    rt = feature_ranges()
    species = species_per_ion(ions.mass_to_charge_da, rt)
    small = ions.take(slice(0, 200_000))
    concentration_field(small, rt, species=species[:200_000])  # warm numba
    rss_data = _peak_mib()
    t0 = time.perf_counter()
    field = concentration_field(ions, rt, element="Li", voxel_nm=1.0, delocalization_nm=1.5,
                                species=species)
    t1 = time.perf_counter()
    surfaces = find_isosurfaces(field, threshold=0.325, min_area_nm2=20.0)
    t2 = time.perf_counter()
    prox = proxigram(ions, rt, surfaces, bin_nm=0.5, distance_range_nm=(-5, 5),
                     species=species)
    t3 = time.perf_counter()
    xyz = ions.xyz_nm
    lo = field.origin_nm
    edges = [lo[a] + np.arange(n + 1) * field.voxel_nm for a, n in enumerate(field.shape)]
    t4 = time.perf_counter()
    total, _ = np.histogramdd(xyz, bins=edges)
    li, _ = np.histogramdd(xyz[species == 0], bins=edges)
    t5 = time.perf_counter()
    return {"stage": "field", "n_ions": ions.n_ions, "grid": list(field.shape),
            "field_s": t1 - t0, "isosurface_s": t2 - t1, "proxigram_s": t3 - t2,
            "total_s": t3 - t0, "reference_histogramdd_s": t5 - t4,
            "n_surfaces": len(surfaces.surfaces),
            "n_closed": sum(s.closed for s in surfaces.surfaces),
            "proxigram_ions": int(prox.ion_counts.sum()), "li_atoms_reference": int(li.sum()),
            "peak_rss_mib": _peak_mib(), "rss_after_data_mib": rss_data}


def stage_clusters(n_ions: int) -> dict:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    from liprobe.apt import clusters as cl
    from liprobe.apt.ranging import species_per_ion
    from liprobe.synth.features3d import feature_ranges, generate_clusters

    n_clusters = max(1, int(2000 * n_ions / 10_000_000))
    ions, truth = generate_clusters(rng=np.random.default_rng(1), box_nm=_box(n_ions),
                                    n_clusters=n_clusters, radius_nm=1.5, min_gap_nm=1.0,
                                    matrix_composition={"Li": 0.03, "Ni": 0.47, "O": 0.5})
    rt = feature_ranges()
    species = species_per_ion(ions.mass_to_charge_da, rt)
    cl.maximum_separation_clusters(ions.take(slice(0, 200_000)), rt, d_max_nm=0.5, n_min=20,
                                   rng=np.random.default_rng(0),
                                   species=species[:200_000])  # warm numba
    rss_data = _peak_mib()
    ion_mib = (ions.xyz_nm.nbytes + ions.mass_to_charge_da.nbytes) / 2**20
    steps = _timed_steps(cl, ("link_solute", "_envelope", "_describe"))
    reset = _reset_peak()
    rss_before = _status_mib("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    # as ``liprobe clusters --method maxsep --dmax-nm 0.5 --order 1 --nmin 20`` runs it:
    # envelope and erosion d_max, one random-labelling repeat
    found = cl.maximum_separation_clusters(ions, rt, d_max_nm=0.5, order=1, n_min=20,
                                           rng=np.random.default_rng(2), species=species)
    t1, c1 = time.perf_counter(), time.process_time()
    maxsep_peak = _status_mib("VmHWM") if reset else None
    steps = {name: list(calls) for name, calls in steps.items()}  # before DBSCAN adds more
    db = cl.dbscan_clusters(ions, rt, eps_nm=0.5, min_samples=2, n_min=20,
                            baseline_repeats=0, species=species)
    t2 = time.perf_counter()
    solute = ions.xyz_nm[species == 0].astype(np.float64)
    t3 = time.perf_counter()
    pairs = cKDTree(solute).query_pairs(0.5, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(len(solute),) * 2)
    labels = connected_components(graph, directed=False)[1]
    n_plain = int(np.sum(np.bincount(labels) >= 20))
    t4 = time.perf_counter()
    link = steps.get("link_solute", [])
    step = {"link": link[0] if link else (0.0, 0.0),
            "baseline link": tuple(map(sum, zip(*link[1:]))) if len(link) > 1 else (0.0, 0.0),
            "envelope + erosion": steps["_envelope"][0] if "_envelope" in steps else (0.0, 0.0),
            "describe": steps["_describe"][0] if "_describe" in steps else (0.0, 0.0)}
    done = tuple(map(sum, zip(*step.values())))
    step["ranging, shuffle, rest"] = (t1 - t0 - done[0], c1 - c0 - done[1])
    out = {"stage": "clusters", "n_ions": ions.n_ions, "n_solute": int(len(solute)),
           "true_clusters": truth.n_clusters, "maxsep_clusters": found.n_clusters,
           "baseline_clusters": found.random_label_baseline.n_clusters,
           "dbscan_clusters": db.n_clusters, "plain_kdtree_clusters": n_plain,
           "maxsep_s": t1 - t0, "maxsep_cpu_s": c1 - c0, "maxsep_steps": step,
           "dbscan_s": t2 - t1, "reference_kdtree_s": t4 - t3,
           "rss_after_data_mib": rss_data, "ion_arrays_mib": ion_mib,
           "maxsep_rss_before_mib": rss_before, "maxsep_peak_rss_mib": maxsep_peak}
    try:
        from sklearn.cluster import DBSCAN
    except ImportError:
        out["reference_sklearn_s"] = None
    else:
        t5 = time.perf_counter()
        ref = DBSCAN(eps=0.5, min_samples=2).fit(solute)
        t6 = time.perf_counter()
        sizes = np.bincount(ref.labels_[ref.labels_ >= 0])
        out["reference_sklearn_s"] = t6 - t5
        out["sklearn_clusters"] = int(np.sum(sizes >= 20))
    out["peak_rss_mib"] = _peak_mib()
    return out


def main() -> None:
    """Run both stages in subprocesses and print the table."""
    n_ions = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    stages = sys.argv[2].split(",") if len(sys.argv) > 2 else ["field", "clusters"]
    results = {}
    for stage in stages:
        proc = subprocess.run([sys.executable, __file__, "--stage", stage, str(n_ions)],
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"stage {stage} failed:\n{proc.stderr}")
        results[stage] = json.loads(proc.stdout.strip().splitlines()[-1])
    if "field" in results:
        _print_field(results["field"])
    if "clusters" in results:
        _print_clusters(results["clusters"])


def _row(name, t, target=None, ref=None, extra=""):
    ratio = "" if ref is None else f"{t / ref:6.2f}"
    print(f"{name:<38} {t:9.2f} {'' if target is None else f'{target:7.1f}':>7} "
          f"{'' if ref is None else f'{ref:14.2f}':>14} {ratio:>6} {extra}")


def _header():
    print(f"{'analysis':<38} {'time (s)':>9} {'target':>7} {'reference (s)':>14} "
          f"{'ratio':>6}")


def _print_field(f):
    print(f"{f['n_ions']:,} ions, grid {f['grid']}; {f['n_surfaces']} isosurfaces "
          f"({f['n_closed']} closed)")
    _header()
    _row("field + isosurface + proxigram", f["total_s"], 5.0, f["reference_histogramdd_s"],
         f"peak RSS {f['peak_rss_mib']:.0f} MiB")
    _row("  field", f["field_s"], None, f["reference_histogramdd_s"])
    _row("  isosurface", f["isosurface_s"])
    _row("  proxigram", f["proxigram_s"])
    print(f"reference: numpy.histogramdd of all and Li atoms on the same grid; RSS after "
          f"generating the data {f['rss_after_data_mib']:.0f} MiB")


def _print_clusters(c):
    print(f"{c['n_ions']:,} ions, {c['n_solute']:,} solute ions; clusters: "
          f"{c['true_clusters']} true, maxsep {c['maxsep_clusters']}, dbscan "
          f"{c['dbscan_clusters']}, plain cKDTree {c['plain_kdtree_clusters']}, sklearn "
          f"{c.get('sklearn_clusters')}, random labels {c['baseline_clusters']:g}")
    _header()
    kd, sk = c["reference_kdtree_s"], c["reference_sklearn_s"]
    _row("clusters (maxsep + baseline, as CLI)", c["maxsep_s"], 10.0, kd,
         f"cpu {c['maxsep_cpu_s']:.2f} s (x cKDTree)")
    for name, (wall, cpu) in c["maxsep_steps"].items():
        _row(f"  {name}", wall, None, None, f"cpu {cpu:.2f} s")
    _row("clusters (dbscan, no baseline)", c["dbscan_s"], 10.0, sk, "(x sklearn)")
    _row("  plain cKDTree linkage (reference)", kd)
    if sk is not None:
        _row("  sklearn DBSCAN eps 0.5, min 2 (ref.)", sk)
    peak = c.get("maxsep_peak_rss_mib")
    print(f"memory: ion arrays {c['ion_arrays_mib']:.0f} MiB; RSS before maxsep "
          f"{c['maxsep_rss_before_mib']:.0f} MiB, peak during maxsep "
          f"{'n/a' if peak is None else f'{peak:.0f} MiB'}; peak of the stage (data "
          f"generation included) {c['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--stage":
        stage = {"field": stage_field, "clusters": stage_clusters}[sys.argv[2]]
        print(json.dumps(stage(int(sys.argv[3]) if len(sys.argv) > 3 else 10_000_000)))
    else:
        main()

"""Timing of the within-specimen APT analyses on 10 M ions.

Run ``.venv/bin/python benchmarks/bench_analysis.py [n_ions]``. Prints the measured time of
each analysis against its target and, for the FDA, against a plain-NumPy implementation of
the same block construction measured in the same run (sort by column then z, rank within
column, ``np.unique`` of block keys, ``np.bincount`` per element).

Data: a seeded cylinder (radius 25 nm) of NCM-like ions in evaporation order with six
Li-enriched lines along z, generated here in NumPy (a few seconds) so that the benchmark
does not depend on the generator's speed.
"""

from __future__ import annotations

import sys
import time

import numpy as np

TARGETS_S = {"profile": 0.2, "fda": 1.0, "features": 10.0}


def _ranges():
    from liprobe.data import Ion, RangeTable

    ions = (Ion("Li", (("Li", 1),)), Ion("O", (("O", 1),)), Ion("O2", (("O", 2),)),
            Ion("Ni", (("Ni", 1),)), Ion("Co", (("Co", 1),)), Ion("Mn", (("Mn", 1),)),
            Ion("NiO", (("Ni", 1), ("O", 1))))
    low = [6.9, 15.9, 31.9, 28.9, 29.4, 27.4, 73.9]
    high = [7.1, 16.1, 32.1, 29.1, 29.6, 27.6, 74.1]
    return RangeTable(ions, low, high, list(range(7)))


def make_cloud(n_ions: int, *, seed: int = 0):
    """Positions (float32) and m/q of ``n_ions`` in a cylinder with Li-rich lines."""
    from liprobe.data import IonTable

    rng = np.random.default_rng(seed)
    radius, density = 25.0, 30.0  # ions per nm^3
    length = n_ions / (density * np.pi * radius**2)
    r = radius * np.sqrt(rng.random(n_ions, dtype=np.float32))
    phi = rng.random(n_ions, dtype=np.float32) * np.float32(2 * np.pi)
    xyz = np.empty((n_ions, 3), np.float32)
    xyz[:, 0] = r * np.cos(phi)
    xyz[:, 1] = r * np.sin(phi)
    xyz[:, 2] = np.sort(rng.random(n_ions, dtype=np.float32)) * np.float32(length)
    p_li = np.full(n_ions, 0.25, np.float32)
    for k in range(6):
        cx, cy = 12.0 * np.cos(k * np.pi / 3), 12.0 * np.sin(k * np.pi / 3)
        near = (xyz[:, 0] - cx) ** 2 + (xyz[:, 1] - cy) ** 2 < 2.0**2
        p_li[near] = 0.6
    # species: Li with p_li, else O, O2, Ni, Co, Mn, NiO in fixed shares
    masses = np.array([16.0, 32.0, 29.0, 29.5, 27.5, 74.0], np.float32)
    share = np.array([0.25, 0.3, 0.3, 0.06, 0.02, 0.07])
    other = rng.choice(6, n_ions, p=share / share.sum())
    mass = np.where(rng.random(n_ions, dtype=np.float32) < p_li, np.float32(7.0),
                    masses[other])
    return IonTable(xyz, mass.astype(np.float32)), length


def fda_numpy(xyz, species, contains, *, block_ions, cell_nm):
    """Plain-NumPy spatial FDA blocks (the baseline): per-block element counts."""
    ranged = species >= 0
    x, y, z = (xyz[ranged, k] for k in range(3))
    sp = species[ranged]
    cx = ((x - x.min()) / cell_nm).astype(np.int64)
    cy = ((y - y.min()) / cell_nm).astype(np.int64)
    col = cy * (cx.max() + 1) + cx
    order = np.lexsort((z, col))
    col_sorted = col[order]
    first = np.searchsorted(col_sorted, col_sorted, side="left")
    block = (np.arange(col_sorted.size) - first) // block_ions
    key = col_sorted * (col_sorted.size // block_ions + 1) + block
    _, inverse, size = np.unique(key, return_inverse=True, return_counts=True)
    counts = np.stack([np.bincount(inverse, weights=contains[sp[order], e])
                       for e in range(contains.shape[1])], axis=1)
    return counts[size == block_ions]


def _time(fn, repeat=3):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    """Run the benchmark and print the table."""
    from liprobe.apt.features import find_line_features
    from liprobe.apt.frequency import frequency_distribution, occupied_volume_nm3
    from liprobe.apt.profiles import concentration_profile
    from liprobe.apt.species import atoms_per_species, species_per_ion

    n_ions = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    t0 = time.perf_counter()
    ions, length = make_cloud(n_ions)
    ranges = _ranges()
    print(f"{n_ions:,} ions, cylinder r = 25 nm, {length:.0f} nm long "
          f"(generated in {time.perf_counter() - t0:.1f} s)")
    species = species_per_ion(ions.mass_to_charge_da, ranges)
    # warm the numba caches on a small slice
    small = ions.take(slice(0, 100_000))
    concentration_profile(small, ranges, bin_nm=1.0)
    concentration_profile(small, ranges, bin_ions=10_000)
    frequency_distribution(small, ranges, block_ions=100)
    find_line_features(small, ranges)

    rows = []
    t_rng, _ = _time(lambda: species_per_ion(ions.mass_to_charge_da, ranges))
    rows.append(("ranging (species_per_ion, shared by all)", t_rng, None, None))
    t_prof, _ = _time(lambda: concentration_profile(ions, ranges, bin_nm=1.0, species=species))
    rows.append(("1D profile, 1 nm bins", t_prof, TARGETS_S["profile"], None))
    t_prof_n, _ = _time(lambda: concentration_profile(ions, ranges, bin_ions=100_000,
                                                      species=species))
    rows.append(("1D profile, 100k-ion bins", t_prof_n, TARGETS_S["profile"], None))
    t_prof_r, _ = _time(lambda: concentration_profile(ions, ranges, bin_nm=1.0), repeat=1)
    rows.append(("1D profile incl. ranging", t_prof_r, None, None))

    volume = occupied_volume_nm3(ions.xyz_nm)
    t_fda, res = _time(lambda: frequency_distribution(ions, ranges, block_ions=100,
                                                      species=species, volume_nm3=volume))
    t_vol, _ = _time(lambda: occupied_volume_nm3(ions.xyz_nm), repeat=1)
    _, atoms = atoms_per_species(ranges)
    contains = (atoms > 0).astype(np.float64)
    t_np, blocks = _time(lambda: fda_numpy(ions.xyz_nm, species, contains, block_ions=100,
                                           cell_nm=res.cell_nm), repeat=1)
    rows.append(("FDA n_b=100, spatial (5 elements)", t_fda, TARGETS_S["fda"], t_np))
    rows.append(("  + occupied-volume estimate", t_vol, None, None))
    t_fda_e, _ = _time(lambda: frequency_distribution(ions, ranges, block_ions=100,
                                                      species=species, method="evaporation"))
    rows.append(("FDA n_b=100, evaporation order", t_fda_e, TARGETS_S["fda"], None))
    t_feat, found = _time(lambda: find_line_features(ions, ranges, species=species), repeat=1)
    rows.append(("line features (Li), 1 nm voxels", t_feat, TARGETS_S["features"], None))

    print(f"{'analysis':<40} {'time (s)':>9} {'target':>7} {'NumPy (s)':>10} {'speed-up':>9}")
    for name, t, target, base in rows:
        target_text = "" if target is None else f"{target:g}"
        base_text = "" if base is None else f"{base:.3f}"
        ratio_text = "" if base is None else f"{base / t:.1f}x"
        print(f"{name:<40} {t:9.3f} {target_text:>7} {base_text:>10} {ratio_text:>9}")
    print(f"FDA: {res.n_blocks} blocks (NumPy baseline {blocks.shape[0]}), Li mu = "
          f"{res.species['Li'].mu:.3f}; features found: {len(found.features)} (6 lines placed)")


if __name__ == "__main__":
    main()

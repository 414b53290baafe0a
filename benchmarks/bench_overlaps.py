"""Timing of the isotope overlap correction of a composition on 10 M ions.

Run ``.venv/bin/python benchmarks/bench_overlaps.py [n_ions]``. Prints, measured in the
same run on the same big-endian float32 m/q array (as a memory-mapped POS file gives it):

- baseline: ``compose`` (one fused ranging pass, what the composition costs anyway);
- the window counting of the isotope fit, as now (one fused pass of the ranging kernel)
  and as before (``np.searchsorted`` over the window edges + ``np.bincount``);
- the whole ``correct_composition`` (background fit, isotope windows, range counts,
  shares and covariances), and its overhead relative to the baseline;
- its two halves: the statistics pass (``overlap_statistics``: isotope-window counts,
  0.05 Da spectrum, range counts; what a streamed file accumulates per chunk), on the whole
  array and summed over 1 M-ion chunks, and the fit from the statistics
  (``correct_composition_from_statistics``).

Data: m/q drawn from the isotope patterns of the NCM species in the generator's default
evaporation shares (plus 1 % constant-TOF background), Gaussian peaks of m/800 FWHM.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def make_mass(n_ions: int, *, seed: int = 0) -> np.ndarray:
    """Big-endian float32 m/q of ``n_ions`` NCM-like ions (seeded)."""
    from liprobe.apt.isotope_patterns import species_pattern

    shares = {"Li+": 0.95, "LiO+": 0.03, "Ni2+": 0.44, "Ni+": 0.28, "NiO+": 0.08,
              "Co2+": 0.08, "Co+": 0.05, "Mn2+": 0.03, "Mn+": 0.02, "O+": 0.42,
              "O2+": 0.47, "O2 2+": 0.16}
    mz, p = [], []
    for name, share in shares.items():
        for m, ab in species_pattern(name):
            mz.append(m)
            p.append(share * ab)
    mz, p = np.array(mz), np.array(p) / np.sum(p)
    rng = np.random.default_rng(seed)
    peak = rng.choice(mz.size, n_ions, p=p)
    mass = mz[peak] * (1 + rng.normal(0, 1 / (800 * 2.3548), n_ions))
    background = rng.random(n_ions) < 0.01
    u = rng.random(int(background.sum()))
    mass[background] = (1 + u * (np.sqrt(120) - 1)) ** 2  # uniform in sqrt(m): constant TOF
    return mass.astype(">f4")


def _searchsorted_windows(mass: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    edges = np.empty(2 * low.size)
    edges[0::2], edges[1::2] = low, high
    pos = np.searchsorted(edges, mass, side="right")
    inside = (pos % 2) == 1
    return np.bincount((pos[inside] - 1) // 2, minlength=low.size)


def _best(func, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    """Print the timing table."""
    from liprobe.apt.composition import compose
    from liprobe.apt.overlap_correction import (
        correct_composition,
        correct_composition_from_statistics,
    )
    from liprobe.apt.overlap_statistics import overlap_statistics
    from liprobe.apt.overlaps import _window_counts
    from liprobe.synth.ranges import ncm_ranges

    n_ions = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    mass = make_mass(n_ions)
    ranges = ncm_ranges()
    comp = compose(mass, ranges)
    correct_composition(mass[:10_000], ranges, compose(mass[:10_000], ranges))  # JIT warm-up
    low = np.arange(10.0, 40.0, 0.5) - 0.1
    high = low + 0.2
    if not np.array_equal(_window_counts(mass, low, high),
                          _searchsorted_windows(mass, low, high)):
        raise SystemExit("window counts differ between the two implementations")
    t_compose = _best(lambda: compose(mass, ranges))
    t_windows = _best(lambda: _window_counts(mass, low, high))
    t_search = _best(lambda: _searchsorted_windows(mass, low, high), repeats=1)
    t_correct = _best(lambda: correct_composition(mass, ranges, comp))
    t_stats = _best(lambda: overlap_statistics(mass, ranges))
    chunk = 1_000_000
    t_chunked = _best(lambda: sum(overlap_statistics(mass[i:i + chunk], ranges)
                                  for i in range(0, mass.size, chunk)))
    stats = overlap_statistics(mass, ranges)
    t_fit = _best(lambda: correct_composition_from_statistics(stats, ranges, comp))
    print(f"overlap correction on {n_ions:,} ions (big-endian float32)")
    print(f"{'step':<50}{'time s':>9}{'x baseline':>12}")
    for label, t in (("baseline: compose (one ranging pass)", t_compose),
                     ("isotope windows: fused kernel (now)", t_windows),
                     ("isotope windows: searchsorted+bincount (before)", t_search),
                     ("correct_composition (whole)", t_correct),
                     ("  statistics pass: overlap_statistics", t_stats),
                     ("  statistics summed over 1 M-ion chunks", t_chunked),
                     ("  fit from statistics (no pass over ions)", t_fit)):
        print(f"{label:<50}{t:>9.3f}{t / t_compose:>12.2f}")


if __name__ == "__main__":
    main()

"""Seeded synthetic specimen counts with known generating Li profiles (test helper).

Each specimen's true Li ratio is the generating profile at its depth times
``1 + spread * N(0, 1)`` (between-specimen spread); its counts are Poisson (metals split
multinomially 0.80/0.15/0.05; Li and O independent Poisson about ratio x expected
metals, as counts from one analysed volume are): counting noise.
The truth of a (sample, depth) group is the generating profile value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def exponential_profile(depth_nm, cycles, *, alpha, length_ref_nm=200.0, cycles_ref=200.0,
                        c_surface=0.3, c_bulk=1.0):
    length = length_ref_nm * (cycles / cycles_ref) ** alpha
    return c_bulk - (c_bulk - c_surface) * np.exp(-np.asarray(depth_nm, float) / length)


def synthetic_specimens(profile, cycles_list, depths_nm, *, rng, replicates=5,
                        metal_atoms=20_000, spread=0.02):
    rows = []
    for cycles in cycles_list:
        for depth in depths_nm:
            truth = float(profile(depth, cycles))
            for rep in range(replicates):
                li_true = truth * (1 + spread * rng.standard_normal())
                metals = rng.poisson(metal_atoms)
                ni, co, mn = rng.multinomial(metals, [0.80, 0.15, 0.05])
                rows.append({"sample": f"N{cycles}", "cycles": cycles, "depth_nm": float(depth),
                             "depth_label": f"{depth:g} nm", "replicate": rep + 1,
                             "truth_li": truth, "Li_count": rng.poisson(li_true * metal_atoms),
                             "Ni_count": ni, "Co_count": co, "Mn_count": mn,
                             "O_count": rng.poisson(1.9 * metal_atoms)})
    return pd.DataFrame(rows)

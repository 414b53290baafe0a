"""Growth law: a known α (1.0 and 0.5) is recovered inside its interval from a synthetic
study (replicate specimens, counting noise, between-specimen spread)."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.study.aggregate import aggregate_specimens
from liprobe.study.growth import fit_growth_law, growth_from_depths
from tests.study.synthetic_counts import exponential_profile, synthetic_specimens

DEPTHS = [0.0, 25, 50, 100, 200, 400, 800, 1600, 3000]


@pytest.mark.parametrize("alpha,other", [(1.0, 0.5), (0.5, 1.0)])
def test_known_alpha_is_recovered(rng, alpha, other):
    table = synthetic_specimens(lambda d, n: exponential_profile(d, n, alpha=alpha),
                                [100, 200, 400], DEPTHS, rng=rng, replicates=5, spread=0.02)
    agg = aggregate_specimens(table, elements=("Li",))
    law = fit_growth_law(agg["cycles"], agg["depth_nm"], agg["Li_mean"], sigma=agg["Li_se"],
                         alpha_grid=np.arange(0.0, 2.0 + 1e-9, 0.02))
    assert law.alpha.contains(alpha)
    assert not law.alpha.contains(other)
    assert law.alpha.ci_high - law.alpha.ci_low < 0.5
    # the fixed-α model at the truth is not rejected; the other one is
    assert law.comparison(f"alpha={alpha:g}").p_value > 0.01
    assert law.comparison(f"alpha={other:g}").p_value < 0.01
    assert law.comparison(f"alpha={alpha:g}").delta_aicc < law.comparison(f"alpha={other:g}").delta_aicc


def test_two_step_alpha_from_exact_depths():
    # depths exactly proportional to N^0.7 -> alpha 0.7; SE from the depth SEs
    cycles = np.array([100.0, 300.0])
    depth = 50.0 * cycles**0.7
    est = growth_from_depths(cycles, depth, 0.1 * depth)
    assert est.value == pytest.approx(0.7)
    assert est.se == pytest.approx(np.sqrt(2) * 0.1 / np.log(3))

"""Study figures render from result objects and write PNG and SVG."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liprobe.report.study_figures import write_study_figures
from liprobe.study.analysis import analyze_gradients


def test_figures_written_for_available_data(tmp_path):
    depth = np.array([0.0, 50, 200, 800, 2500] * 2)
    cycles = np.repeat([100, 300], 5)
    li = 1.0 - 0.7 * np.exp(-depth / (100.0 * cycles / 100))
    gradients = analyze_gradients(cycles, depth, li + 0.01 * np.tile([1, -1, 1, -1, 1], 2),
                                  models=("exponential",))
    table2 = pd.DataFrame({"cycles": cycles, "depth_nm": depth, "Li_mean": li,
                           "Li_sd": np.full(10, 0.02)})
    paths = write_study_figures(tmp_path, tables={"table2": table2}, gradients=gradients)
    names = sorted(p.name for p in paths)
    assert names == ["gradient_fits.png", "gradient_fits.svg", "growth_law.png",
                     "growth_law.svg", "li_vs_depth.png", "li_vs_depth.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert (tmp_path / "li_vs_depth.svg").read_text().lstrip().startswith("<?xml")

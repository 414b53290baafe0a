"""The published-table analysis: gradient fits, growth law and particle integral on the
ratios printed in Chae et al., Nat. Commun. (2021), Tables 1 and 2.

The package carries copies of the tables (``liprobe/study/data/``); a folder with the same
file names may be given instead. Only the Li column of Table 2 at stated depths is
fitted; "< 100 nm" is placed at its midpoint (50 nm) unless ``bound_depth="bound"``.
The paper tabulates no standard deviations, so every interval comes from the scatter
about the fits: read them as what four to eight depths can support.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.cell.icp import wt_pct_to_ratios
from liprobe.errors import LiprobeError, MissingFileError
from liprobe.study.analysis import GradientStudy, analyze_gradients
from liprobe.study.manifest import parse_depth

__all__ = ["PublishedAnalysis", "published_tables", "analyze_published"]

_DATA = Path(__file__).resolve().parent / "data"


def published_tables(reference_dir: str | os.PathLike | None = None) -> tuple[Any, Any, Any]:
    """(table1, table2, cell) DataFrames from ``reference_dir`` or the packaged copies."""
    import pandas as pd

    folder = _DATA if reference_dir is None else Path(reference_dir)
    frames = []
    for name in ("table1_icp_aes.csv", "table2_apt.csv", "cell.csv"):
        path = folder / name
        if not path.is_file():
            raise MissingFileError(f"{path}: no such file; --reference must be a folder "
                                   "holding table1_icp_aes.csv, table2_apt.csv and cell.csv")
        frames.append(pd.read_csv(path))
    return frames[0], frames[1], frames[2]


@dataclass(frozen=True, eq=False)
class PublishedAnalysis:
    """The analysis of the published tables."""

    icp: Any
    profile_points: Any
    gradients: GradientStudy
    bound_depth: str
    depth_conventions: dict | None = None


def analyze_published(reference_dir: str | os.PathLike | None = None, *,
                      bound_depth: str = "midpoint", radius_nm: float = 5000.0,
                      models: tuple[str, ...] = ("exponential", "erf", "two_scale", "logistic")
                      ) -> PublishedAnalysis:
    """Fit the published Table 2 Li profiles and compare their particle integrals with Table 1.

    Examples
    --------
    >>> result = analyze_published()  # doctest: +SKIP
    >>> result.gradients.growth["exponential"].verdict  # doctest: +SKIP
    """
    import pandas as pd

    table1, table2, cell = published_tables(reference_dir)
    wt = {el: table1[f"{el.lower()}_wt_pct"].to_numpy(np.float64) for el in
          ("Li", "Ni", "Co", "Mn")}
    ratios = wt_pct_to_ratios(wt).ratios
    icp = pd.DataFrame({"sample": table1["specimen"], "cycles": table1["cycles"],
                        **{f"{el}_wt_pct": v for el, v in wt.items()},
                        **{el: v for el, v in ratios.items()},
                        "li_ratio_printed": table1["li_ratio"]})
    rows = []
    for _, rec in table2.iterrows():
        depth = rec["depth_nm"]
        if not np.isfinite(depth):
            parsed = parse_depth(str(rec["depth_as_reported"]), bound_depth=bound_depth)
            depth = parsed.depth_nm
        rows.append({"sample": rec["specimen"], "cycles": int(rec["cycles"]),
                     "region": rec["region"], "depth_as_reported": rec["depth_as_reported"],
                     "depth_nm": float(depth), "li": float(rec["li"])})
    points = pd.DataFrame(rows)
    icp_li = {int(c): float(v) for c, v in zip(icp["cycles"], icp["Li"], strict=True)}
    pristine = icp_li.get(0, math.nan)
    facts = dict(zip(cell["quantity"], cell["value"], strict=True))
    retention = {}
    if "retention_after_300_cycles" in facts:
        retention[300] = float(facts["retention_after_300_cycles"]) / 100.0
    gradients = analyze_gradients(points["cycles"].to_numpy(), points["depth_nm"].to_numpy(),
                                  points["li"].to_numpy(), sigma=None, models=models,
                                  radius_nm=radius_nm, icp_li=icp_li, pristine_li=pristine,
                                  retention=retention)
    return PublishedAnalysis(icp, points, gradients, bound_depth,
                             _convention_sensitivity(table2, gradients.best_growth_model))


def _convention_sensitivity(table2: Any, model: str | None) -> dict:
    """The free-α growth law of ``model`` under each reading of "< 100 nm".

    ``midpoint`` (50 nm), ``bound`` (100 nm) and ``exclude`` (the bounded rows left out):
    the published depth convention is not stated, so the exponent's interval is shown
    for each.
    """
    from liprobe.study.growth import fit_growth_law

    if model is None:
        return {}
    out = {}
    for convention in ("midpoint", "bound", "exclude"):
        cyc, dep, li = [], [], []
        for _, rec in table2.iterrows():
            depth = rec["depth_nm"]
            if not np.isfinite(depth):
                parsed = parse_depth(str(rec["depth_as_reported"]),
                                     bound_depth="midpoint" if convention == "exclude"
                                     else convention)
                if convention == "exclude" and math.isfinite(parsed.depth_nm) \
                        and parsed.label.strip().startswith("<"):
                    continue
                depth = parsed.depth_nm
            if np.isfinite(depth) and int(rec["cycles"]) > 0:
                cyc.append(int(rec["cycles"]))
                dep.append(float(depth))
                li.append(float(rec["li"]))
        try:
            law = fit_growth_law(np.array(cyc, float), np.array(dep), np.array(li), model=model)
        except LiprobeError as exc:  # a convention may leave too few points: say so
            out[convention] = {"error": str(exc)}
            continue
        out[convention] = {**law.alpha.as_dict("alpha"), "verdict": law.verdict,
                           "rejected": law.rejected, "n_points": law.n_points}
    return out

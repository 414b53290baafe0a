"""Aggregation over replicate specimens: the Table 2 analogue of a study.

For each sample and depth, and each element X, from the specimens' ion counts:

- ``X_mean``, ``X_sd`` (ddof = 1), ``n`` and ``X_se = X_sd / sqrt(n)`` of the
  metal-normalised ratios ``r_X = N_X / Σ_T N_T`` across replicate specimens (the
  between-specimen spread, which the paper plots as error bars);
- ``X_counting_se = sqrt(Σ σ_i²) / n``: the part of the SE that counting statistics alone
  explain (σ_i the Poisson error of specimen i);
- ``X_pooled`` and ``X_pooled_sigma``: the ratio of the summed counts and its counting
  error (the "pooled counting error"), propagated from the specimens' own σ (below).

A ``X_se`` much larger than ``X_counting_se`` means real specimen-to-specimen variation.

Every ratio and σ comes from :func:`liprobe.counting.ratios_with_sigma` (one zero-count
rule, Ni + Co + Mn by default). A specimen's ``X_sigma`` is taken from its row when the
pipeline wrote one (the composition's full covariance: molecular ions, overlap shares);
only a table without it is filled from the atom counts, treated as independent Poisson
counts (exact for monatomic ions, too small for O carried by O2 ions).

The pooled σ propagates the specimens' σ (so the same multinomial-over-ions statistics,
molecular ions and overlap shares included): specimens are independent, so the summed atom
counts have covariance Σ_i C_i, and with the gradient of ``Σ a_X / Σ D`` at specimen i
equal to ``D_i / D`` times that of its own ratio (to first order, the specimens sharing
one composition), ``σ_pooled² = Σ_i (D_i / D)² σ_i²`` (D_i the specimen's denominator
atoms, D their sum): :func:`pooled_ratio_sigma`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["ratio_from_counts", "specimen_ratios", "aggregate_specimens", "table2_layout",
           "depth_profile_points", "pooled_ratio_sigma"]

_GROUP = ["sample", "cycles", "depth_label", "depth_nm"]


def ratio_from_counts(counts: Mapping[str, float | np.ndarray], element: str, *,
                      normalize_to: Sequence[str] = ("Ni", "Co", "Mn")
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Ratio ``N_X / Σ_T N_T`` and its counting σ from atom counts treated as independent
    Poisson counts (:func:`liprobe.counting.ratios_with_sigma`; a zero count has σ = 1/D,
    an empty denominator NaN)."""
    from liprobe.counting import ratios_with_sigma

    if element not in counts:
        raise ParameterError(f"no counts for {element!r}; have {', '.join(counts)}")
    missing = [el for el in normalize_to if el not in counts]
    if missing:
        raise ParameterError(f"no counts for {', '.join(missing)}; have {', '.join(counts)}")
    names = tuple(dict.fromkeys((element, *normalize_to)))
    stacked = np.stack(np.broadcast_arrays(*(np.asarray(counts[el], np.float64)
                                             for el in names)), axis=-1)
    r, s = ratios_with_sigma(stacked, names, tuple(normalize_to))
    return r[..., 0], s[..., 0]


def pooled_ratio_sigma(denominator_atoms: np.ndarray, sigmas: np.ndarray) -> float:
    """Counting σ of the pooled ratio ``Σ a_X / Σ D`` from the specimens' own ratio σ.

    ``sqrt(Σ (D_i / D)² σ_i²)``: independent specimens, first-order delta method with the
    specimens' full covariances (module docstring). NaN when any σ or count is NaN.

    Examples
    --------
    >>> round(pooled_ratio_sigma(np.array([100.0, 300.0]), np.array([0.04, 0.02])), 4)
    0.018
    """
    d = np.asarray(denominator_atoms, np.float64)
    s = np.asarray(sigmas, np.float64)
    total = d.sum()
    if not total > 0:
        return math.nan
    return float(np.sqrt(np.sum((d / total) ** 2 * s ** 2)))


def specimen_ratios(counts_table: Any, *, elements: Sequence[str],
                    normalize_to: Sequence[str] = ("Ni", "Co", "Mn")) -> Any:
    """Add ``X`` and ``X_sigma`` columns from ``X_count`` columns (a copy is returned).

    Columns already present (a study's specimens table, whose σ includes the molecular
    ions and overlap shares) are kept; missing ones are computed from the counts.
    """
    table = counts_table.copy()
    counts = {el: table[f"{el}_count"].to_numpy(np.float64) for el in
              {*elements, *normalize_to}}
    for el in elements:
        if el in table.columns and f"{el}_sigma" in table.columns:
            continue
        r, s = ratio_from_counts(counts, el, normalize_to=normalize_to)
        table[el] = r
        table[f"{el}_sigma"] = s
    return table


def aggregate_specimens(specimens: Any, *, elements: Sequence[str] = ("Li", "Ni", "Co", "Mn",
                                                                       "O"),
                        normalize_to: Sequence[str] = ("Ni", "Co", "Mn")) -> Any:
    """Mean ± SD, n, SE, counting SE and pooled ratio per sample and depth.

    Parameters
    ----------
    specimens : pandas.DataFrame
        One row per specimen with ``sample, cycles, depth_label, depth_nm`` and
        ``<X>_count`` for every element in ``elements`` and ``normalize_to``.
    elements, normalize_to : sequences of str, keyword-only

    Returns
    -------
    pandas.DataFrame
        One row per (sample, depth), sorted by cycles then depth.
    """
    import pandas as pd

    needed = set(_GROUP) | {f"{el}_count" for el in (*elements, *normalize_to)}
    missing = sorted(needed - set(specimens.columns))
    if missing:
        raise ParameterError(f"specimen table lacks columns {', '.join(missing)}")
    table = specimen_ratios(specimens, elements=elements, normalize_to=normalize_to)
    table["depth_nm"] = table["depth_nm"].astype(np.float64)
    rows = []
    for key, group in table.groupby(_GROUP, sort=False, dropna=False):
        row: dict[str, Any] = dict(zip(_GROUP, key, strict=True))
        n = len(group)
        row["n"] = n
        pooled = {el: group[f"{el}_count"].sum() for el in {*elements, *normalize_to}}
        denominator = np.sum([group[f"{el}_count"].to_numpy(np.float64)
                              for el in normalize_to], axis=0)
        for el in elements:
            values = group[el].to_numpy(np.float64)
            sigmas = group[f"{el}_sigma"].to_numpy(np.float64)
            sd = float(np.std(values, ddof=1)) if n > 1 else math.nan
            row[f"{el}_mean"] = float(values.mean())
            row[f"{el}_sd"] = sd
            row[f"{el}_se"] = sd / math.sqrt(n) if n > 1 else math.nan
            row[f"{el}_counting_se"] = float(np.sqrt(np.sum(sigmas**2)) / n)
            r, _ = ratio_from_counts(pooled, el, normalize_to=normalize_to)
            row[f"{el}_pooled"] = float(r)
            row[f"{el}_pooled_sigma"] = pooled_ratio_sigma(denominator, sigmas)
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.sort_values(["cycles", "depth_nm", "sample"], na_position="first",
                           kind="stable").reset_index(drop=True)


def table2_layout(aggregated: Any, *, elements: Sequence[str] = ("Li", "Ni", "Co", "Mn", "O"),
                  decimals: int = 2) -> Any:
    """The paper's Table 2 layout: one row per sample and region, ``mean ± SD`` per element.

    Regions are numbered ``R0, R1, ...`` by depth within a sample (``R0`` only where a
    specimen sits at the surface; bulk specimens are ``R``), as in Chae et al. (2021).
    """
    import pandas as pd

    rows = []
    for (sample, cycles), group in aggregated.groupby(["sample", "cycles"], sort=False):
        group = group.sort_values("depth_nm", na_position="first")
        start = 0 if (group["depth_nm"] == 0).any() else 1
        index = start
        for _, rec in group.iterrows():
            bulk = not np.isfinite(rec["depth_nm"])
            region = "R" if bulk and len(group) == 1 else f"R{index}"
            if not bulk or len(group) > 1:
                index += 1
            row = {"specimen": sample, "cycles": cycles, "region": region,
                   "depth_as_reported": rec["depth_label"], "n": int(rec["n"])}
            for el in elements:
                mean, sd = rec[f"{el}_mean"], rec[f"{el}_sd"]
                text = f"{mean:.{decimals}f}"
                if np.isfinite(sd):
                    text += f" ± {sd:.{decimals}f}"
                row[el.lower()] = text
            rows.append(row)
    return pd.DataFrame(rows)


def depth_profile_points(aggregated: Any, element: str = "Li") -> dict[int, tuple[np.ndarray,
                                                                                  np.ndarray,
                                                                                  np.ndarray]]:
    """``{cycles: (depth_nm, mean, se)}`` of the specimens with a finite depth."""
    out = {}
    for cycles, group in aggregated.groupby("cycles"):
        group = group[np.isfinite(group["depth_nm"].to_numpy(np.float64))]
        if len(group) == 0:
            continue
        group = group.sort_values("depth_nm")
        out[int(cycles)] = (group["depth_nm"].to_numpy(np.float64),
                            group[f"{element}_mean"].to_numpy(np.float64),
                            group[f"{element}_se"].to_numpy(np.float64))
    return out

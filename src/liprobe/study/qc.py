"""Quality checks across a study: the expected depth gradient allowed, one multiplicity
correction over every specimen's checks.

A study runs every check on every specimen (``~5 x n_specimens`` tests): at a per-check
5 % level about one in twenty would warn on clean data. :func:`adjust_study_qc` corrects
the whole family at once (Holm: family-wise error rate; Benjamini-Hochberg: false-discovery
rate), so that a clean study warns on at most ``alpha`` of studies (Holm) or with at most
``alpha`` of its warnings false (BH). :func:`li_trend_against_fit` re-runs the Li trend
check of a specimen against the study's fitted depth profile (the gradient the study
expects), where one was fitted for its cycle count and its depth is known; bulk and pristine
specimens keep the check against a constant (known homogeneity). Each row says which.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from liprobe.apt.quality import QualityCheck, decide, li_trend_check

__all__ = ["adjust_study_qc", "li_trend_against_fit"]


def li_trend_against_fit(profile: dict[str, Sequence[float]], *, depth_top_nm: float,
                         fit: Any, tolerance: float = 0.05) -> QualityCheck | None:
    """The ``li_trend`` check of a specimen's profile against a fitted depth profile.

    ``profile`` holds the specimen's ``start_nm``, ``end_nm``, ``Li_ratio`` and
    ``sigma_Li_ratio`` per bin (distance from the specimen top); ``fit`` has
    ``predict(depth_nm)`` (a :class:`~liprobe.study.gradient.GradientFit`). None when the
    profile lacks the columns or has fewer than 3 usable bins.
    """
    need = ("start_nm", "end_nm", "Li_ratio", "sigma_Li_ratio")
    if any(k not in profile for k in need) or not math.isfinite(depth_top_nm):
        return None
    start = np.asarray(profile["start_nm"], np.float64)
    end = np.asarray(profile["end_nm"], np.float64)
    ratio = np.asarray(profile["Li_ratio"], np.float64)
    sigma = np.asarray(profile["sigma_Li_ratio"], np.float64)
    if np.count_nonzero(np.isfinite(ratio) & (sigma > 0)) < 3:
        return None
    return li_trend_check(0.5 * (start + end), ratio, sigma,
                          span_nm=float(end[-1] - start[0]), tolerance=tolerance,
                          expected_li_ratio=lambda x: fit.predict(depth_top_nm + x))


def adjust_study_qc(rows: list[dict[str, Any]], *, correction: str = "holm",
                    alpha: float = 0.05) -> tuple[list[dict[str, Any]], str]:
    """Apply one multiplicity correction across every QC row of a study.

    ``rows`` are the QC table rows (``check``, ``verdict``, ``value``, ``message``,
    ``p_value``, ``exceeds_tolerance``, ``hint``); rows without a p-value (skipped checks,
    notes) are kept as they are. Returns the rows with ``adjusted_p`` and the verdicts
    re-decided, and a sentence stating the correction.
    """
    tested = [k for k, r in enumerate(rows) if math.isfinite(float(r.get("p_value", math.nan)))
              and r.get("verdict") in ("pass", "warn")]
    checks = [QualityCheck(rows[k]["check"], "pass", float(rows[k]["value"]), (math.nan,) * 2,
                           math.nan, str(rows[k]["message"]), p_value=float(rows[k]["p_value"]),
                           exceeds_tolerance=bool(rows[k].get("exceeds_tolerance", True)),
                           hint=str(rows[k].get("hint", ""))) for k in tested]
    out = [dict(r) for r in rows]
    for k, check in zip(tested, decide(checks, correction=correction, alpha=alpha)):
        out[k].update(verdict=check.verdict, adjusted_p=check.adjusted_p,
                      message=check.message)
    name = {"holm": "Holm (family-wise error rate)",
            "bh": "Benjamini-Hochberg (false-discovery rate)"}[correction]
    statement = (f"QC verdicts corrected for multiplicity across the study: {name} over "
                 f"{len(tested)} checks at alpha = {alpha}; a check warns when its adjusted "
                 "p-value is below alpha and its deviation exceeds the check's tolerance")
    return out, statement

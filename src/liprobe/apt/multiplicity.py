"""Multiplicity corrections of many checks at once: Holm (family-wise error rate) and
Benjamini-Hochberg (false-discovery rate), for the quality checks of a specimen or a study.

References
----------
Holm, Scand. J. Statist. 6 (1979) 65. Benjamini & Hochberg, J. R. Statist. Soc. B 57 (1995)
289.
"""

from __future__ import annotations

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["CORRECTIONS", "adjust_p_values"]

#: Multiplicity corrections: Holm (family-wise error rate) and Benjamini-Hochberg (false
#: discovery rate).
CORRECTIONS = ("holm", "bh")


def adjust_p_values(p_values, method: str = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values (NaN entries are left out of the family).

    ``"holm"``: Holm's step-down adjustment, controls the family-wise error rate;
    ``"bh"``: Benjamini-Hochberg step-up, controls the false-discovery rate. A check warns
    when its adjusted p-value is below α.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ParameterError(f"correction={method!r}: use one of {', '.join(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adjusted = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
    values = np.empty(m)
    values[order] = np.minimum(adjusted, 1.0)
    out[ok] = values
    return out

"""Sentences the report states from ``summary.json`` (its keys as the results schema
declares them): the growth law and the Li site model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from liprobe.report._html_parts import format_value

__all__ = ["growth_law_statement", "li_site_model_statement"]


def _alpha_sentence(entry: Mapping[str, Any], alpha: float, label: str) -> str:
    """One shape's alpha with its 95 % interval (``alpha_ci_low``, ``alpha_ci_high``; a
    null end is unbounded) and the pipeline's verdict."""
    low, high = _as_float(entry.get("alpha_ci_low")), _as_float(entry.get("alpha_ci_high"))
    interval = (-math.inf if low is None else low, math.inf if high is None else high)
    text = f"{label}depleted depth ∝ N^α with α = {_fixed(alpha)}"
    if not any(math.isfinite(v) for v in interval):
        text += " (no interval could be computed: treat α as unconstrained)"
    elif not all(math.isfinite(v) for v in interval):
        bound = (f"at least {_fixed(interval[0])}" if math.isfinite(interval[0])
                 else f"at most {_fixed(interval[1])}")
        text += f" (95 % interval: {bound}; the other side is not constrained by the data)"
    else:
        text += f" (95 % interval {_fixed(interval[0])} to {_fixed(interval[1])})"
    verdict = entry.get("verdict")
    if isinstance(verdict, str) and verdict:
        # the pipeline's verdict restates alpha first ("α = ... (95% CI ...): <verdict>")
        if verdict.startswith("α") and ": " in verdict:
            verdict = verdict.split(": ", 1)[1]
        text += f"; {verdict}"
    return text + "."


def _fixed(value: float) -> str:
    """Exponents are shown to two decimals (0.00, not 9.9e-22)."""
    return f"{value:.2f}"


def li_site_model_statement(model: Mapping[str, Any]) -> str:
    k = _as_float(model.get("k"))
    low, high = _as_float(model.get("k_ci_low")), _as_float(model.get("k_ci_high"))
    text = f"Li site model Li = Li0 (1 - k f): k = {format_value(k, digits=3)}"
    if low is not None and high is not None:
        text += f" (95 % interval {format_value(low, digits=3)} to {format_value(high, digits=3)})"
    return text + "."


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def growth_law_statement(summary: Mapping[str, Any]) -> str | None:
    """The sentence(s) stating the growth exponent alpha with its interval, from ``summary``.

    Reads the keys the results schema declares (``docs/results.md``): ``growth_headline``
    when the run wrote one, else the ``alpha`` block (per profile shape: ``alpha``,
    ``alpha_ci_low``, ``alpha_ci_high``, ``verdict``), the ``best_growth_model`` shape
    first. Returns None when neither holds an alpha.

    Examples
    --------
    >>> growth_law_statement({"alpha": {"erf": {"alpha": 1.02, "alpha_ci_low": 0.8,
    ...                                         "alpha_ci_high": 1.25}}})
    'Growth law (erf profile): depleted depth ∝ N^α with α = 1.02 (95 % interval 0.80 to 1.25).'
    """
    headline = summary.get("growth_headline")
    if isinstance(headline, str) and headline:
        return headline
    block = summary.get("alpha")
    if not isinstance(block, Mapping):
        return None
    best = summary.get("best_growth_model")
    sentences = []
    for shape in sorted(block, key=lambda k: (str(k) != str(best), str(k))):
        entry = block[shape]
        value = _as_float(entry.get("alpha")) if isinstance(entry, Mapping) else None
        if value is not None:
            sentences.append(_alpha_sentence(entry, value, f"Growth law ({shape} profile): "))
    return " ".join(sentences) if sentences else None

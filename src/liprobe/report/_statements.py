"""Sentences the report states from ``summary.json``: the growth law and the Li site model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from liprobe.report._html_parts import format_value

__all__ = ["growth_law_statement", "li_site_model_statement"]


def _find(summary: Mapping[str, Any], key: str) -> Any:
    """First value stored under ``key`` anywhere in a nested mapping (depth-first)."""
    if key in summary:
        return summary[key]
    for value in summary.values():
        if isinstance(value, Mapping):
            found = _find(value, key)
            if found is not None:
                return found
    return None


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            return float(value[0]), float(value[1])
        except (TypeError, ValueError):
            return None
    return None


def _alpha_sentence(source: Mapping[str, Any], alpha: float, label: str) -> str:
    level = _find(source, "confidence") or _find(source, "ci_level") or 0.95
    try:
        level_pct = float(level) * 100 if float(level) <= 1 else float(level)
    except (TypeError, ValueError):
        level_pct = 95.0
    interval = _pair(_find(source, "alpha_ci")) or _pair(_find(source, "ci")) or _pair(
        _find(source, "interval"))
    if interval is None:
        for low_key, high_key in (("alpha_ci_low", "alpha_ci_high"), ("alpha_low", "alpha_high"),
                                  ("ci_low", "ci_high"), ("low", "high")):
            if low_key in source or high_key in source:
                low, high = _as_float(source.get(low_key)), _as_float(source.get(high_key))
                interval = (-math.inf if low is None else low, math.inf if high is None else high)
                break
    if interval is None:
        se = _find(source, "alpha_se") or _find(source, "se") or _find(source, "stderr")
        if se is not None:
            interval = (alpha - 1.96 * float(se), alpha + 1.96 * float(se))
            level_pct = 95.0
    text = f"{label}depleted depth ∝ N^α with α = {_fixed(alpha)}"
    if interval is None or not any(math.isfinite(v) for v in interval):
        text += " (no interval could be computed: treat α as unconstrained)"
    elif not all(math.isfinite(v) for v in interval):
        bound = (f"at least {_fixed(interval[0])}" if math.isfinite(interval[0])
                 else f"at most {_fixed(interval[1])}")
        text += (f" ({format_value(level_pct, digits=3)} % interval: {bound}; the other side "
                 "is not constrained by the data)")
    else:
        text += (f" ({format_value(level_pct, digits=3)} % interval "
                 f"{_fixed(interval[0])} to {_fixed(interval[1])})")
    verdict = source.get("verdict")
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

    Understands the study pipeline's ``alpha`` block (one entry per profile shape with
    ``value``, ``ci_low``, ``ci_high``, ``verdict``; ``best_growth_model`` names the preferred
    one, stated first) and simpler forms: a ``growth_law`` mapping with ``alpha`` and an
    interval as ``alpha_ci`` (pair), ``alpha_ci_low``/``alpha_ci_high`` or ``alpha_se`` (then
    ±1.96 SE). Returns None when no alpha is found.

    Examples
    --------
    >>> growth_law_statement({"growth_law": {"alpha": 1.02, "alpha_ci": [0.8, 1.25]}})
    'Growth law: depleted depth ∝ N^α with α = 1.02 (95 % interval 0.80 to 1.25).'
    """
    headline = summary.get("growth_headline")
    if isinstance(headline, str) and headline:
        return headline
    block = summary.get("alpha")
    if isinstance(block, Mapping) and block and all(isinstance(v, Mapping)
                                                    for v in block.values()):
        best = summary.get("best_growth_model")
        best_shape = best.get("shape") if isinstance(best, Mapping) else best
        shapes = sorted(block, key=lambda k: (str(k) != str(best_shape), str(k)))
        sentences = []
        for shape in shapes:
            entry = block[shape]
            value = _as_float(entry.get("value", entry.get("alpha")))
            if value is None:
                continue
            sentences.append(_alpha_sentence(entry, value, f"Growth law ({shape} profile): "))
        return " ".join(sentences) if sentences else None
    grown = summary.get("growth_law")
    source: Mapping[str, Any] = grown if isinstance(grown, Mapping) else summary
    alpha = _find(source, "alpha")
    if isinstance(alpha, Mapping):
        source, alpha = alpha, alpha.get("value", alpha.get("estimate"))
    value = _as_float(alpha)
    if value is None:
        return None
    return _alpha_sentence(source, value, "Growth law: ")



"""Fractions and ratios of profile bins: thin names over :mod:`liprobe.counting`.

Kept for the modules that import them (profiles, features, quality, scale-out); the one
implementation, its zero-count rule and its default denominator live in
:mod:`liprobe.counting`.
"""

from __future__ import annotations

from liprobe.counting import (
    DEFAULT_DENOMINATOR,
    denominator_for,
    fractions_with_sigma,
    ratios_with_sigma,
)

__all__ = ["default_denominator", "fractions_with_sigma", "ratios_with_sigma"]


def default_denominator(elements: tuple[str, ...], normalize_to) -> tuple[str, ...]:
    """Elements of the ratio denominator (:func:`liprobe.counting.denominator_for`); an
    empty tuple, not an error, when no default metal is present (ratios are then NaN)."""
    if normalize_to is None and not any(m in elements for m in DEFAULT_DENOMINATOR):
        return ()
    return denominator_for(elements, normalize_to)

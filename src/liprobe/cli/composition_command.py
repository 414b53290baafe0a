"""``liprobe composition``: ion counts, atomic fractions and ratios of one ion file.

The one-shot command users run most, so it is a plain click command: its start-up
imports click, NumPy and the liprobe modules that compute the composition, nothing else
(no typer, pydantic, rich, SciPy or numba; ``tests/test_startup.py`` checks it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from liprobe.cli._output import emit, fmt, text_table
from liprobe.errors import ParameterError, RangeOverlapError

__all__ = ["composition_payload", "composition_text", "CLICK_COMMANDS"]

#: Help of ``--allow-unknown-elements`` (also an option of ``liprobe ranges``).
ALLOW_UNKNOWN_HELP = ("Read placeholder symbols of an RRNG (A, Ab ...) as named ions without "
                      "atoms, with a warning, instead of rejecting the file.")


def _elements_option(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise ParameterError(f"--normalize-to {value!r} names no element; e.g. Ni,Co,Mn")
    return names


def composition_payload(path: Path, ranges_path: Path, *, normalize_to: str | None = None,
                        overlap: str = "error", overlap_correction: str = "isotopes",
                        correct_losses: bool = False,
                        allow_unknown_elements: bool = False) -> dict[str, Any]:
    """``liprobe composition`` payload (see :meth:`Composition.to_dict`), computed as a
    study computes it (:func:`liprobe.apt.overlap_correction.composition_of`).

    ``systematics`` reports, beside the counting σ, the atoms each element loses beyond
    its range windows (thermal tails) and to detector dead time (when the file has
    multi-hit data), as fractions with σ (:mod:`liprobe.apt.losses`); with
    ``correct_losses`` they are put back into the composition.
    """
    from liprobe.apt.losses import estimate_dead_time_loss, estimate_window_loss
    from liprobe.apt.overlap_correction import composition_of
    from liprobe.apt.spectrum import background_of
    from liprobe.io import read_ions, read_ranges

    ranges = read_ranges(ranges_path, allow_unknown_elements=allow_unknown_elements)
    ions = read_ions(path)
    background = background_of(ions.mass_to_charge_da)  # one fit for both estimates
    try:
        result, correction = composition_of(ions, ranges, overlap=overlap,
                                            overlap_correction=overlap_correction,
                                            background=background)
    except RangeOverlapError as exc:
        raise RangeOverlapError(f"{ranges_path}: {exc}") from exc
    losses = {"window": estimate_window_loss(ions, ranges, background=background)}
    if "ions_per_pulse" in ions.fields:
        losses["dead_time"] = estimate_dead_time_loss(ions, ranges, overlap=overlap)
    systematics = {name: {el: {"lost_fraction": v, "sigma": s}
                          for el, (v, s) in loss.element_loss(result).items()}
                   for name, loss in losses.items()}
    if correct_losses:
        for loss in losses.values():
            result = loss.correct(result)
    try:
        payload = result.to_dict(normalize_to=_elements_option(normalize_to))
    except ParameterError as exc:
        raise ParameterError(f"{ranges_path}: {exc}") from exc
    payload["overlap_correction"] = "isotopes" if correction is not None else "none"
    payload["systematics"] = systematics
    payload["losses_corrected"] = bool(correct_losses)
    return payload


def _with_sigma(value: Any, sigma: Any) -> tuple[str, str]:
    """A value and its σ as text: σ to 2 significant figures, the value to the same
    decimal place (so a small σ never prints as 0.000)."""
    import math

    if value is None or value != value:
        return "-", "-"
    if sigma is None or sigma != sigma or sigma <= 0 or not math.isfinite(sigma):
        return format(value, ".4f"), "-" if sigma is None or sigma != sigma else f"{sigma:g}"
    decimals = max(0, 1 - int(math.floor(math.log10(sigma))))
    return f"{value:.{decimals}f}", f"{sigma:.{decimals}f}"


def composition_text(payload: dict[str, Any], path: Path) -> str:
    """The human-readable ``liprobe composition`` of a payload from
    :func:`composition_payload`."""
    rows = [
        [el, str(v["atoms"]), *_with_sigma(v["fraction"], v["fraction_sigma"]),
         *_with_sigma(v["ratio"], v["ratio_sigma"])]
        for el, v in payload["elements"].items()
    ]
    to = "+".join(payload["normalized_to"]) or "-"
    head = (f"{path}: {payload['n_ions']} ions, {payload['n_ranged']} ranged "
            f"(unranged fraction {fmt(payload['unranged_fraction'], '.4f')}; "
            f"overlap correction: {payload.get('overlap_correction', 'none')})")
    table = text_table(rows, ["element", "atoms", "fraction", "sigma", f"ratio to {to}",
                              "sigma"])
    lines = []
    for name, per in payload.get("systematics", {}).items():
        text = ", ".join(f"{el} {fmt(100 * v['lost_fraction'], '.2f')} ± "
                         f"{fmt(100 * v['sigma'], '.2f')} %" for el, v in per.items())
        lines.append(f"{name.replace('_', ' ')} loss (systematic, "
                     f"{'corrected' if payload.get('losses_corrected') else 'not corrected'}):"
                     f" {text}")
    return head + "\n" + table + ("\n" + "\n".join(lines) if lines else "")


PATH = click.Path(path_type=Path)


@click.command("composition")
@click.argument("file", type=PATH)
@click.option("--ranges", "-r", type=PATH, required=True, help="Range file (RRNG, RNG, ENV).")
@click.option("--normalize-to", default=None, metavar="TEXT",
              help="Comma-separated elements the ratios are taken to (default: the transition "
                   "metals present), e.g. Ni,Co,Mn.")
@click.option("--overlap", default="error", show_default=True,
              help="Overlapping ranges: error, first or narrowest.")
@click.option("--allow-unknown-elements", is_flag=True, help=ALLOW_UNKNOWN_HELP)
@click.option("--overlap-correction", default="isotopes", show_default=True,
              help="Peak-overlap correction: isotopes (as a study does) or none.")
@click.option("--correct-losses", is_flag=True,
              help="Put back the atoms lost beyond the range windows and to dead time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def composition(file: Path, ranges: Path, normalize_to: str | None, overlap: str,
                allow_unknown_elements: bool, overlap_correction: str, correct_losses: bool,
                as_json: bool) -> None:
    """Ion counts, atomic fractions and ratios with counting-statistics sigma."""
    payload = composition_payload(file, ranges, normalize_to=normalize_to, overlap=overlap,
                                  overlap_correction=overlap_correction,
                                  correct_losses=correct_losses,
                                  allow_unknown_elements=allow_unknown_elements)
    emit(payload, as_json=as_json, text=composition_text(payload, file))


#: The click commands this module defines (see :data:`liprobe.cli._app.COMMANDS`).
CLICK_COMMANDS = {"composition": composition}

"""File-level commands: ``info``, ``ranges``, ``composition`` and ``convert``.

Each command parses its options, calls the library and formats the result (aligned text
by default, ``--json`` for machines); nothing else happens here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit
from liprobe.errors import OverwriteError, ParameterError, RangeOverlapError

__all__ = ["register", "info_payload", "ranges_payload", "composition_payload"]

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _kind(path: Path) -> str:
    from liprobe.io import detect_format

    return detect_format(path).kind


def _table(rows: list[list[str]], header: list[str]) -> str:
    cells = [header, *rows]
    widths = [max(len(row[c]) for row in cells) for c in range(len(header))]
    lines = ["  ".join(v.rjust(w) if c else v.ljust(w) for c, (v, w) in
                       enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def info_payload(path: Path) -> dict[str, Any]:
    """``liprobe info`` payload: format, ion count, fields and bounding box of an ion file."""
    from liprobe.io import detect_format, read_ions

    fmt = detect_format(path)
    if fmt.kind != "ions":
        what = {"ranges": f"a {fmt.name.upper()} range file",
                "image": f"an image file ({fmt.description})",
                "cycling": (f"a {path.suffix or 'text'} file (text or a cycler export)"
                            if fmt.name == "cycling_csv" else f"a {fmt.description} file"),
                }.get(fmt.kind, f"a {fmt.kind} file")
        next_step = {"ranges": "use 'liprobe ranges'",
                     "image": "use 'liprobe haadf' for HAADF images"}.get(
            fmt.kind, "give a POS, EPOS or APT ion file")
        raise ParameterError(f"{path}: {what}, not an ion file; {next_step}")
    ions = read_ions(path, format=fmt.name)
    bbox = ions.bbox_nm()
    return {
        "format": fmt.name,
        "n_ions": ions.n_ions,
        "fields": list(ions.field_names),
        "bbox_nm": {axis: [float(bbox[i, 0]), float(bbox[i, 1])]
                    for i, axis in enumerate("xyz")},
    }


def ranges_payload(path: Path) -> dict[str, Any]:
    """``liprobe ranges`` payload: the species and ranges of a range file."""
    from liprobe.io import read_ranges

    table = read_ranges(path)
    return {
        "n_ions": table.n_ions,
        "n_ranges": table.n_ranges,
        "ions": list(table.ion_names),
        "ranges": [
            {
                "low_da": float(table.low_da[k]),
                "high_da": float(table.high_da[k]),
                "ion": table.ions[int(table.ion_index[k])].name,
                "atoms": table.ions[int(table.ion_index[k])].atom_counts,
            }
            for k in range(table.n_ranges)
        ],
    }


def _elements_option(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise ParameterError(f"--normalize-to {value!r} names no element; e.g. Ni,Co,Mn")
    return names


def composition_payload(path: Path, ranges_path: Path, *, normalize_to: str | None = None,
                        overlap: str = "error") -> dict[str, Any]:
    """``liprobe composition`` payload (see :meth:`Composition.to_dict`)."""
    from liprobe.apt.composition import compose
    from liprobe.io import read_ions, read_ranges

    ranges = read_ranges(ranges_path)
    ions = read_ions(path)
    try:
        result = compose(ions, ranges, overlap=overlap)
    except RangeOverlapError as exc:
        raise RangeOverlapError(f"{ranges_path}: {exc}") from exc
    try:
        return result.to_dict(normalize_to=_elements_option(normalize_to))
    except ParameterError as exc:
        raise ParameterError(f"{ranges_path}: {exc}") from exc


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None or value != value else format(value, spec)


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


def _composition_text(payload: dict[str, Any], path: Path) -> str:
    rows = [
        [el, str(v["atoms"]), *_with_sigma(v["fraction"], v["fraction_sigma"]),
         *_with_sigma(v["ratio"], v["ratio_sigma"])]
        for el, v in payload["elements"].items()
    ]
    to = "+".join(payload["normalized_to"]) or "-"
    head = (f"{path}: {payload['n_ions']} ions, {payload['n_ranged']} ranged "
            f"(unranged fraction {_fmt(payload['unranged_fraction'], '.4f')})")
    return head + "\n" + _table(rows, ["element", "atoms", "fraction", "sigma",
                                       f"ratio to {to}", "sigma"])


def register(app: typer.Typer) -> None:
    """Add ``info``, ``ranges``, ``composition`` and ``convert`` to ``app``."""

    @app.command("info")
    def info(file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
             as_json: bool = JSON_OPTION) -> None:
        """Format, ion count, per-ion fields and bounding box of an ion file."""
        payload = info_payload(file)
        bbox = payload["bbox_nm"]
        text = "\n".join([
            f"file      {file}",
            f"format    {payload['format'].upper()}",
            f"ions      {payload['n_ions']}",
            f"fields    {', '.join(payload['fields'])}",
            *(f"{axis} (nm)    {_fmt(bbox[axis][0], '.2f')} .. {_fmt(bbox[axis][1], '.2f')}"
              for axis in "xyz"),
        ])
        emit(payload, as_json=as_json, text=text)

    @app.command("ranges")
    def ranges(rangefile: Path = typer.Argument(..., help="Range file (RRNG, RNG, ENV)."),
               as_json: bool = JSON_OPTION) -> None:
        """Ion species and mass ranges of a range file."""
        payload = ranges_payload(rangefile)
        rows = [[r["ion"], f"{r['low_da']:.3f}", f"{r['high_da']:.3f}",
                 " ".join(f"{el}:{n}" for el, n in r["atoms"].items())]
                for r in payload["ranges"]]
        text = (f"{rangefile}: {payload['n_ions']} ion species, {payload['n_ranges']} ranges\n"
                + _table(rows, ["ion", "low (Da)", "high (Da)", "atoms"]))
        emit(payload, as_json=as_json, text=text)

    @app.command("composition")
    def composition(
        file: Path = typer.Argument(..., help="Ion file (POS, EPOS, APT)."),
        ranges: Path = typer.Option(..., "--ranges", "-r", help="Range file (RRNG, RNG, ENV)."),
        normalize_to: str | None = typer.Option(
            None, "--normalize-to", help="Comma-separated elements the ratios are taken to "
            "(default: the transition metals present), e.g. Ni,Co,Mn."),
        overlap: str = typer.Option(
            "error", "--overlap", help="Overlapping ranges: error, first or narrowest."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Ion counts, atomic fractions and ratios with counting-statistics sigma."""
        payload = composition_payload(file, ranges, normalize_to=normalize_to, overlap=overlap)
        emit(payload, as_json=as_json, text=_composition_text(payload, file))

    @app.command("convert")
    def convert(
        source: Path = typer.Argument(..., metavar="IN", help="Ion or range file to read."),
        target: Path = typer.Argument(..., metavar="OUT",
                                      help="File to write; its suffix picks the format."),
        force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
    ) -> None:
        """Convert ion files (POS, EPOS, APT) or range files (RRNG, RNG, ENV -> RRNG)."""
        from liprobe.io import detect_format, read_ions, read_ranges, write_ions, write_ranges
        from liprobe.io._atomic import check_not_input

        check_not_input(target, (source,))
        kind = _kind(source)
        out_format = detect_format(target, kind=kind, for_writing=True)
        if target.exists() and not force:
            raise OverwriteError(f"{target}: already exists; pass --force to replace it")
        if kind == "ions":
            write_ions(target, read_ions(source), format=out_format.name, inputs=(source,))
        elif kind == "ranges":
            write_ranges(target, read_ranges(source), format=out_format.name, inputs=(source,))
        else:
            raise ParameterError(f"{source}: convert handles ion and range files, not {kind}")
        typer.echo(f"wrote {target} ({out_format.name.upper()})")

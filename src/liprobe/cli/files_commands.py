"""File-level commands: ``info``, ``ranges`` and ``convert`` (``composition`` is in
:mod:`liprobe.cli.composition_command`).

Each command parses its options, calls the library and formats the result (aligned text
by default, ``--json`` for machines); nothing else happens here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from liprobe.cli._output import emit
from liprobe.cli._output import fmt as _fmt
from liprobe.cli._output import text_table as _table
from liprobe.cli.composition_command import ALLOW_UNKNOWN_HELP, composition_payload
from liprobe.errors import OverwriteError, ParameterError

__all__ = ["register", "info_payload", "info_text", "INFO_BY_KIND", "ranges_payload",
           "composition_payload"]

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _kind(path: Path) -> str:
    from liprobe.io import detect_format

    return detect_format(path).kind


def _ions_info(path: Path, fmt) -> dict[str, Any]:
    from liprobe.io import read_ions

    ions = read_ions(path, format=fmt.name)
    bbox = ions.bbox_nm()
    return {
        "n_ions": ions.n_ions,
        "fields": list(ions.field_names),
        "bbox_nm": {axis: [float(bbox[i, 0]), float(bbox[i, 1])]
                    for i, axis in enumerate("xyz")},
        "metadata": dict(ions.metadata),
    }


def _ions_text(payload: dict[str, Any]) -> list[str]:
    bbox = payload["bbox_nm"]
    return [f"ions      {payload['n_ions']}",
            f"fields    {', '.join(payload['fields'])}",
            *(f"{axis} (nm)    {_fmt(bbox[axis][0], '.2f')} .. {_fmt(bbox[axis][1], '.2f')}"
              for axis in "xyz"),
            *(f"{key:<9} {value}" for key, value in payload["metadata"].items())]


def _ranges_info(path: Path, fmt) -> dict[str, Any]:
    from liprobe.io import read_ranges

    table = read_ranges(path, format=fmt.name)
    return {"n_ions": table.n_ions, "n_ranges": table.n_ranges, "ions": list(table.ion_names),
            "elements": list(table.elements),
            "mass_range_da": [float(table.low_da.min()), float(table.high_da.max())]
            if table.n_ranges else None}


def _ranges_text(payload: dict[str, Any]) -> list[str]:
    span = payload["mass_range_da"]
    return [f"species   {payload['n_ions']}: {', '.join(payload['ions'])}",
            f"ranges    {payload['n_ranges']}"
            + (f" ({span[0]:.3f} .. {span[1]:.3f} Da)" if span else ""),
            f"elements  {', '.join(payload['elements']) or '-'}"]


def _image_info(path: Path, fmt) -> dict[str, Any]:
    """Shape, pixel size, signals and microscope data of an image file."""
    from liprobe.io import read_image

    chosen = True
    try:
        image = read_image(path)
    except ParameterError as exc:  # several images and no HAADF: describe the first
        if not getattr(exc, "signals", None):
            raise
        image, chosen = read_image(path, signal=exc.signals[0]), False
    meta = dict(image.metadata)
    return {"format": meta.get("format") or fmt.name, "shape": list(image.pixels.shape),
            "dtype": str(image.pixels.dtype), "pixel_size_nm": image.pixel_size_nm,
            "calibration": meta.get("calibration"),
            "signal": meta.get("title") if chosen else None,
            "signals": meta.get("signals", []),
            **{k: meta[k] for k in ("n_frames", "page", "n_pages", "beam_energy_kv",
                                    "magnification", "microscope") if k in meta}}


def _cycling_info(path: Path, fmt) -> dict[str, Any]:
    from liprobe.cli.cycling_commands import cycling_info

    payload = cycling_info(path)
    payload.pop("kind", None)
    payload["format"] = payload.get("format") or fmt.name
    return payload


def _plain_text(payload: dict[str, Any]) -> list[str]:
    return [f"{key:<9} {value}" for key, value in payload.items()
            if key not in ("kind", "format")]


#: ``liprobe info`` per kind of file (the registry's ``Format.kind``): payload and text lines.
INFO_BY_KIND = {"ions": (_ions_info, _ions_text), "ranges": (_ranges_info, _ranges_text),
                "image": (_image_info, _plain_text), "cycling": (_cycling_info, _plain_text)}


def info_payload(path: Path) -> dict[str, Any]:
    """``liprobe info`` payload: ``{"kind", "format", ...}`` with what that kind of file holds
    (ions: count, fields, bounding box, acquisition metadata; ranges: species and ranges)."""
    from liprobe.io import detect_format

    fmt = detect_format(path)
    handler = INFO_BY_KIND.get(fmt.kind)
    if handler is None:
        raise ParameterError(f"{path}: is a {fmt.name.upper()} {fmt.kind} file; 'liprobe info' "
                             f"describes {' and '.join(INFO_BY_KIND)} files")
    return {"kind": fmt.kind, "format": fmt.name} | handler[0](path, fmt)


def info_text(path: Path, payload: dict[str, Any]) -> str:
    """The human-readable ``liprobe info`` of a payload from :func:`info_payload`."""
    lines = [f"file      {path}", f"format    {payload['format'].upper()} ({payload['kind']})"]
    return "\n".join(lines + INFO_BY_KIND[payload["kind"]][1](payload))


ALLOW_UNKNOWN_OPTION = typer.Option(False, "--allow-unknown-elements",
                                    help=ALLOW_UNKNOWN_HELP)


def ranges_payload(path: Path, *, allow_unknown_elements: bool = False) -> dict[str, Any]:
    """``liprobe ranges`` payload: the species and ranges of a range file."""
    from liprobe.io import read_ranges

    table = read_ranges(path, allow_unknown_elements=allow_unknown_elements)
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


def register(app: typer.Typer) -> None:
    """Add ``info``, ``ranges`` and ``convert`` to ``app``."""

    @app.command("info")
    def info(file: Path = typer.Argument(..., help="Ion or range file."),
             as_json: bool = JSON_OPTION) -> None:
        """What a file holds: an ion file's count, fields, bounding box and acquisition
        conditions; a range file's species and ranges."""
        payload = info_payload(file)
        emit(payload, as_json=as_json, text=info_text(file, payload))

    @app.command("ranges")
    def ranges(rangefile: Path = typer.Argument(..., help="Range file (RRNG, RNG, ENV)."),
               allow_unknown_elements: bool = ALLOW_UNKNOWN_OPTION,
               as_json: bool = JSON_OPTION) -> None:
        """Ion species and mass ranges of a range file."""
        payload = ranges_payload(rangefile, allow_unknown_elements=allow_unknown_elements)
        rows = [[r["ion"], f"{r['low_da']:.3f}", f"{r['high_da']:.3f}",
                 " ".join(f"{el}:{n}" for el, n in r["atoms"].items())]
                for r in payload["ranges"]]
        text = (f"{rangefile}: {payload['n_ions']} ion species, {payload['n_ranges']} ranges\n"
                + _table(rows, ["ion", "low (Da)", "high (Da)", "atoms"]))
        emit(payload, as_json=as_json, text=text)

    @app.command("convert")
    def convert(
        source: Path = typer.Argument(..., metavar="IN", help="Ion or range file to read."),
        target: Path = typer.Argument(..., metavar="OUT",
                                      help="File to write; its suffix picks the format."),
        force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
        ranges: Path | None = typer.Option(
            None, "--ranges", "-r", help="Range file stored with the ions (NeXus OUT only)."),
    ) -> None:
        """Convert ion files (POS, EPOS, APT, ATO -> POS, EPOS, APT, NeXus) or range files
        (RRNG, RNG, ENV, NeXus -> RRNG)."""
        from liprobe.io import detect_format, read_ions, read_ranges, write_ions, write_ranges
        from liprobe.io.atomic import check_not_input

        check_not_input(target, (source,))
        kind = _kind(source)
        out_format = detect_format(target, kind=kind, for_writing=True)
        if target.exists() and not force:
            raise OverwriteError(f"{target}: already exists; pass --force to replace it")
        if ranges is not None and out_format.name != "nexus":
            raise ParameterError(f"--ranges: {out_format.name.upper()} cannot hold ranging "
                                 "definitions; write a NeXus .nxs file, or convert the range "
                                 "file on its own")
        if kind == "ions":
            options = {} if ranges is None else {"ranges": read_ranges(ranges)}
            write_ions(target, read_ions(source), format=out_format.name,
                       inputs=(source,) + (() if ranges is None else (ranges,)), **options)
        elif kind == "ranges":
            write_ranges(target, read_ranges(source), format=out_format.name, inputs=(source,))
        else:
            raise ParameterError(f"{source}: convert handles ion and range files, not {kind}")
        typer.echo(f"wrote {target} ({out_format.name.upper()})")

"""File formats: one module per format behind one registry (:mod:`liprobe.io._registry`).

Use the generic functions; they detect the format from the bytes, then the suffix.

>>> from liprobe.io import read_ions, read_ranges  # doctest: +SKIP
>>> ions = read_ions("run.epos"); ranges = read_ranges("run.rrng")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from liprobe.data import Image, IonTable, RangeTable
from liprobe.io._registry import FORMATS, Format, detect_format, formats_of_kind, get_format
from liprobe.io.atomic import atomic_path

__all__ = [
    "FORMATS", "Format", "detect_format", "get_format", "formats_of_kind",
    "read_ions", "write_ions", "read_ranges", "write_ranges", "read_image", "write_image",
]


def _pick(path: str | os.PathLike, kind: str, format: str | None, for_writing: bool) -> Format:
    if format is not None:
        return get_format(format)
    return detect_format(path, kind=kind, for_writing=for_writing)


def read_ions(path: str | os.PathLike, *, format: str | None = None, **options: Any) -> IonTable:
    """Read an atom-probe point cloud (POS, EPOS, APT), memory-mapped where possible."""
    return _pick(path, "ions", format, False).reader()(path, **options)


def write_ions(path: str | os.PathLike, ions: IonTable, *, format: str | None = None,
               inputs: tuple[str | os.PathLike, ...] = (), **options: Any) -> Path:
    """Write ``ions`` atomically in the format of the suffix (or ``format``).

    ``inputs`` are files that must not be overwritten; ``options`` go to the format's writer
    (e.g. ``fill_missing=True`` for EPOS from a table without the EPOS fields).
    """
    writer = _pick(path, "ions", format, True).writer()
    with atomic_path(path, inputs=inputs) as tmp:
        writer(tmp, ions, **options)
    return Path(path)


def read_ranges(path: str | os.PathLike, *, format: str | None = None,
                allow_unknown_elements: bool = False) -> RangeTable:
    """Read a range file (RRNG, RNG, ENV).

    ``allow_unknown_elements`` reads RRNG compositions with placeholder symbols (not
    chemical elements) as named ions without atoms, with a warning, instead of raising.
    RNG and ENV labels that are not formulas of elements are always such ions (their
    labels are names, not compositions).
    """
    fmt = _pick(path, "ranges", format, False)
    if fmt.name == "rrng":
        return fmt.reader()(path, allow_unknown_elements=allow_unknown_elements)
    return fmt.reader()(path)


def write_ranges(path: str | os.PathLike, ranges: RangeTable, *, format: str | None = None,
                 inputs: tuple[str | os.PathLike, ...] = (), **options: Any) -> Path:
    """Write a range table atomically (RRNG); ``options`` go to the format's writer (e.g.
    ``fill_missing=True``: ``Vol:`` and ``Color:`` on every range, for IVAS/AP Suite)."""
    writer = _pick(path, "ranges", format, True).writer()
    with atomic_path(path, inputs=inputs) as tmp:
        writer(tmp, ranges, **options)
    return Path(path)


def read_image(path: str | os.PathLike, *, format: str | None = None,
               pixel_size_nm: float | None = None, signal: str | None = None) -> Image:
    """Read a microscope image (TIFF, DM3/DM4, EMD, TIA, HSPY, NPY); ``pixel_size_nm``
    overrides the file's calibration; ``signal`` picks an image of a multi-signal file by
    title or detector name (default: the HAADF, or the only image)."""
    reader = _pick(path, "image", format, False).reader()
    if signal is None:
        return reader(path, pixel_size_nm=pixel_size_nm)
    return reader(path, pixel_size_nm=pixel_size_nm, signal=signal)


def write_image(path: str | os.PathLike, image: Image, *, format: str | None = None,
                inputs: tuple[str | os.PathLike, ...] = ()) -> Path:
    """Write an image atomically (TIFF with its pixel size in the resolution tags)."""
    writer = _pick(path, "image", format, True).writer()
    with atomic_path(path, inputs=inputs) as tmp:
        writer(tmp, image)
    return Path(path)

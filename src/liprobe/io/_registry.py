"""The one table of file formats, and format detection (magic bytes first, then suffix).

Each format lives in its own module ``liprobe.io.<module>`` exposing ``read_<name>`` and,
when writable, ``write_<name>``. Modules are imported only when a format is used, so a
missing optional dependency of one format never breaks another.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liprobe.errors import UnknownFormatError

__all__ = ["Format", "FORMATS", "detect_format", "get_format", "formats_of_kind"]


@dataclass(frozen=True)
class Format:
    """One registered file format.

    ``kind`` is what the file holds: ``"ions"``, ``"ranges"`` or ``"image"``.
    ``magic`` are byte prefixes that identify the format at offset 0.
    """

    name: str
    kind: str
    suffixes: tuple[str, ...]
    module: str
    description: str
    magic: tuple[bytes, ...] = ()
    writable: bool = False

    def reader(self) -> Callable[..., Any]:
        """The ``read_<name>`` function of the format's module."""
        return getattr(importlib.import_module(f"liprobe.io.{self.module}"), f"read_{self.name}")

    def writer(self) -> Callable[..., Any]:
        """The ``write_<name>`` function (formats with ``writable=True`` only)."""
        if not self.writable:
            raise UnknownFormatError(
                f"liprobe can read {self.name.upper()} but not write it",
                hint="write " + ", ".join(f.name.upper() for f in formats_of_kind(self.kind)
                                          if f.writable) + " instead",
            )
        return getattr(importlib.import_module(f"liprobe.io.{self.module}"), f"write_{self.name}")


FORMATS: tuple[Format, ...] = (
    Format("pos", "ions", (".pos",), "pos", "POS: x, y, z, m/q as big-endian float32",
           writable=True),
    Format("epos", "ions", (".epos",), "epos", "EPOS: POS plus time of flight, voltages, "
           "detector x/y, pulses and multiplicity", writable=True),
    Format("apt", "ions", (".apt",), "apt", "APT: AP Suite 6 / IVAS 4 exchange format",
           magic=(b"APT\x00",), writable=True),
    Format("rrng", "ranges", (".rrng",), "rrng", "RRNG: IVAS range file", writable=True),
    Format("rng", "ranges", (".rng",), "rng", "RNG: Oak Ridge range file"),
    Format("env", "ranges", (".env",), "env", "ENV: GPM Rouen range file"),
    Format("tiff", "image", (".tif", ".tiff"), "images", "TIFF image (pixel size from tags)",
           magic=(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), writable=True),
    Format("dm", "image", (".dm3", ".dm4"), "images", "Gatan DigitalMicrograph DM3/DM4"),
    Format("emd", "image", (".emd",), "images", "Velox / Berkeley EMD (HDF5)",
           magic=(b"\x89HDF\r\n\x1a\n",)),
    Format("npy", "image", (".npy",), "images", "NumPy array (pixel size must be given)",
           magic=(b"\x93NUMPY",)),
    Format("cycling_csv", "cycling", (".csv", ".txt", ".tsv"), "cycler",
           "Cycler CSV/text export with a column mapping"),
    Format("biologic", "cycling", (".mpr",), "cycler", "BioLogic EC-Lab .mpr (galvani)",
           magic=(b"BIO-LOGIC MODULAR FILE",)),
    Format("neware", "cycling", (".nda", ".ndax"), "cycler", "Neware .nda/.ndax (NewareNDA)"),
    Format("arbin", "cycling", (), "cycler", "Arbin MITS Pro CSV export (format='arbin')"),
)


def formats_of_kind(kind: str) -> tuple[Format, ...]:
    """All formats holding ``kind`` (``"ions"``, ``"ranges"``, ``"image"``)."""
    return tuple(f for f in FORMATS if f.kind == kind)


def get_format(name: str) -> Format:
    """The format called ``name`` (case-insensitive)."""
    for fmt in FORMATS:
        if fmt.name == name.lower():
            return fmt
    known = ", ".join(f.name for f in FORMATS)
    raise UnknownFormatError(f"unknown format {name!r}", hint=f"known formats: {known}")


def _by_suffix(path: Path, kind: str | None) -> Format | None:
    suffix = path.suffix.lower()
    for fmt in FORMATS:
        if suffix in fmt.suffixes and (kind is None or fmt.kind == kind):
            return fmt
    return None


_KIND_NAMES = {"ions": "ion file", "ranges": "range file", "image": "image file",
               "cycling": "cycler file"}


def detect_format(path: str | os.PathLike, *, kind: str | None = None,
                  for_writing: bool = False) -> Format:
    """Find the format of ``path``: magic bytes first, then the suffix.

    For writing (the file need not exist) only the suffix counts.
    """
    path = Path(path)
    if not for_writing:
        from liprobe.io._validate import require_input_file

        require_input_file(path, what=_KIND_NAMES.get(kind, "file"))
        with open(path, "rb") as fh:
            head = fh.read(64)
        for fmt in FORMATS:
            if (kind is None or fmt.kind == kind) and any(head.startswith(m) for m in fmt.magic):
                return fmt
    fmt = _by_suffix(path, kind)
    if fmt is None:
        choices = formats_of_kind(kind) if kind else FORMATS
        known = ", ".join(sorted({s for f in choices for s in f.suffixes}))
        raise UnknownFormatError(
            f"cannot tell the {kind or 'file'} format from the bytes or the suffix "
            f"{path.suffix or '(none)'!r}",
            path=path,
            hint=f"use one of the suffixes {known} or pass format=",
        )
    return fmt

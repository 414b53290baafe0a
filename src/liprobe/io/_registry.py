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

    ``kind`` is what the file holds: ``"ions"``, ``"ranges"``, ``"image"`` or ``"cycling"``.
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
    Format("ato", "ions", (".ato",), "ato", "ATO: GPM Rouen point cloud (v3, v5; read only)"),
    Format("nexus", "ions", (".nxs", ".nx5"), "nexus", "NeXus NXapm (HDF5): reconstruction, "
           "ranging definitions, acquisition conditions", writable=True),
    Format("nexus_ranges", "ranges", (".nxs", ".nx5"), "nexus",
           "NeXus ranging definitions (NXapm peak_identification, NXion groups)"),
    Format("rrng", "ranges", (".rrng",), "rrng", "RRNG: IVAS range file", writable=True),
    Format("rng", "ranges", (".rng",), "rng", "RNG: Oak Ridge range file"),
    Format("env", "ranges", (".env",), "env", "ENV: GPM Rouen range file"),
    Format("tiff", "image", (".tif", ".tiff"), "images", "TIFF image (pixel size from tags)",
           magic=(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), writable=True),
    Format("dm", "image", (".dm3", ".dm4"), "images", "Gatan DigitalMicrograph DM3/DM4"),
    Format("emd", "image", (".emd",), "images", "Velox / Berkeley EMD (HDF5)",
           magic=(b"\x89HDF\r\n\x1a\n",)),
    Format("tia", "image", (".ser", ".emi"), "images", "FEI TIA .ser/.emi image (RosettaSciIO)"),
    Format("hspy", "image", (".hspy",), "images", "HyperSpy .hspy image (RosettaSciIO)"),
    Format("npy", "image", (".npy",), "images", "NumPy array (pixel size must be given)",
           magic=(b"\x93NUMPY",)),
    Format("biologic", "cycling", (".mpr",), "biologic", "BioLogic EC-Lab .mpr (yadg, galvani)",
           magic=(b"BIO-LOGIC MODULAR FILE",)),
    Format("biologic_mpt", "cycling", (".mpt",), "biologic", "BioLogic EC-Lab text export .mpt",
           magic=(b"EC-Lab ASCII FILE",)),
    Format("neware", "cycling", (".nda", ".ndax"), "neware", "Neware .nda/.ndax (NewareNDA)"),
    Format("maccor", "cycling", (), "maccor", "Maccor text export (.txt, .001, .041 ...)",
           magic=(b"Today's Date",)),
    Format("arbin_res", "cycling", (".res",), "arbin", "Arbin .res (MS-Access; access-parser)",
           magic=(b"\x00\x01\x00\x00Standard Jet DB",)),
    Format("cycling_csv", "cycling", (".csv", ".txt", ".tsv"), "cycler",
           "Cycler CSV/text export with a column mapping"),
    Format("neware_csv", "cycling", (), "neware", "Neware BTSDA CSV export (told by its titles)"),
    Format("arbin", "cycling", (), "arbin", "Arbin MITS Pro CSV export (told by its titles)"),
)


_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _hdf5_format(path: Path, kind: str | None) -> Format:
    """HDF5 files are told apart by their content (NXapm, EMD, HyperSpy, pyccapt ...)."""
    from liprobe.io._hdf5kind import CONTENT_FORMATS, hdf5_content

    try:
        content = hdf5_content(path)
    except OSError as exc:
        raise UnknownFormatError(f"HDF5 signature but the file cannot be opened ({exc})",
                                 path=path, hint="the file may be truncated") from None
    names, what = CONTENT_FORMATS[content]
    known = {f.name: f for f in FORMATS}
    candidates = [known[n] for n in names if n in known]
    if kind is not None and content == "nxapm" and kind == "ranges":
        candidates = [known["nexus_ranges"]]
    for fmt in candidates:
        if kind is None or fmt.kind == kind:
            return fmt
    def a(kind_: str) -> str:
        return f"{'an' if kind_[0] in 'aeiou' else 'a'} {kind_} file"

    if candidates:
        raise UnknownFormatError(f"this is {what}, not {a(kind)}", path=path,
                                 hint=f"use it where {a(candidates[0].kind)} is expected")
    raise UnknownFormatError(f"this is {what}; liprobe cannot read it", path=path)


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
        from liprobe.io.validate import require_input_file

        require_input_file(path, what=_KIND_NAMES.get(kind, "file"))
        with open(path, "rb") as fh:
            head = fh.read(64)
        if head.startswith(_HDF5_MAGIC):
            return _hdf5_format(path, kind)
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

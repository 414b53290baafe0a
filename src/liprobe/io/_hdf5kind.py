"""What an HDF5 file holds, told from its content: NeXus NXapm, NeXus ranging definitions,
Velox or Berkeley EMD, HyperSpy, pyccapt; HDF5's magic bytes alone say none of this.

:func:`hdf5_content` returns a short key and a description; the registry maps the key to a
format (or explains why liprobe cannot read the file).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["HDF5_MAGIC", "hdf5_content", "CONTENT_FORMATS"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: content key -> (registered format names that read it, what the file is)
CONTENT_FORMATS: dict[str, tuple[tuple[str, ...], str]] = {
    "nxapm": (("nexus",), "a NeXus NXapm atom-probe file"),
    "nexus_ranging": (("nexus_ranges",), "a NeXus file of ranging definitions (NXion "
                                         "groups, e.g. an IMAGO .analysis conversion)"),
    "velox_emd": (("emd",), "a Thermo Fisher Velox EMD image file"),
    "berkeley_emd": (("emd",), "a Berkeley EMD image file"),
    "hyperspy": (("hspy",), "a HyperSpy signal file (.hspy)"),
    "pyccapt": ((), "a pyccapt/OXCART file of raw detector events (voltage, time of flight, "
                    "detector x/y) without a reconstruction; reconstruct it in pyccapt and "
                    "export POS/EPOS/APT, or NeXus"),
    "nexus_other": ((), "a NeXus file that is neither NXapm nor ranging definitions"),
    "hdf5": ((), "an HDF5 file of no layout liprobe knows"),
}


def _text(value) -> str:
    import numpy as np

    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def hdf5_content(path: str | Path) -> str:
    """The content key of an HDF5 file (a key of :data:`CONTENT_FORMATS`)."""
    import h5py

    with h5py.File(path, "r") as f:
        attrs = {k: _text(v) for k, v in f.attrs.items()}
        if attrs.get("file_format", "").lower() == "hyperspy":
            return "hyperspy"
        if "version_major" in attrs:
            return "berkeley_emd"
        keys = set(f.keys())
        if {"Data", "Version"} <= keys or {"Data", "Operations"} <= keys:
            return "velox_emd"
        if "data" in keys and isinstance(f["data"], h5py.Group):
            items = f["data"].get("block0_items")
            if items is not None and any(_text(v).startswith("dld/") for v in items[()]):
                return "pyccapt"
        if "dld" in keys:
            return "pyccapt"
        nexus = False
        for name in keys:
            group = f[name]
            if not isinstance(group, h5py.Group):
                continue
            if _text(group.attrs.get("NX_class", "")) == "NXentry":
                nexus = True
            definition = group.get("definition")
            if definition is not None and _text(definition[()]).strip() == "NXapm":
                return "nxapm"
            if any(_text(group[k].attrs.get("NX_class", "")) in ("NXion", "NXatom")
                   for k in group if isinstance(group[k], h5py.Group)):
                return "nexus_ranging"
        return "nexus_other" if nexus else "hdf5"

"""Images from the files RosettaSciIO reads (DM3/DM4, EMD, TIA, HyperSpy), with the signal
chosen by its title or detector name, and a Velox EDS spectrum image's images read from
their HDF5 datasets (without the ``sparse`` package the spectrum image needs)."""

from __future__ import annotations

import importlib
import json
import math
import warnings
from typing import Any

import numpy as np

from liprobe.data import Image
from liprobe.errors import DependencyError, FormatError, ParameterError
from liprobe.io._binary import existing_file

__all__ = ["read_rsciio_image", "choose_signal", "is_hyperspy_hdf5"]


def is_hyperspy_hdf5(path) -> bool:
    """True for an HDF5 file written by HyperSpy (root attribute ``file_format``)."""
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return str(f.attrs.get("file_format", "")).lower() == "hyperspy"
    except (OSError, ImportError):
        return False


def _title(signal: dict) -> str:
    return str(signal.get("metadata", {}).get("General", {}).get("title") or "")


def _is_image(signal: dict) -> bool:
    data = signal.get("data")
    return np.ndim(data) >= 2 and np.asarray(data).dtype.kind in "uif" and not (
        np.ndim(data) == 3 and np.shape(data)[-1] > 64 and signal.get("metadata", {})
        .get("Signal", {}).get("signal_type") in ("EDS_TEM", "EDS_SEM", "EELS"))


def choose_signal(signals: list[dict], wanted: str | None, path, fmt: str) -> dict:
    """The image signal titled ``wanted`` (default: the HAADF, or the only image)."""
    images = [s for s in signals if _is_image(s)]
    if not images:
        shapes = [np.shape(s.get("data")) for s in signals]
        raise FormatError(f"no 2-D image among the signals (shapes {shapes})", path=path,
                          hint=f"this {fmt} file holds spectra or other data, not an image")
    titles = [_title(s) for s in images]
    listing = ", ".join(repr(t) for t in titles)
    if wanted is not None:
        hits = [s for s, t in zip(images, titles) if t.lower() == wanted.lower()]
        if not hits:
            raise ParameterError(f"{path}: no signal {wanted!r}; the file has {listing}")
        return hits[0]
    if len(images) == 1:
        return images[0]
    haadf = [s for s, t in zip(images, titles) if t.upper() == "HAADF"] or \
        [s for s, t in zip(images, titles) if "HAADF" in t.upper()]
    if haadf:
        return haadf[0]
    error = ParameterError(f"{path}: {len(images)} image signals and none is a HAADF: "
                           f"{listing}; choose one with signal= (CLI: --signal NAME)")
    error.signals = titles  # for callers that list the signals instead of choosing
    raise error


def _velox_images(path) -> list[dict]:
    """The images of a Velox EMD from /Data/Image/*/Data with their JSON metadata."""
    import h5py

    out = []
    with h5py.File(path, "r") as f:
        group = f.get("Data/Image")
        if group is None:
            return out
        for key in group:
            raw = group[key]["Metadata"][:, 0]
            meta = json.loads(bytes(raw[raw > 0]).decode("utf-8", errors="replace"))
            result = meta.get("BinaryResult", {})
            data = np.moveaxis(group[key]["Data"][()], -1, 0)  # (frames, rows, cols)
            unit = result.get("PixelUnitX", "m")
            size = result.get("PixelSize", {})
            axes = [{"scale": float(size.get("height", "nan")), "units": unit},
                    {"scale": float(size.get("width", "nan")), "units": result.get(
                        "PixelUnitY", unit)}]
            if data.shape[0] > 1:
                axes.insert(0, {"scale": 1.0, "units": None})
            else:
                data = data[0]
            kv = meta.get("Optics", {}).get("AccelerationVoltage")
            out.append({"data": data, "axes": axes, "original_metadata": meta,
                        "metadata": {"General": {"title": result.get("Detector", key)}},
                        "beam_energy_kv": float(kv) / 1e3 if kv else None})
    return out


def _dm_microscope(signal: dict) -> dict[str, Any]:
    tree = signal.get("original_metadata", {}).get("ImageList", {})
    title = _title(signal)
    groups = [g for g in tree.values() if isinstance(g, dict)]
    groups.sort(key=lambda g: g.get("Name") != title)
    for group in groups:
        tags = group.get("ImageTags", {})
        info = tags.get("Microscope Info")
        if not isinstance(info, dict):
            continue
        out: dict[str, Any] = {}
        if info.get("Voltage"):
            out["beam_energy_kv"] = float(info["Voltage"]) / 1e3
        if info.get("Indicated Magnification"):
            out["magnification"] = float(info["Indicated Magnification"])
        name = tags.get("Session Info", {}).get("Microscope") or info.get("Name")
        if name:
            out["microscope"] = str(name)
        return out
    return {}


def _pixel_size(signal: dict, path) -> tuple[float | None, list]:
    from liprobe.io.images import length_to_nm

    sizes, units = [], []
    for axis in signal.get("axes", [])[-2:]:
        scale = float(axis.get("scale", 1.0) or 1.0)
        unit = axis.get("units")
        units.append(unit)
        sizes.append(length_to_nm(scale, unit if isinstance(unit, str) else None))
    if len(sizes) != 2 or None in sizes:
        return None, units
    if not math.isclose(sizes[0], sizes[1], rel_tol=1e-3):
        raise FormatError(f"non-square pixels ({sizes[1]:.6g} nm x {sizes[0]:.6g} nm)",
                          path=path, hint="resample to square pixels, or pass pixel_size_nm "
                          "(CLI: --pixel-size-nm) to use one size")
    return sizes[1], units


def read_rsciio_image(path, module: str, fmt: str, *, pixel_size_nm: float | None,
                      frame: int, signal: str | None) -> Image:
    """One 2-D image of a file RosettaSciIO reads (see :func:`choose_signal`)."""
    from liprobe.io.images import _override

    p = existing_file(path)
    try:
        reader = importlib.import_module(f"rsciio.{module}").file_reader
    except ImportError as exc:
        raise DependencyError(
            f"reading {fmt.upper()} needs rosettasciio and its dependencies ({exc}); "
            "install them with: pip install rosettasciio h5py") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # a Velox file: its images only, never its (large, sparse) spectrum image
            options = {"select_type": "images"} if module == "emd" else {}
            signals = list(reader(str(p), lazy=False, **options))
        source = "rosettasciio"
    except MemoryError:
        raise
    except ModuleNotFoundError as exc:
        if module != "emd" or "sparse" not in str(exc):
            raise DependencyError(f"{p}: reading this {fmt.upper()} file needs {exc.name}; "
                                  f"install it with: pip install {exc.name}") from None
        try:
            signals = _velox_images(p)
        except Exception as inner:  # h5py/JSON errors on a damaged file
            raise FormatError(f"not a readable Velox EMD file ({type(inner).__name__}: "
                              f"{inner})", path=p) from None
        source = "velox image datasets"
    except Exception as exc:  # the third-party reader raises anything on bad bytes
        raise FormatError(f"not a readable {fmt.upper()} file ({type(exc).__name__}: {exc})",
                          path=p, hint="check that the file is complete") from None
    chosen = choose_signal(signals, signal, p, fmt)
    data = np.asarray(chosen["data"])
    extra: dict[str, Any] = {}
    if data.ndim > 2:
        n_frames = int(np.prod(data.shape[:-2]))
        if not 0 <= frame < n_frames:
            raise ParameterError(f"frame {frame} is out of range: the stack has {n_frames}")
        data = data.reshape(n_frames, *data.shape[-2:])[frame]
        extra = {"frame": frame, "n_frames": n_frames}
    found, units = (None, []) if pixel_size_nm is not None else _pixel_size(chosen, p)
    images = [s for s in signals if _is_image(s)]
    meta = {"format": fmt, "path": str(p), "title": _title(chosen), "axis_units": units,
            "n_signals": len(signals), "signals": [_title(s) for s in images],
            "reader": source, **extra}
    if module == "digitalmicrograph":
        meta.update(_dm_microscope(chosen))
    optics = chosen.get("original_metadata", {}).get("Optics", {})
    if isinstance(optics, dict):  # Velox metadata
        if optics.get("AccelerationVoltage"):
            meta["beam_energy_kv"] = float(optics["AccelerationVoltage"]) / 1e3
        if optics.get("NominalMagnification"):
            meta["magnification"] = float(optics["NominalMagnification"])
    if chosen.get("beam_energy_kv"):
        meta["beam_energy_kv"] = chosen["beam_energy_kv"]
    meta["calibration"] = "argument" if pixel_size_nm is not None else (
        "file" if found is not None else "none")
    return Image(data, _override(found, pixel_size_nm), meta)

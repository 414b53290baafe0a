"""Microscope images: TIFF, Gatan DM3/DM4, Velox/Berkeley EMD and NumPy arrays.

Every reader returns a :class:`liprobe.data.Image` with ``pixel_size_nm`` taken from the
file when it says (converted from its unit here, at the file boundary) or from the
``pixel_size_nm`` argument, which always wins. DM and EMD files are read through
RosettaSciIO (https://hyperspy.org/rosettasciio), the maintained reader of the HyperSpy
ecosystem; TIFF through tifffile. TIFF calibration is looked up in this order: liprobe's
own JSON description, ImageJ metadata (``unit`` with the resolution tags), FEI/Thermo
metadata (``PixelWidth``), then the resolution tags in centimetres or inches (values
that mean a screen or print resolution, above 1 µm per pixel, are ignored).
"""

from __future__ import annotations

import logging
import math
import os
import struct
import warnings
from typing import Any

import numpy as np

from liprobe.data import Image
from liprobe.errors import FormatError, ParameterError
from liprobe.io._binary import existing_file

__all__ = ["read_tiff", "write_tiff", "read_dm", "read_emd", "read_npy", "length_to_nm"]

_UNIT_NM = {
    "nm": 1.0, "nanometer": 1.0, "nanometre": 1.0,
    "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3, "microns": 1e3, "\\u00b5m": 1e3,
    "a": 0.1, "å": 0.1, "Å": 0.1, "angstrom": 0.1, "ang": 0.1,
    "pm": 1e-3, "mm": 1e6, "cm": 1e7, "m": 1e9,
}


def length_to_nm(value: float, unit: str | None) -> float | None:
    """``value`` in ``unit`` converted to nm; None for an unknown or non-length unit."""
    if unit is None:
        return None
    key = str(unit).strip()
    factor = _UNIT_NM.get(key, _UNIT_NM.get(key.lower()))
    if factor is None or not np.isfinite(value) or value <= 0:
        return None
    return float(value) * factor


def _override(found: float | None, pixel_size_nm: float | None) -> float | None:
    if pixel_size_nm is not None:
        if not (np.isfinite(pixel_size_nm) and pixel_size_nm > 0):
            raise ParameterError(f"pixel_size_nm must be positive, got {pixel_size_nm}")
        return float(pixel_size_nm)
    return found


# --------------------------------------------------------------------------- TIFF
def _tiff_pixel_size(tif: Any, page: Any) -> tuple[float | None, str]:
    shaped = tif.shaped_metadata
    if shaped and isinstance(shaped[0], dict) and "pixel_size_nm" in shaped[0]:
        try:
            return float(shaped[0]["pixel_size_nm"]), "liprobe"
        except (TypeError, ValueError):
            return math.nan, "liprobe"
    tags = page.tags
    xres = tags.get("XResolution")
    per_unit = None
    if xres is not None:
        num, den = xres.value
        per_unit = num / den if den else None
    yres = tags.get("YResolution")
    if per_unit and yres is not None:
        num, den = yres.value
        per_unit_y = num / den if den else None
        if per_unit_y and abs(per_unit_y - per_unit) > 1e-6 * per_unit:
            return math.inf, f"non-square pixels (x {1 / per_unit:.6g}, y {1 / per_unit_y:.6g})"
    ij = tif.imagej_metadata
    if ij and per_unit:
        size = length_to_nm(1.0 / per_unit, ij.get("unit"))
        if size is not None:
            return size, "imagej"
    fei = getattr(tif, "fei_metadata", None)
    if fei:
        width = fei.get("Scan", {}).get("PixelWidth") or fei.get("EScan", {}).get("PixelWidth")
        if width:
            return float(width) * 1e9, "fei"
    unit_tag = tags.get("ResolutionUnit")
    unit = int(unit_tag.value) if unit_tag is not None else 2
    if per_unit and unit in (2, 3):
        size = (2.54e7 if unit == 2 else 1e7) / per_unit
        if size < 1e3:  # screen/print resolutions mean no microscope calibration
            return size, "resolution tags"
    return None, "none"


def read_tiff(path: str | os.PathLike, *, pixel_size_nm: float | None = None) -> Image:
    """Read the first page of a TIFF as an image.

    Parameters
    ----------
    path : path-like
        ``.tif`` / ``.tiff`` file.
    pixel_size_nm : float, optional
        Calibration to use instead of the file's.

    Returns
    -------
    Image
        ``metadata["calibration"]`` says where the pixel size came from.
    """
    import tifffile

    p = existing_file(path)
    size_bytes = p.stat().st_size
    log = logging.getLogger("tifffile")
    level = log.level
    log.setLevel(logging.CRITICAL)  # corrupt tags are reported by the FormatError below
    try:
        with tifffile.TiffFile(p) as tif:
            page = tif.pages.first
            declared = int(np.prod(page.shape)) * np.dtype(page.dtype).itemsize
            ratio = 1 if page.compression == 1 else 1000
            if declared > ratio * size_bytes:
                raise FormatError(
                    f"the first page declares {declared} bytes of pixels {page.shape} but "
                    f"the file has {size_bytes} bytes", path=p,
                    hint="the file is truncated or corrupt")
            data = page.asarray()
            found, source = _tiff_pixel_size(tif, page)
            if found == math.inf and pixel_size_nm is None:
                raise FormatError(
                    f"the resolution tags give {source} per resolution unit", path=p,
                    hint="liprobe measures distances with square pixels: resample the image "
                    "to square pixels, or pass the pixel size (--pixel-size-nm) if the tags "
                    "are wrong")
    except (tifffile.TiffFileError, ValueError, OSError, KeyError, IndexError, TypeError,
            AttributeError, ZeroDivisionError, struct.error) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"not a readable TIFF ({exc})", path=p,
                          hint="check that the file is complete") from None
    finally:
        log.setLevel(level)
    if data.ndim == 3 and data.shape[-1] in (3, 4):
        raise FormatError(f"an RGB(A) TIFF of shape {data.shape}, not a detector image", path=p,
                          hint="export the raw single-channel image")
    if data.ndim != 2:
        raise FormatError(f"the first TIFF page has shape {data.shape}, not a 2-D image",
                          path=p, hint="save one frame per file")
    if pixel_size_nm is None and found is not None and not (math.isfinite(found) and found > 0):
        raise FormatError(f"the {source} calibration gives an invalid pixel size {found!r} nm",
                          path=p, hint="pass pixel_size_nm (CLI: --pixel-size-nm)")
    size = _override(found, pixel_size_nm)
    return Image(data, size, {"format": "tiff", "path": str(p),
                              "calibration": "argument" if pixel_size_nm is not None else source})


def write_tiff(path: str | os.PathLike, image: Image) -> None:
    """Write an image as a single-page TIFF, bit-exact, with its pixel size.

    The pixel size goes into liprobe's JSON description (exact) and into the resolution
    tags in pixels per centimetre (read by ImageJ, Fiji and most viewers).
    """
    import tifffile

    data = np.ascontiguousarray(image.pixels)
    kwargs: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    if image.pixel_size_nm is not None:
        metadata = {"pixel_size_nm": float(image.pixel_size_nm), "unit": "nm"}
        per_cm = 1e7 / image.pixel_size_nm
        if per_cm < 4e9:
            kwargs = {"resolution": (per_cm, per_cm), "resolutionunit": "CENTIMETER"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tifffile.imwrite(path, data, metadata=metadata or {}, photometric="minisblack",
                         **kwargs)


# --------------------------------------------------------------------------- DM / EMD
def _first_image(signals: list[dict], path, fmt: str,
                 frame: int) -> tuple[np.ndarray, dict, float | None]:
    candidates = [s for s in signals if np.ndim(s.get("data")) >= 2
                  and np.asarray(s["data"]).dtype.kind in "uif"]
    if not candidates:
        shapes = [np.shape(s.get("data")) for s in signals]
        raise FormatError(f"no 2-D image among the signals (shapes {shapes})", path=path,
                          hint=f"this {fmt} file holds spectra or other data, not an image")
    signal = candidates[0]
    data = np.asarray(signal["data"])
    axes = signal.get("axes", [])
    extra = {}
    if data.ndim > 2:
        n_frames = int(np.prod(data.shape[:-2]))
        if not 0 <= frame < n_frames:
            raise ParameterError(f"frame {frame} is out of range: the stack has {n_frames}")
        data = data.reshape(n_frames, *data.shape[-2:])[frame]
        extra = {"frame": frame, "n_frames": n_frames}
    sizes = []
    units = []
    for axis in axes[-2:]:
        scale = float(axis.get("scale", 1.0) or 1.0)
        unit = axis.get("units")
        units.append(unit)
        sizes.append(length_to_nm(scale, unit if isinstance(unit, str) else None))
    size = None
    if len(sizes) == 2 and None not in sizes:
        if not math.isclose(sizes[0], sizes[1], rel_tol=1e-3):
            raise FormatError(f"non-square pixels ({sizes[0]:.4g} x {sizes[1]:.4g} nm)",
                              path=path, hint="resample to square pixels first")
        size = sizes[1]
    title = signal.get("metadata", {}).get("General", {}).get("title")
    meta = {"format": fmt, "path": str(path), "title": title, "axis_units": units,
            "n_signals": len(signals), **extra}
    return data, meta, size


def _read_rsciio(path, module: str, fmt: str, pixel_size_nm, frame: int) -> Image:
    import importlib

    p = existing_file(path)
    try:
        reader = importlib.import_module(f"rsciio.{module}").file_reader
    except ImportError as exc:
        from liprobe.errors import DependencyError

        raise DependencyError(
            f"reading {fmt.upper()} needs rosettasciio and its dependencies ({exc}); "
            "install them with: pip install rosettasciio h5py"
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signals = reader(str(p), lazy=False)
    except MemoryError:
        raise
    except Exception as exc:  # the third-party reader raises anything on bad bytes
        raise FormatError(f"not a readable {fmt.upper()} file ({type(exc).__name__}: {exc})",
                          path=p, hint="check that the file is complete") from None
    data, meta, found = _first_image(list(signals), p, fmt, frame)
    meta["calibration"] = "argument" if pixel_size_nm is not None else (
        "file" if found is not None else "none")
    return Image(data, _override(found, pixel_size_nm), meta)


def read_dm(path: str | os.PathLike, *, pixel_size_nm: float | None = None,
            frame: int = 0) -> Image:
    """Read the first 2-D image of a Gatan DigitalMicrograph DM3/DM4 file.

    The calibration (axis scale and unit) is converted to nm; a reciprocal-space or
    uncalibrated axis leaves ``pixel_size_nm`` None. Stacks give ``frame``.
    """
    return _read_rsciio(path, "digitalmicrograph", "dm", pixel_size_nm, frame)


def read_emd(path: str | os.PathLike, *, pixel_size_nm: float | None = None,
             frame: int = 0) -> Image:
    """Read the first 2-D image of a Velox or Berkeley EMD (HDF5) file (needs h5py).

    Stacks (e.g. a time series) give ``frame``; ``metadata["n_frames"]`` says how many.
    """
    return _read_rsciio(path, "emd", "emd", pixel_size_nm, frame)


# --------------------------------------------------------------------------- NPY
def read_npy(path: str | os.PathLike, *, pixel_size_nm: float | None = None) -> Image:
    """Read a 2-D NumPy ``.npy`` array; the pixel size comes only from the argument."""
    p = existing_file(path)
    try:
        data = np.load(p, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable .npy array ({exc})", path=p,
                          hint="save with numpy.save (no pickled objects)") from None
    if data.ndim != 2 or data.dtype.kind not in "uif":
        raise FormatError(f"a 2-D numeric array is needed, got shape {data.shape} and dtype "
                          f"{data.dtype}", path=p)
    from liprobe.io._validate import check_budget

    check_budget(int(data.nbytes), path=p, what=f"array of shape {data.shape}")
    return Image(np.asarray(data), _override(None, pixel_size_nm),
                 {"format": "npy", "path": str(p),
                  "calibration": "argument" if pixel_size_nm is not None else "none"})

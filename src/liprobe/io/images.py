"""Microscope images: TIFF, Gatan DM3/DM4, Velox/Berkeley EMD, TIA, HyperSpy and NumPy arrays.

Every reader returns a :class:`liprobe.data.Image` with ``pixel_size_nm`` taken from the
file when it says (converted from its unit here, at the file boundary) or from the
``pixel_size_nm`` argument, which always wins. DM and EMD files are read through
RosettaSciIO (https://hyperspy.org/rosettasciio), the maintained reader of the HyperSpy
ecosystem (:mod:`liprobe.io._rsciio_images`), as are TIA and HyperSpy files; TIFF through
tifffile, with the calibration sources of :mod:`liprobe.io._tiff_calibration` (liprobe,
ImageJ, FEI/Thermo, DigitalMicrograph private tags, Olympus SIS, JEOL SightX, resolution
tags).
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

__all__ = ["read_tiff", "write_tiff", "read_dm", "read_emd", "read_tia", "read_hspy", "read_npy",
           "length_to_nm"]

_UNIT_NM = {
    "nm": 1.0, "nanometer": 1.0, "nanometre": 1.0,
    "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3, "microns": 1e3, "\\u00b5m": 1e3,
    "a": 0.1, "å": 0.1, "Å": 0.1, "angstrom": 0.1, "ang": 0.1,
    "pm": 1e-3, "mm": 1e6, "cm": 1e7, "m": 1e9, "micrometer": 1e3, "micrometre": 1e3,
    "nanometers": 1.0,
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
def _square(xy: tuple[float, float] | None, source: str, path) -> float | None:
    if xy is None:
        return None
    x, y = xy
    if math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0 \
            and not math.isclose(x, y, rel_tol=1e-3):
        raise FormatError(f"non-square pixels in the {source} calibration ({x:.6g} nm x "
                          f"{y:.6g} nm)", path=path,
                          hint="resample to square pixels, or pass pixel_size_nm "
                          "(CLI: --pixel-size-nm) to use one size")
    return x


def _data_page(tif: Any) -> Any:
    """The first single-channel 2-D page (skipping RGB previews, e.g. Olympus SIS page 1)."""
    for page in tif.pages:
        shape = tuple(d for d in page.shape if d != 1)
        if len(shape) == 2 and getattr(page, "samplesperpixel", 1) == 1:
            return page
    return tif.pages.first


def read_tiff(path: str | os.PathLike, *, pixel_size_nm: float | None = None) -> Image:
    """Read the data page of a TIFF as an image.

    The data page is the first single-channel 2-D page (multi-page files such as Olympus
    SIS put an RGB preview first). The pixel size comes from the metadata of
    :mod:`liprobe.io._tiff_calibration`; non-square pixels are an error unless
    ``pixel_size_nm`` is given.

    Parameters
    ----------
    path : path-like
        ``.tif`` / ``.tiff`` file.
    pixel_size_nm : float, optional
        Calibration to use instead of the file's.

    Returns
    -------
    Image
        ``metadata["calibration"]`` says where the pixel size came from, ``page`` which
        page was read.
    """
    import tifffile

    from liprobe.io._tiff_calibration import tiff_pixel_size_xy

    p = existing_file(path)
    size_bytes = p.stat().st_size
    log = logging.getLogger("tifffile")
    level = log.level
    log.setLevel(logging.CRITICAL)  # corrupt tags are reported by the FormatError below
    try:
        with tifffile.TiffFile(p) as tif:
            page = _data_page(tif)
            n_pages = len(tif.pages)
            declared = int(np.prod(page.shape)) * np.dtype(page.dtype).itemsize
            ratio = 1 if page.compression == 1 else 1000
            if declared > ratio * size_bytes:
                raise FormatError(
                    f"page {page.index} declares {declared} bytes of pixels {page.shape} but "
                    f"the file has {size_bytes} bytes", path=p,
                    hint="the file is truncated or corrupt")
            data = page.asarray()
            found_xy, source, extra = tiff_pixel_size_xy(tif, page)
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
    data = np.squeeze(data) if data.ndim > 2 else data
    if data.ndim != 2:
        raise FormatError(f"the TIFF page has shape {data.shape}, not a 2-D image",
                          path=p, hint="save one frame per file")
    found = None if pixel_size_nm is not None else _square(found_xy, source, p)
    if pixel_size_nm is None and found is not None and not (math.isfinite(found) and found > 0):
        raise FormatError(f"the {source} calibration gives an invalid pixel size {found!r} nm",
                          path=p, hint="pass pixel_size_nm (CLI: --pixel-size-nm)")
    size = _override(found, pixel_size_nm)
    meta = {"format": "tiff", "path": str(p), "page": int(page.index), "n_pages": n_pages,
            "calibration": "argument" if pixel_size_nm is not None else source, **extra}
    return Image(data, size, meta)


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


# --------------------------------------------------------------------------- DM / EMD / TIA / HSPY
def read_dm(path: str | os.PathLike, *, pixel_size_nm: float | None = None,
            frame: int = 0, signal: str | None = None) -> Image:
    """Read a 2-D image of a Gatan DigitalMicrograph DM3/DM4 file (RosettaSciIO).

    The calibration (axis scale and unit) is converted to nm; a reciprocal-space or
    uncalibrated axis leaves ``pixel_size_nm`` None. Among several images the one titled
    ``signal`` is read (default: the HAADF, or the only image). The microscope, beam energy
    (kV) and indicated magnification are kept in the metadata where the file has them.
    """
    from liprobe.io._rsciio_images import read_rsciio_image

    return read_rsciio_image(path, "digitalmicrograph", "dm", pixel_size_nm=pixel_size_nm,
                             frame=frame, signal=signal)


def read_emd(path: str | os.PathLike, *, pixel_size_nm: float | None = None,
             frame: int = 0, signal: str | None = None) -> Image:
    """Read a 2-D image of a Velox or Berkeley EMD (HDF5) file.

    A file with several images gives the one whose title or detector is ``signal``
    (case-insensitive; default: the HAADF, or the only image; otherwise an error lists the
    signals). The images of a Velox EDS spectrum image are read from their HDF5 datasets
    directly, so the spectrum image (which needs the ``sparse`` package) is not loaded.
    Stacks give ``frame``; ``metadata["n_frames"]`` says how many.
    """
    from liprobe.io._rsciio_images import is_hyperspy_hdf5, read_rsciio_image

    if is_hyperspy_hdf5(path):  # HDF5 magic is shared: a HyperSpy file is not an EMD
        return read_hspy(path, pixel_size_nm=pixel_size_nm, frame=frame, signal=signal)
    return read_rsciio_image(path, "emd", "emd", pixel_size_nm=pixel_size_nm, frame=frame,
                             signal=signal)


def read_tia(path: str | os.PathLike, *, pixel_size_nm: float | None = None,
             frame: int = 0, signal: str | None = None) -> Image:
    """Read a FEI TIA ``.ser`` (or its ``.emi``) image through RosettaSciIO."""
    from liprobe.io._rsciio_images import read_rsciio_image

    return read_rsciio_image(path, "tia", "tia", pixel_size_nm=pixel_size_nm, frame=frame,
                             signal=signal)


def read_hspy(path: str | os.PathLike, *, pixel_size_nm: float | None = None,
              frame: int = 0, signal: str | None = None) -> Image:
    """Read a HyperSpy ``.hspy`` (HDF5) image through RosettaSciIO."""
    from liprobe.io._rsciio_images import read_rsciio_image

    return read_rsciio_image(path, "hspy", "hspy", pixel_size_nm=pixel_size_nm, frame=frame,
                             signal=signal)


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
    return Image(np.asarray(data), _override(None, pixel_size_nm),
                 {"format": "npy", "path": str(p),
                  "calibration": "argument" if pixel_size_nm is not None else "none"})

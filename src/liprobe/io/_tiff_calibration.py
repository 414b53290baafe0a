"""Pixel size of a TIFF page from the metadata microscope software writes.

Looked up in this order: liprobe's own JSON description, ImageJ (``unit`` with the
resolution tags), FEI/Thermo (``PixelWidth``/``PixelHeight``), Gatan DigitalMicrograph's
private tags (65003/65004 units, 65009/65010 scales), Olympus SIS (tag 33560,
``pixelsizex``/``pixelsizey`` in m), JEOL SightX (``Make = JEOL Ltd.`` with the XML
description; TEM imaging mode only: resolution tags divided by the magnification), then
the resolution tags in
centimetres or inches (values above 1 µm per pixel mean a screen or print resolution and
are ignored). Each source gives the (x, y) pixel size in nm.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["tiff_pixel_size_xy"]


def _per_unit(tags, name: str) -> float | None:
    tag = tags.get(name)
    if tag is None:
        return None
    num, den = tag.value
    return num / den if den else None


def _dm_tags(tags) -> tuple[float, float] | None:
    from liprobe.io.images import length_to_nm

    codes = {t.code: t.value for t in tags.values() if 65000 <= t.code <= 65030}
    if 65009 not in codes and 65010 not in codes:
        return None
    # DigitalMicrograph writes y first: 65003/65009 are the units/scale of the rows
    y = length_to_nm(float(codes.get(65009, math.nan)), codes.get(65003))
    x = length_to_nm(float(codes.get(65010, math.nan)), codes.get(65004))
    if x is None or y is None:
        return None
    return x, y


def _sis(tags) -> tuple[float, float] | None:
    for code in (33560, 33471):
        tag = tags.get(code)
        if tag is not None and isinstance(tag.value, dict) and "pixelsizex" in tag.value:
            return float(tag.value["pixelsizex"]) * 1e9, float(tag.value["pixelsizey"]) * 1e9
    return None


def _jeol(tags) -> tuple[tuple[float, float] | None, dict[str, Any]]:
    import re

    make = tags.get("Make")
    desc = tags.get("ImageDescription")
    if make is None or str(make.value).strip() != "JEOL Ltd." or desc is None:
        return None, {}
    text = str(desc.value)
    mag = re.search(r"<SelectorValue>\s*([0-9.eE+-]+)\s*</SelectorValue>", text)
    mode = re.search(r"<ModeString>\s*(\w+)\s*</ModeString>", text)
    eos = re.search(r"<EosMode>\s*(\w+)\s*</EosMode>", text)
    kv = re.search(r"<AccelerationVoltage>\s*([0-9.eE+-]+)\s*</AccelerationVoltage>", text)
    meta: dict[str, Any] = {}
    if kv:
        meta["beam_energy_kv"] = float(kv.group(1)) / 1e3
    if not mag or not mode or mode.group(1) != "MAG" or not eos or eos.group(1) != "eosTEM":
        return None, meta  # diffraction, STEM (Ronchigram) ...: no real-space calibration
    magnification = float(mag.group(1))
    meta["magnification"] = magnification
    unit = tags.get("ResolutionUnit")
    metres = 0.0254 if unit is None or int(unit.value) == 2 else 0.01
    xres, yres = _per_unit(tags, "XResolution"), _per_unit(tags, "YResolution")
    if not (xres and yres and magnification > 0):
        return None, meta
    return (metres / xres / magnification * 1e9, metres / yres / magnification * 1e9), meta


def tiff_pixel_size_xy(tif: Any, page: Any) -> tuple[tuple[float, float] | None, str,
                                                     dict[str, Any]]:
    """((x_nm, y_nm) or None, source name, extra metadata) of ``page`` of ``tif``."""
    from liprobe.io.images import length_to_nm

    shaped = tif.shaped_metadata
    if shaped and isinstance(shaped[0], dict) and "pixel_size_nm" in shaped[0]:
        try:
            size = float(shaped[0]["pixel_size_nm"])
        except (TypeError, ValueError):
            size = math.nan
        return (size, size), "liprobe", {}
    tags = page.tags
    xres, yres = _per_unit(tags, "XResolution"), _per_unit(tags, "YResolution")
    ij = tif.imagej_metadata
    if ij and xres:
        x = length_to_nm(1.0 / xres, ij.get("unit"))
        y = length_to_nm(1.0 / yres, ij.get("unit")) if yres else x
        if x is not None and y is not None:
            return (x, y), "imagej", {}
    fei = getattr(tif, "fei_metadata", None)
    if fei:
        for group in ("Scan", "EScan"):
            width = fei.get(group, {}).get("PixelWidth")
            if width:
                height = fei.get(group, {}).get("PixelHeight") or width
                extra = {}
                kv = fei.get("Beam", {}).get("HV") or fei.get("EBeam", {}).get("HV")
                if kv:
                    extra["beam_energy_kv"] = float(kv) / 1e3
                return (float(width) * 1e9, float(height) * 1e9), "fei", extra
    dm = _dm_tags(tags)
    if dm is not None:
        return dm, "digitalmicrograph tags", {}
    sis = _sis(tags)
    if sis is not None:
        extra = {}
        value = tags.get(33560).value if tags.get(33560) is not None else {}
        if isinstance(value, dict) and value.get("magnification"):
            extra["magnification"] = float(value["magnification"])
        return sis, "olympus sis", extra
    jeol, extra = _jeol(tags)
    if jeol is not None:
        return jeol, "jeol sightx", extra
    unit_tag = tags.get("ResolutionUnit")
    unit = int(unit_tag.value) if unit_tag is not None else 2
    if xres and unit in (2, 3):
        factor = 2.54e7 if unit == 2 else 1e7
        x = factor / xres
        y = factor / yres if yres else x
        if x < 1e3:  # screen/print resolutions mean no microscope calibration
            return (x, y), "resolution tags", extra
    return None, "none", extra

"""HAADF calibration tables: R0, k and k_tm against thickness for given optics.

A table holds, per (kV, convergence semi-angle, annular detector, thickness), the ratio
R0 = I(Li site) / I(TM site) of the ordered crystal and the sensitivities k (TM on Li
sites) and k_tm (Li on TM sites) relative to linear incoherent imaging, with standard
errors, and the full provenance of how it was computed (code, optics, thicknesses,
frozen-phonon configurations, sampling). :func:`compute_calibration` computes one with
frozen-phonon multislice (:mod:`liprobe.stem.multislice`, abTEM); :func:`default_calibration`
is the table shipped for Ni-rich layered oxides; :func:`calibration_at` interpolates
(linearly in thickness and convergence; kV and detector must match a tabulated one) and
carries the thickness uncertainty into the standard errors.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["COLUMNS", "HaadfCalibration", "CalibrationPoint", "compute_calibration",
           "default_calibration", "calibration_at", "merge_calibrations"]

#: Columns of a calibration table, in order.
COLUMNS: tuple[str, ...] = ("kv", "convergence_mrad", "detector_inner_mrad",
                            "detector_outer_mrad", "thickness_nm", "R0", "R0_se", "k", "k_se",
                            "k_tm", "k_tm_se", "n_sites")

_DEFAULT = "haadf_calibration_ncm811.json"


@dataclass(frozen=True, eq=False)
class HaadfCalibration:
    """A calibration table (column arrays named in :data:`COLUMNS`) and its provenance."""

    table: dict[str, np.ndarray]
    provenance: dict[str, object] = field(default_factory=dict)
    source: str = "memory"

    def __post_init__(self) -> None:
        missing = [c for c in COLUMNS if c not in self.table]
        if missing:
            raise ParameterError(f"calibration table ({self.source}) lacks columns "
                                 f"{', '.join(missing)}; expected {', '.join(COLUMNS)}")
        lengths = {len(np.asarray(self.table[c])) for c in COLUMNS}
        if len(lengths) != 1 or 0 in lengths:
            raise ParameterError(f"calibration table ({self.source}) has columns of "
                                 "different or zero length")
        object.__setattr__(self, "table", {c: np.asarray(self.table[c], dtype=np.float64)
                                           for c in COLUMNS})

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.table["kv"])

    def optics(self) -> list[tuple[float, float, float, float]]:
        """Distinct (kv, convergence_mrad, detector_inner_mrad, detector_outer_mrad)."""
        t = self.table
        keys = zip(t["kv"], t["convergence_mrad"], t["detector_inner_mrad"],
                   t["detector_outer_mrad"])
        return sorted({tuple(float(x) for x in key) for key in keys})

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict: ``provenance``, ``columns`` and ``rows``."""
        rows = [[_plain(self.table[c][i]) for c in COLUMNS] for i in range(self.n_rows)]
        return {"format": "liprobe-haadf-calibration/1", "provenance": self.provenance,
                "columns": list(COLUMNS), "rows": rows}

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "memory") -> HaadfCalibration:
        """Inverse of :meth:`to_dict`."""
        try:
            columns = list(data["columns"])
            rows = data["rows"]
        except (KeyError, TypeError):
            raise ParameterError(f"{source}: not a liprobe HAADF calibration (needs "
                                 "'columns' and 'rows'); make one with `liprobe haadf "
                                 "calibrate`") from None
        if any(len(r) != len(columns) for r in rows):
            raise ParameterError(f"{source}: every row needs {len(columns)} values")
        table = {c: np.array([np.nan if r[i] is None else r[i] for r in rows], float)
                 for i, c in enumerate(columns)}
        return cls(table, dict(data.get("provenance", {})), source)


def _plain(x):
    x = float(x)
    return None if math.isnan(x) else round(x, 6)


@dataclass(frozen=True)
class CalibrationPoint:
    """R0, k, k_tm at one thickness and optics, with standard errors.

    The standard errors include the table's own (frozen-phonon sampling) and the
    thickness uncertainty ``thickness_sigma_nm`` through the table's slope.
    """

    R0: float
    R0_se: float
    k: float
    k_se: float
    k_tm: float
    k_tm_se: float
    thickness_nm: float
    thickness_sigma_nm: float
    kv: float
    convergence_mrad: float
    detector_mrad: tuple[float, float]
    source: str

    def to_dict(self) -> dict[str, object]:
        """Plain-Python dict (JSON-ready)."""
        return {"R0": self.R0, "R0_se": self.R0_se, "k": self.k, "k_se": self.k_se,
                "k_tm": self.k_tm, "k_tm_se": self.k_tm_se, "thickness_nm": self.thickness_nm,
                "thickness_sigma_nm": self.thickness_sigma_nm, "kv": self.kv,
                "convergence_mrad": self.convergence_mrad,
                "detector_mrad": list(self.detector_mrad), "source": self.source}


def default_calibration() -> HaadfCalibration:
    """The shipped table for Ni-rich layered oxides (NCM811), with its provenance."""
    text = resources.files("liprobe.stem").joinpath("data", _DEFAULT).read_text("utf-8")
    return HaadfCalibration.from_dict(json.loads(text), source=f"liprobe default ({_DEFAULT})")


def merge_calibrations(*calibrations: HaadfCalibration) -> HaadfCalibration:
    """One table from several (e.g. one run per kV); provenance kept per part."""
    if not calibrations:
        raise ParameterError("nothing to merge")
    table = {c: np.concatenate([cal.table[c] for cal in calibrations]) for c in COLUMNS}
    key = np.stack([table[c] for c in COLUMNS[:5]], axis=1)
    _, first = np.unique(key, axis=0, return_index=True)
    if len(first) != len(key):
        raise ParameterError("the calibrations overlap (same optics and thickness twice)")
    parts = [cal.provenance for cal in calibrations]
    return HaadfCalibration(table, {"parts": parts} if len(parts) > 1 else parts[0], "merged")


def _interp_with_slope(t: np.ndarray, y: np.ndarray, x: float) -> tuple[float, float]:
    j = int(np.clip(np.searchsorted(t, x) - 1, 0, len(t) - 2))
    w = (x - t[j]) / (t[j + 1] - t[j])
    return float(y[j] + w * (y[j + 1] - y[j])), float((y[j + 1] - y[j]) / (t[j + 1] - t[j]))


def _at_optics(cal: HaadfCalibration, sel: np.ndarray, thickness_nm: float, sigma_nm: float):
    t = cal.table["thickness_nm"][sel]
    order = np.argsort(t)
    t = t[order]
    lo, hi = float(t[0]), float(t[-1])
    # tabulated thicknesses are whole a-repeats (39.89 nm for "40"): half a repeat
    # beyond either end is read at the end
    slack = 0.15
    if len(t) >= 2 and lo - slack <= thickness_nm <= hi + slack:
        thickness_nm = min(max(thickness_nm, lo), hi)
    if len(t) < 2 or not lo <= thickness_nm <= hi:
        raise ParameterError(
            f"thickness {thickness_nm:g} nm lies outside the calibration's {lo:g}-{hi:g} nm "
            f"({cal.source}); compute one that covers it with `liprobe haadf calibrate`"
        )
    out = {}
    for name in ("R0", "k", "k_tm"):
        value, slope = _interp_with_slope(t, cal.table[name][sel][order], thickness_nm)
        se, _ = _interp_with_slope(t, cal.table[name + "_se"][sel][order], thickness_nm)
        out[name] = value
        out[name + "_se"] = math.hypot(se, slope * sigma_nm)
    return out


def calibration_at(
    calibration: HaadfCalibration | None = None,
    *,
    kv: float,
    convergence_mrad: float,
    detector_mrad: tuple[float, float],
    thickness_nm: float,
    thickness_sigma_nm: float = 0.0,
) -> CalibrationPoint:
    """R0, k and k_tm for the image's optics and thickness, interpolated in the table.

    Parameters
    ----------
    calibration : HaadfCalibration, optional
        Default: :func:`default_calibration`.
    kv, convergence_mrad : float
        Microscope voltage and probe convergence semi-angle; kV must be tabulated, the
        convergence may lie between tabulated values (linear interpolation).
    detector_mrad : (inner, outer)
        Annular detector; must match a tabulated one to 0.5 mrad.
    thickness_nm, thickness_sigma_nm : float
        Specimen thickness and its standard uncertainty (e.g. from EELS log-ratio).

    Examples
    --------
    >>> p = calibration_at(kv=200, convergence_mrad=25, detector_mrad=(70, 160),
    ...                    thickness_nm=20, thickness_sigma_nm=3)
    >>> 0 < p.R0 < 0.2 and 0.3 < p.k < 1.2
    True
    """
    cal = default_calibration() if calibration is None else calibration
    if not thickness_nm > 0 or thickness_sigma_nm < 0:
        raise ParameterError("thickness_nm must be positive and thickness_sigma_nm >= 0")
    tab = cal.table
    inner, outer = (float(x) for x in detector_mrad)
    same = ((np.abs(tab["kv"] - kv) < 0.5) & (np.abs(tab["detector_inner_mrad"] - inner) < 0.5)
            & (np.abs(tab["detector_outer_mrad"] - outer) < 0.5))
    if not same.any():
        avail = "; ".join(f"{o[0]:g} kV {o[2]:g}-{o[3]:g} mrad" for o in cal.optics())
        raise ParameterError(
            f"no calibration for {kv:g} kV with a {inner:g}-{outer:g} mrad detector in "
            f"{cal.source} (it has: {avail}); compute one with `liprobe haadf calibrate`"
        )
    conv = np.unique(tab["convergence_mrad"][same])
    if convergence_mrad < conv[0] - 0.5 or convergence_mrad > conv[-1] + 0.5:
        raise ParameterError(
            f"convergence {convergence_mrad:g} mrad lies outside the calibration's "
            f"{conv[0]:g}-{conv[-1]:g} mrad ({cal.source}); compute one with `liprobe haadf "
            "calibrate --convergence-mrad ...`"
        )
    j = int(np.clip(np.searchsorted(conv, convergence_mrad) - 1, 0, max(len(conv) - 2, 0)))
    nodes = [conv[j]] if len(conv) == 1 else [conv[j], conv[j + 1]]
    vals = [_at_optics(cal, same & (np.abs(tab["convergence_mrad"] - c) < 1e-6),
                       thickness_nm, thickness_sigma_nm) for c in nodes]
    if len(vals) == 1 or abs(convergence_mrad - nodes[0]) < 1e-9:
        v = vals[0]
    else:
        w = float(np.clip((convergence_mrad - nodes[0]) / (nodes[1] - nodes[0]), 0.0, 1.0))
        v = {key: (1 - w) * vals[0][key] + w * vals[1][key] for key in vals[0]}
    return CalibrationPoint(v["R0"], v["R0_se"], v["k"], v["k_se"], v["k_tm"], v["k_tm_se"],
                            float(thickness_nm), float(thickness_sigma_nm), float(kv),
                            float(convergence_mrad), (inner, outer), cal.source)


def compute_calibration(
    *,
    kv: tuple[float, ...],
    convergence_mrad: tuple[float, ...],
    detectors_mrad: tuple[tuple[float, float], ...],
    thickness_nm: tuple[float, ...],
    material=None,
    settings=None,
    progress=None,
) -> HaadfCalibration:
    """Frozen-phonon multislice calibration (abTEM) over every kV and convergence.

    See :func:`liprobe.stem.multislice.calibrate_multislice` for the method; all
    detectors of one (kV, convergence) share one multislice pass, and every thickness
    is an exit plane of the same pass. The provenance records the abTEM and liprobe
    versions, the code path, optics, thicknesses, configurations, sampling and timing.
    """
    from liprobe import __version__
    from liprobe.stem.multislice import (
        NCM811,
        MultisliceSettings,
        _abtem,
        _device,
        calibrate_multislice,
        electron_wavelength_nm,
    )

    material = NCM811 if material is None else material
    settings = MultisliceSettings() if settings is None else settings
    abtem, ase = _abtem()
    rows: list[dict[str, float]] = []
    start = time.time()
    for v in kv:
        for c in convergence_mrad:
            rows += calibrate_multislice(kv=v, convergence_mrad=c, detectors_mrad=detectors_mrad,
                                         thickness_nm=thickness_nm, material=material,
                                         settings=settings, progress=progress)
    outer = max(o for _, o in detectors_mrad)
    sampling = {f"{v:g} kV": (settings.sampling_nm if settings.sampling_nm is not None else
                              electron_wavelength_nm(v) / (3.0 * (outer + 5.0) * 1e-3))
                for v in kv}
    provenance = {
        "code": "liprobe.stem.multislice.calibrate_multislice (frozen-phonon multislice)",
        "liprobe_version": __version__, "abtem_version": abtem.__version__,
        "ase_version": ase.__version__,
        "computed_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(time.time() - start, 1), "device": _device(settings.device),
        "material": material.to_dict(), "kv": list(kv),
        "convergence_mrad": list(convergence_mrad),
        "detectors_mrad": [list(d) for d in detectors_mrad],
        "thickness_nm_requested": list(thickness_nm),
        "probe": "aberration-free, zero defocus, no partial coherence in the multislice; "
                 "source size enters through the site kernel",
        "frozen_phonon_configs": settings.n_configs,
        "sites_per_type_per_config": settings.sites_per_type,
        "f_cal": settings.f_cal,
        "site_kernel": f"Gaussian sigma {settings.kernel_sigma_nm} nm, 7-point Gauss-Radau",
        "lateral_cells": list(settings.cells),
        "supercell_nm": [round(settings.cells[0] * math.sqrt(3) * material.a_nm, 4),
                         round(settings.cells[1] * material.c_nm, 4)],
        "slice_thickness_nm": material.a_nm,
        "sampling_nm": {key: round(val, 6) for key, val in sampling.items()},
        "potential": "abTEM independent-atom model, Lobato parametrisation, infinite "
                     "projection",
        "seed": settings.seed,
    }
    table = {c: np.array([r[c] for r in rows], float) for c in COLUMNS}
    return HaadfCalibration(table, provenance, "computed")

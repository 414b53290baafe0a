"""Point-projection reconstruction from the detector: Bas, shank and tip-profile protocols.

Every protocol maps detector hits (x_D, y_D) and their evaporation order onto the
specimen: the angle of flight theta' = arctan(D / L), D = sqrt(x_D^2 + y_D^2), is
compressed by the image compression factor, theta = xi theta'; the ion sits on a cap of
radius R_i, x = R sin(theta) cos(phi), y = R sin(theta) sin(phi); each ion advances the
apex by dz_i = Omega L^2 / (eta A_D xi^2 R_i^2), A_D = pi r_D^2, and
z_i = -sum_{j<=i} dz_j - R_i (1 - cos(theta)) (z <= 0 into the specimen, the first ion
at the apex). The protocols differ in R_i:

* ``bas``: from the voltage, R_i = V_i / (k_f F) (Bas et al. 1995; angle form of Gault
  et al. 2011);
* ``shank``: from the geometry, R_i = R_0 + (sum_{j<i} dz_j) sin(alpha) / (1 - sin(alpha));
* ``tip-profile``: R_i interpolated in a measured radius-vs-depth profile (e.g. from an
  SEM/TEM image of the needle, :mod:`liprobe.apt.tip_profile`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from liprobe.apt import _reconstruct_kernels as kernels
from liprobe.data import IonTable
from liprobe.errors import ParameterError

__all__ = ["PROTOCOLS", "AREA_MODELS", "ReconstructionParams", "Reconstruction", "reconstruct",
           "reconstruct_ions", "apex_depth_at", "detector_fields"]

PROTOCOLS: tuple[str, ...] = ("bas", "shank", "tip-profile")
AREA_MODELS: tuple[str, ...] = ("small-angle", "projected-cap")


@dataclass(frozen=True)
class ReconstructionParams:
    """Reconstruction parameters (units in names).

    Parameters
    ----------
    icf : float
        Image compression factor xi (>= 1).
    field_factor : float
        k_f in V = k_f F R.
    evaporation_field_v_per_nm : float
        Evaporation field F (V/nm).
    detection_efficiency : float
        eta, fraction of evaporated atoms detected.
    flight_path_mm, detector_radius_mm : float
        L and r_D of a straight-flight instrument (or their reflectron equivalents).
    atomic_volume_nm3 : float
        Omega, the volume an ion takes in the specimen (per atom times atoms per ion).
    initial_radius_nm, shank_angle_deg : float, optional
        R_0 and the shank half-angle alpha (the ``shank`` protocol needs both).
    area_model : {"small-angle", "projected-cap"}
        Specimen area imaged per ion: ``"small-angle"`` is the protocol's
        A_D xi^2 R^2 / L^2; ``"projected-cap"`` is pi R^2 sin^2(xi arctan(r_D / L)), the
        cap within the field of view projected on the axis, which removes the depth
        compression of wide fields of view (about 6 % at 19 deg half-angle).
    """

    icf: float = 1.65
    field_factor: float = 3.3
    evaporation_field_v_per_nm: float = 25.0
    detection_efficiency: float = 0.37
    flight_path_mm: float = 100.0
    detector_radius_mm: float = 20.0
    atomic_volume_nm3: float = 0.0105
    initial_radius_nm: float | None = None
    shank_angle_deg: float | None = None
    area_model: str = "small-angle"

    def __post_init__(self) -> None:
        if self.area_model not in AREA_MODELS:
            raise ParameterError(f"area_model must be one of {', '.join(AREA_MODELS)}, "
                                 f"got {self.area_model!r}")
        for name in ("icf", "field_factor", "evaporation_field_v_per_nm", "flight_path_mm",
                     "detector_radius_mm", "atomic_volume_nm3"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ParameterError(f"reconstruction parameter {name} must be > 0, got {value}")
            object.__setattr__(self, name, float(value))
        if not 0 < self.detection_efficiency <= 1:
            raise ParameterError("reconstruction parameter detection_efficiency must be in "
                                 f"(0, 1], got {self.detection_efficiency}")
        if self.initial_radius_nm is not None and not self.initial_radius_nm > 0:
            raise ParameterError(f"initial_radius_nm must be > 0, got {self.initial_radius_nm}")
        if self.shank_angle_deg is not None and not 0 <= self.shank_angle_deg < 45:
            raise ParameterError(f"shank_angle_deg must be in [0, 45), got {self.shank_angle_deg}")

    @property
    def depth_constant_nm3(self) -> float:
        """Omega L^2 / (eta A_D xi^2) (small-angle): dz_i = this / R_i^2."""
        if self.area_model == "projected-cap":
            fov = self.icf * math.atan(self.detector_radius_mm / self.flight_path_mm)
            return self.atomic_volume_nm3 / (self.detection_efficiency * math.pi
                                             * math.sin(min(fov, math.pi / 2)) ** 2)
        area = math.pi * self.detector_radius_mm**2
        return (self.atomic_volume_nm3 * self.flight_path_mm**2
                / (self.detection_efficiency * area * self.icf**2))

    def with_values(self, **values: float) -> ReconstructionParams:
        """A copy with some parameters replaced."""
        return replace(self, **values)


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """Reconstructed positions in evaporation order, with the radius used for each ion.

    Attributes
    ----------
    xyz_nm : (N, 3) float32
        x, y across, z <= 0 into the specimen.
    radius_nm : (N,) float32
        R_i.
    protocol : str
    params : ReconstructionParams
    depth_nm : float
        Final apex depth sum dz.
    voltage_range_kv : (float, float)
    """

    xyz_nm: np.ndarray
    radius_nm: np.ndarray
    protocol: str
    params: ReconstructionParams
    depth_nm: float
    voltage_range_kv: tuple[float, float]

    @property
    def radius_range_nm(self) -> tuple[float, float]:
        """Smallest and largest R_i."""
        if self.radius_nm.size == 0:
            return (math.nan, math.nan)
        return (float(self.radius_nm.min()), float(self.radius_nm.max()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters, depth, radius and voltage ranges."""
        return {"protocol": self.protocol, "parameters": asdict(self.params),
                "n_ions": int(self.radius_nm.shape[0]), "depth_nm": self.depth_nm,
                "radius_range_nm": list(self.radius_range_nm),
                "voltage_range_kv": list(self.voltage_range_kv)}


def _native32(values: np.ndarray, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise ParameterError(f"{name} must be 1-D with {n} values, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)  # native byte order for the kernel


def _mode(protocol: str, params: ReconstructionParams, tip_profile):
    empty = np.zeros(1, np.float64)
    if protocol == "bas":
        return kernels.MODE_VOLTAGE, 0.0, 0.0, empty, empty
    if protocol == "shank":
        if params.initial_radius_nm is None or params.shank_angle_deg is None:
            raise ParameterError("the shank protocol needs initial_radius_nm and shank_angle_deg "
                                 "(CLI: --initial-radius-nm and --shank-angle-deg)")
        s = math.sin(math.radians(params.shank_angle_deg))
        return kernels.MODE_SHANK, params.initial_radius_nm, s / (1 - s), empty, empty
    if protocol == "tip-profile":
        if tip_profile is None:
            raise ParameterError("the tip-profile protocol needs a tip profile (depth_nm, "
                                 "radius_nm); CLI: --tip-profile CSV or --tip-image IMAGE")
        depth, radius = (np.asarray(a, dtype=np.float64) for a in tip_profile)
        if depth.ndim != 1 or depth.shape != radius.shape or depth.size < 1:
            raise ParameterError("tip profile depth_nm and radius_nm must be 1-D, equal length")
        if np.any(np.diff(depth) <= 0) or np.any(~(radius > 0)):
            raise ParameterError("tip profile depth_nm must increase strictly and radius_nm "
                                 "be > 0 everywhere")
        return kernels.MODE_PROFILE, 0.0, 0.0, depth, radius
    raise ParameterError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


def reconstruct(detector_x_mm: np.ndarray, detector_y_mm: np.ndarray, voltage_kv: np.ndarray,
                *, params: ReconstructionParams, protocol: str = "bas",
                tip_profile: tuple[np.ndarray, np.ndarray] | None = None) -> Reconstruction:
    """Reconstruct ions in evaporation order from their detector hits and voltages.

    Parameters
    ----------
    detector_x_mm, detector_y_mm : (N,) arrays
        Detector hit positions (any float dtype and byte order).
    voltage_kv : (N,) array
        Voltage of each ion (DC plus pulse in voltage pulsing); used by ``bas`` only.
    params : ReconstructionParams
    protocol : {"bas", "shank", "tip-profile"}
    tip_profile : (depth_nm, radius_nm), optional
        Radius of the apex by depth below the initial apex (``tip-profile`` only).

    Returns
    -------
    Reconstruction

    References
    ----------
    P. Bas, A. Bostel, B. Deconihout, D. Blavette, Appl. Surf. Sci. 87/88 (1995) 298.
    B. Gault et al., Ultramicroscopy 111 (2011) 448.

    Examples
    --------
    >>> import numpy as np
    >>> rec = reconstruct(np.zeros(3), np.zeros(3), np.full(3, 2.0),
    ...                   params=ReconstructionParams())
    >>> bool(rec.xyz_nm[2, 2] < rec.xyz_nm[0, 2] < 0)
    True
    """
    if not isinstance(params, ReconstructionParams):
        raise ParameterError("params must be a ReconstructionParams")
    x = _native32(detector_x_mm, "detector_x_mm")
    n = x.shape[0]
    y = _native32(detector_y_mm, "detector_y_mm", n)
    v = _native32(voltage_kv, "voltage_kv", n)
    mode, r0, growth, prof_depth, prof_radius = _mode(protocol, params, tip_profile)
    if mode == kernels.MODE_VOLTAGE and n and not np.all(v > 0):
        bad = int(np.flatnonzero(~(v > 0))[0])
        raise ParameterError(f"the bas protocol needs positive voltages; ion {bad} has "
                             f"{v[bad]} kV (use --protocol shank if the file has no voltage)")
    xyz = np.empty((n, 3), np.float32)
    radius = np.empty(n, np.float32)
    r_per_kv = 1e3 / (params.field_factor * params.evaporation_field_v_per_nm)
    depth = kernels.reconstruct_kernel(x, y, v, mode, r_per_kv, r0, growth, prof_depth,
                                       prof_radius, params.flight_path_mm, params.icf,
                                       params.depth_constant_nm3, xyz, radius)
    vrange = (float(v.min()), float(v.max())) if n else (math.nan, math.nan)
    return Reconstruction(xyz, radius, protocol, params, float(depth), vrange)


def detector_fields(ions: IonTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detector x, y (mm) and voltage (kV: DC plus pulse) of an ion table.

    Raises :class:`~liprobe.errors.ParameterError` naming the missing field when the
    table has no detector coordinates or voltage (a POS file: use EPOS or APT).
    """
    missing = [k for k in ("detector_x_mm", "detector_y_mm", "dc_voltage_kv")
               if k not in ions.fields]
    if missing:
        raise ParameterError(f"the ion table has no {', '.join(missing)}: reconstruction "
                             "needs detector coordinates and voltages (an EPOS or APT file)")
    voltage = ions.fields["dc_voltage_kv"]
    if "pulse_voltage_kv" in ions.fields:
        voltage = voltage.astype(np.float32) + ions.fields["pulse_voltage_kv"].astype(
            np.float32)
    return ions.fields["detector_x_mm"], ions.fields["detector_y_mm"], voltage


def reconstruct_ions(ions: IonTable, *, params: ReconstructionParams, protocol: str = "bas",
                     tip_profile: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> tuple[IonTable, Reconstruction]:
    """Reconstruct an ion table (EPOS/APT fields); the new table keeps ion order, m/q, fields."""
    x, y, v = detector_fields(ions)
    rec = reconstruct(x, y, v, params=params, protocol=protocol, tip_profile=tip_profile)
    return IonTable(rec.xyz_nm, ions.mass_to_charge_da, dict(ions.fields)), rec


def apex_depth_at(voltage_kv: np.ndarray, ion_index: np.ndarray, *,
                  params: ReconstructionParams, protocol: str = "bas",
                  tip_profile: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Apex depth sum_{j<=i} dz_j (nm, float64) after the ions ``ion_index`` (any order)."""
    v = _native32(voltage_kv, "voltage_kv")
    idx = np.asarray(ion_index, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= v.shape[0]):
        raise ParameterError(f"ion_index must be in 0..{v.shape[0] - 1}")
    mode, r0, growth, prof_depth, prof_radius = _mode(protocol, params, tip_profile)
    order = np.argsort(idx, kind="stable")
    r_per_kv = 1e3 / (params.field_factor * params.evaporation_field_v_per_nm)
    sorted_depth = kernels.apex_depth_kernel(v, mode, r_per_kv, r0, growth, prof_depth,
                                             prof_radius, params.depth_constant_nm3,
                                             idx[order])
    out = np.empty(idx.shape[0], np.float64)
    out[order] = sorted_depth
    return out

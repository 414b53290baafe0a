"""Distance along an analysis axis (private helper of profiles, quality and features)."""

from __future__ import annotations

import numpy as np

from liprobe.errors import ParameterError

_AXES = {"x": 0, "y": 1, "z": 2}


def axis_coordinate(xyz_nm: np.ndarray, axis, *, in_place: bool = False
                    ) -> tuple[np.ndarray, float, float, str]:
    """Coordinate along ``axis`` (native float32, maybe a strided view), origin, sign, label.

    ``in_place=True`` (``"x"``, ``"y"``, ``"z"``): a big-endian column (a memory-mapped
    POS/EPOS file) is returned without a copy as its ``uint32`` bits, for the compiled
    kernels that read it in place (:func:`liprobe.apt._columns.column_view`).

    The distance from the top surface is ``sign * (coord - origin)``.

    ``axis="z"`` is the analysis direction: the sign is chosen so that distance grows with
    evaporation order (mean z of the last tenth of the ions against the first tenth), and
    0 is the first ion's z (the top surface). Ions reconstructed slightly above the first
    ion get small negative distances. ``"x"``/``"y"`` or a 3-vector measure the projection
    from its minimum.
    """
    xyz = np.asarray(xyz_nm)
    n = xyz.shape[0]
    sign = 1.0
    if isinstance(axis, str):
        if axis not in _AXES:
            raise ParameterError(f"axis must be 'x', 'y', 'z' or a 3-vector, got {axis!r}")
        column = xyz[:, _AXES[axis]]
        native = column.dtype == np.float32 and column.dtype.isnative
        if in_place and column.dtype == np.dtype(">f4"):
            coord = column.view(np.uint32)  # read in place by the kernels
        else:
            coord = column if native else column.astype(np.float32)
        if axis == "z" and n >= 2:
            # float64 sums of the float32 values (as the chunked profile's first pass)
            tenth = max(1, n // 10)
            if (float(column[-tenth:].mean(dtype=np.float64))
                    < float(column[:tenth].mean(dtype=np.float64))):
                sign = -1.0
        label = (f"{'-' if sign < 0 else ''}z from the first ion (analysis direction)"
                 if axis == "z" else f"{axis} from its minimum")
    else:
        vec = np.asarray(axis, dtype=np.float64)
        if vec.shape != (3,) or not np.all(np.isfinite(vec)) or not np.any(vec):
            raise ParameterError(f"axis vector must be 3 finite numbers, not all 0, got {axis!r}")
        vec = vec / np.linalg.norm(vec)
        xyz_native = xyz if xyz.dtype.isnative else xyz.astype(np.float32)
        coord = (xyz_native @ vec.astype(np.float32)).astype(np.float32, copy=False)
        label = "projection on (" + ", ".join(f"{v:.3f}" for v in vec) + ")"
    if n == 0:
        return coord, 0.0, sign, label
    if isinstance(axis, str) and axis == "z":
        origin = float(np.float32(xyz[0, 2]))
    elif isinstance(axis, str):
        origin = float(np.float32(xyz[:, _AXES[axis]].min()))
    else:
        origin = float(coord.min())
    return coord, origin, sign, label


def axis_distance_nm(xyz_nm: np.ndarray, axis) -> np.ndarray:
    """Distance of each ion along ``axis`` from the top surface (float32, see above)."""
    coord, origin, sign, _ = axis_coordinate(xyz_nm, axis)
    return (np.float32(sign) * (coord - np.float32(origin))).astype(np.float32, copy=False)

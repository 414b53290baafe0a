"""Guards of the within-specimen analyses against non-finite and extreme values.

A reconstruction can hold NaN or infinite coordinates (a failed reconstruction step) and a
mass spectrum infinite masses (a damaged file); one ion 1 mm away from the rest turns a
1 nm binning into 10^6 bins. The analyses call these guards first and stop with one
:class:`~liprobe.errors.ParameterError` saying how many ions are affected, the first one's
index and what to do, instead of a traceback or a huge allocation.
"""

from __future__ import annotations

import mmap
import threading
import weakref

import numpy as np

from liprobe.apt._range_kernels import COMPILED_MIN_IONS
from liprobe.data import IonTable
from liprobe.errors import ParameterError

__all__ = ["finite_position_bounds", "require_finite_positions", "require_finite_masses",
           "require_bins", "MAX_BINS"]

#: Most bins (profile bins, voxels, histogram bins) an analysis allocates.
MAX_BINS = 50_000_000



#: Ions per block of the NumPy guards: bounded temporaries whatever the table's size.
_BLOCK = 1 << 20


def _kernel_column(column: np.ndarray) -> bool:
    return column.dtype in (np.dtype("<f4"), np.dtype(">f4"))


def finite_position_bounds(ions: IonTable, *, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis minimum and maximum of the positions (float64, shape (3,)); raise when any
    position is NaN or infinite (counted, first index named). One pass, no N-sized mask;
    a big-endian memory map is read in place. When no array under the positions can be
    written (a file mapped read-only, as the readers return it), the bounds are computed
    once per table and remembered while it lives, so that the profile, FDA and quality
    checks of one specimen pay for one pass over the positions."""
    if _immutable(ions.xyz_nm):
        with _BOUNDS_LOCK:  # FDA and profile ask from two threads: one computes
            known = _BOUNDS.get(ions)
            if known is None:
                known = _BOUNDS[ions] = _position_bounds(ions)
    else:
        known = _position_bounds(ions)
    low, high, n_bad, first = known
    n = ions.xyz_nm.shape[0]
    if n_bad:
        raise ParameterError(
            f"{what}: {n_bad} of {n} ions have a non-finite position (NaN "
            f"or inf; first at ion index {first}); remove them from the reconstruction, e.g. "
            "ions.take(numpy.isfinite(ions.xyz_nm).all(axis=1))")
    return low.copy(), high.copy()


#: Position bounds per ion table (low, high, number of non-finite, first of them).
_BOUNDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BOUNDS_LOCK = threading.Lock()


def _immutable(array: np.ndarray) -> bool:
    """Whether nothing can change ``array``'s values: no array it views is writeable and
    the memory under them is bytes or a read-only map."""
    base = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    if isinstance(base, mmap.mmap):
        return memoryview(base).readonly
    return base is None or isinstance(base, bytes)


def _position_bounds(ions: IonTable) -> tuple[np.ndarray, np.ndarray, int, int]:
    xyz = ions.xyz_nm
    n = xyz.shape[0]
    if n >= COMPILED_MIN_IONS and _kernel_column(xyz[:, 0]):
        from liprobe.apt._columns import finite_bounds

        low, high, n_bad, first = finite_bounds(xyz[:, 0], xyz[:, 1], xyz[:, 2])
    else:
        low, high = np.full(3, np.inf), np.full(3, -np.inf)
        n_bad, first = 0, -1
        for start in range(0, n, _BLOCK):
            block = xyz[start:start + _BLOCK]
            good = np.isfinite(block).all(axis=1)
            if not good.all():
                bad = np.flatnonzero(~good)
                first = int(start + bad[0]) if n_bad == 0 else first
                n_bad += int(bad.size)
                block = block[good]
            if block.shape[0]:
                low = np.minimum(low, block.min(axis=0))
                high = np.maximum(high, block.max(axis=0))
    return low.astype(np.float64), high.astype(np.float64), int(n_bad), int(first)


def require_finite_positions(ions: IonTable, *, what: str) -> None:
    """Raise when any ion position is NaN or infinite (counted, first index named)."""
    finite_position_bounds(ions, what=what)


def require_finite_masses(mass_to_charge_da: np.ndarray, *, what: str) -> None:
    """Raise when any mass-to-charge is NaN or infinite (counted, first index named)."""
    mass = np.asarray(mass_to_charge_da).reshape(-1)
    n = mass.shape[0]
    if n >= COMPILED_MIN_IONS and _kernel_column(mass):
        from liprobe.apt._columns import finite_bounds

        n_bad, first = finite_bounds(mass)[2:]
    else:
        n_bad, first = 0, -1
        for start in range(0, n, _BLOCK):
            good = np.isfinite(mass[start:start + _BLOCK])
            if not good.all():
                bad = np.flatnonzero(~good)
                first = int(start + bad[0]) if n_bad == 0 else first
                n_bad += int(bad.size)
    if n_bad:
        raise ParameterError(
            f"{what}: {n_bad} of {mass_to_charge_da.size} ions have a non-finite "
            f"mass-to-charge (first at ion index {first}); the file is damaged, or remove "
            "those ions before the analysis")


def require_bins(n_bins: float, *, what: str, fix: str) -> int:
    """``n_bins`` as an int if at most :data:`MAX_BINS`, else a one-line error."""
    if not np.isfinite(n_bins) or n_bins > MAX_BINS:
        raise ParameterError(f"{what}: {n_bins:.3g} bins would be needed, beyond liprobe's "
                             f"limit of {MAX_BINS}; {fix}")
    return int(n_bins)

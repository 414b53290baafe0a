"""Guards of the within-specimen analyses against non-finite and extreme values.

A reconstruction can hold NaN or infinite coordinates (a failed reconstruction step) and a
mass spectrum infinite masses (a damaged file); one ion 1 mm away from the rest turns a
1 nm binning into 10^6 bins. The analyses call these guards first and stop with one
:class:`~liprobe.errors.ParameterError` saying how many ions are affected, the first one's
index and what to do, instead of a traceback or a huge allocation.
"""

from __future__ import annotations

import numpy as np

from liprobe.data import IonTable
from liprobe.errors import ParameterError

__all__ = ["require_finite_positions", "require_finite_masses", "require_bins", "MAX_BINS"]

#: Most bins (profile bins, voxels, histogram bins) an analysis allocates.
MAX_BINS = 50_000_000


def require_finite_positions(ions: IonTable, *, what: str) -> None:
    """Raise when any ion position is NaN or infinite (counted, first index named)."""
    bad = ~np.isfinite(ions.xyz_nm).all(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            f"{what}: {int(bad.sum())} of {ions.n_ions} ions have a non-finite position (NaN "
            f"or inf; first at ion index {first}); remove them from the reconstruction, e.g. "
            "ions.take(numpy.isfinite(ions.xyz_nm).all(axis=1))")


def require_finite_masses(mass_to_charge_da: np.ndarray, *, what: str) -> None:
    """Raise when any mass-to-charge is NaN or infinite (counted, first index named)."""
    bad = ~np.isfinite(mass_to_charge_da)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ParameterError(
            f"{what}: {int(bad.sum())} of {mass_to_charge_da.size} ions have a non-finite "
            f"mass-to-charge (first at ion index {first}); the file is damaged, or remove "
            "those ions before the analysis")


def require_bins(n_bins: float, *, what: str, fix: str) -> int:
    """``n_bins`` as an int if at most :data:`MAX_BINS`, else a one-line error."""
    if not np.isfinite(n_bins) or n_bins > MAX_BINS:
        raise ParameterError(f"{what}: {n_bins:.3g} bins would be needed, beyond liprobe's "
                             f"limit of {MAX_BINS}; {fix}")
    return int(n_bins)

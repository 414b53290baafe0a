"""Phase labels of layered-oxide regions from site intensities.

Viewed along [100]hex (DOMAIN.md §4): in the *layered* phase the Li planes are dark; in
the *rock-salt* phase Li and TM planes are equally bright (f -> 0.5); in the
*spinel-like* phase the Li-plane intensity alternates from column to column (TM on every
second Li-plane column). The evidence is R (through f) and the alternation amplitude of
the Li-plane columns, tested against its own noise. Reference: F. Lin et al., Nat.
Commun. 5 (2014) 3529 (surface reconstruction of NCM into spinel-like and rock-salt).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Alternation", "li_alternation", "classify_phase"]


@dataclass(frozen=True)
class Alternation:
    """Column-to-column alternation of the Li-plane intensity.

    ``amplitude`` is the RMS (over planes) difference between the mean intensities of
    even and odd columns, with the noise contribution removed, relative to the mean
    TM-site intensity; ``z`` is the excess of the squared differences over their noise
    expectation in units of its standard error.
    """

    amplitude: float
    z: float
    n_planes: int


def li_alternation(
    li_intensity: np.ndarray,
    plane: np.ndarray,
    inplane_index: np.ndarray,
    *,
    tm_level: float,
    min_per_parity: int = 2,
) -> Alternation:
    """Measure the even/odd alternation of Li-plane columns, plane by plane.

    Parameters
    ----------
    li_intensity : (n,) array
        Background-subtracted intensity of Li sites.
    plane, inplane_index : (n,) int arrays
        Plane and column index of each site.
    tm_level : float
        Mean background-subtracted TM-site intensity (the scale).
    min_per_parity : int
        Planes need this many even and odd columns.
    """
    li = np.asarray(li_intensity, dtype=np.float64)
    plane = np.asarray(plane)
    parity = np.asarray(inplane_index) % 2
    diffs, noise = [], []
    for p in np.unique(plane):
        sel = plane == p
        even = li[sel & (parity == 0)]
        odd = li[sel & (parity == 1)]
        if even.size < min_per_parity or odd.size < min_per_parity:
            continue
        diffs.append(even.mean() - odd.mean())
        noise.append(even.var(ddof=1) / even.size + odd.var(ddof=1) / odd.size)
    if not diffs or not tm_level > 0:
        return Alternation(math.nan, math.nan, 0)
    d2 = np.square(diffs)
    nz = np.asarray(noise)
    # under no alternation E[d^2] = noise; the within-parity variance is itself inflated
    # by alternation only through the other planes, so this is conservative
    excess = float(d2.mean() - nz.mean())
    se = float(np.sqrt(np.sum(2.0 * nz**2)) / len(nz)) if len(nz) else math.nan
    amplitude = math.sqrt(max(excess, 0.0)) / tm_level
    z = excess / se if se > 0 else math.inf
    return Alternation(amplitude, z, len(diffs))


def classify_phase(
    f: float,
    alternation: Alternation,
    *,
    rocksalt_min_f: float = 0.35,
    spinel_min_amplitude: float = 0.12,
    spinel_min_z: float = 3.0,
) -> str:
    """Label a region ``"layered"``, ``"spinel-like"`` or ``"rock-salt"``.

    A significant Li-plane alternation (amplitude >= ``spinel_min_amplitude`` of the TM
    intensity and >= f / 2, half of what TM on every second column gives, and
    z >= ``spinel_min_z``) means spinel-like; otherwise an exchange fraction of at least
    ``rocksalt_min_f`` (Li and TM planes nearly equal) means rock-salt; otherwise layered.

    Examples
    --------
    >>> classify_phase(0.48, Alternation(0.01, 0.2, 10))
    'rock-salt'
    """
    # TM on every second column at mean fraction f alternates by about 2 f of the TM-site
    # intensity; half of that is required, so noise in a mixed rock-salt region (where the
    # Li sites are as bright as the TM sites) does not pass for spinel ordering
    needed = max(spinel_min_amplitude, 0.5 * f)
    if (alternation.n_planes > 0 and alternation.amplitude >= needed
            and alternation.z >= spinel_min_z):
        return "spinel-like"
    if f >= rocksalt_min_f:
        return "rock-salt"
    return "layered"

"""(003) planes in real space: TM/Li plane identification and crystallographic Li sites.

Along [100]hex the TM columns are visible and the Li columns (Z = 3) are not. The TM
planes are found from the phase of the (003) Fourier component (the bright planes) and
refined by a least-squares fit of the refined column positions (plane spacing and
orientation in real space). Within each TM plane the in-plane column phase is measured;
a Li plane lies half way between two TM planes, at the one third-period in-plane position
that neither neighbour uses (ABC stacking), so its sites are generated from the TM lattice
instead of searched for. References: DOMAIN.md §4; M. J. Hÿtch et al., Ultramicroscopy 74
(1998) 131 (Bragg-component phase locates the planes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError
from liprobe.stem.columns import Columns
from liprobe.stem.lattice import LatticeFFT

__all__ = ["LayerSites", "PlaneProfile", "index_layers", "plane_profile", "site_intensities",
           "CATION_SITE_NAMES"]

#: Site codes of :class:`LayerSites`.
CATION_SITE_NAMES: tuple[str, ...] = ("TM", "Li")

#: In-plane column period over the (003) spacing for NCM: (sqrt(3) a / 2) / (c / 3).
_PERIOD_OVER_D = (math.sqrt(3.0) * 0.287 / 2.0) / (1.419 / 3.0)


@dataclass(frozen=True, eq=False)
class LayerSites:
    """TM and Li cation sites of the image, indexed by plane.

    Attributes
    ----------
    x_px, y_px : (n,) float64
        Site positions (TM sites from the per-plane lattice fit, Li sites generated).
    site : (n,) int8
        0 = TM site, 1 = Li site (:data:`CATION_SITE_NAMES`).
    plane : (n,) int64
        TM plane index m; a Li site of plane m lies between TM planes m and m + 1.
    inplane_index : (n,) int64
        Column index n along the plane (its parity gives the spinel alternation).
    d003_nm : float
        Real-space (003) spacing: slope of the TM plane positions against their index.
    d003_se_nm : float
        Its standard error.
    orientation_deg : float
        Real-space direction of the planes from the x axis, in [0, 180).
    column_period_nm : float
        In-plane column period measured in the TM planes.
    v_axis : (2,) float64
        Unit vector normal to the planes (x, y), pointing to increasing plane index.
    """

    x_px: np.ndarray
    y_px: np.ndarray
    site: np.ndarray
    plane: np.ndarray
    inplane_index: np.ndarray
    d003_nm: float
    d003_se_nm: float
    orientation_deg: float
    column_period_nm: float
    v_axis: np.ndarray

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return int(self.x_px.shape[0])


def index_layers(
    columns: Columns,
    lattice: LatticeFFT,
    *,
    pixel_size_nm: float,
    shape_px: tuple[int, int],
    margin_px: float | None = None,
    min_columns_per_plane: int = 3,
    min_consistency: float = 0.7,
) -> LayerSites:
    """Assign columns to TM planes and generate all TM and Li sites.

    Parameters
    ----------
    columns : Columns
        Refined columns (mostly TM columns; Li-plane columns detected in disordered
        regions are recognised by their position half way between TM planes).
    lattice : LatticeFFT
        The (003) component (orientation, spacing, phase of the bright planes).
    pixel_size_nm : float
        Pixel edge.
    shape_px : (int, int)
        Image shape; sites closer than ``margin_px`` to the border are dropped.
    margin_px : float, optional
        Default: 0.12 nm.
    min_columns_per_plane : int
        Planes with fewer detected columns are ignored.
    min_consistency : float
        Fraction of the TM-plane columns that must sit on the generated TM sites
        (within a quarter period); below it :class:`ParameterError` is raised.

    Returns
    -------
    LayerSites
    """
    ps = float(pixel_size_nm)
    margin = 0.12 / ps if margin_px is None else float(margin_px)
    g = np.asarray(lattice.g_per_nm, dtype=np.float64)
    v_hat = g / np.hypot(*g)
    good = columns.converged
    x = columns.x_px[good] * ps
    y = columns.y_px[good] * ps
    s = (x * g[0] + y * g[1]) + lattice.phase_rad / (2.0 * np.pi)
    m = np.round(s)
    tm = np.abs(s - m) < 0.25
    if tm.sum() < 2 * min_columns_per_plane:
        raise ParameterError(
            f"only {int(tm.sum())} columns lie on (003) TM planes; is this a layered oxide "
            "along [100]hex, and is the pixel size right?"
        )
    u_hat = np.array([v_hat[1], -v_hat[0]])
    u = x * u_hat[0] + y * u_hat[1]
    v = x * v_hat[0] + y * v_hat[1]
    # real-space refinement: v = d * m + beta * u + c over TM columns
    design = np.column_stack([m[tm], u[tm], np.ones(int(tm.sum()))])
    coef, *_ = np.linalg.lstsq(design, v[tm], rcond=None)
    resid = v[tm] - design @ coef
    dof = max(int(tm.sum()) - 3, 1)
    cov = np.linalg.inv(design.T @ design) * float(resid @ resid) / dof
    beta = float(coef[1])
    tilt = math.atan(beta)
    d_real = float(coef[0]) * math.cos(tilt)
    d_se = math.sqrt(max(cov[0, 0], 0.0)) * math.cos(tilt)
    # rotate the frame by the tilt so that planes are exactly along u
    rot = np.array([[math.cos(tilt), -math.sin(tilt)], [math.sin(tilt), math.cos(tilt)]])
    u_hat = rot @ u_hat
    v_hat = rot @ v_hat
    u = x * u_hat[0] + y * u_hat[1]
    v = x * v_hat[0] + y * v_hat[1]
    orientation = math.degrees(math.atan2(u_hat[1], u_hat[0])) % 180.0
    # in-plane period: pooled within-plane regression u = u0_m + p n
    mt = m[tm].astype(np.int64)
    ut = u[tm]
    vt = v[tm]
    order = np.lexsort((ut, mt))
    mt, ut, vt = mt[order], ut[order], vt[order]
    planes, starts, counts = np.unique(mt, return_index=True, return_counts=True)
    keep = counts >= min_columns_per_plane
    planes, starts, counts = planes[keep], starts[keep], counts[keep]
    if planes.size == 0:
        raise ParameterError("no (003) plane has enough columns to index the lattice")
    p_guess = _PERIOD_OVER_D * d_real
    index = [np.round((ut[a:a + c] - ut[a]) / p_guess) for a, c in zip(starts, counts)]
    num = sum(float(np.sum((n - n.mean()) * (ut[a:a + c] - ut[a:a + c].mean())))
              for n, a, c in zip(index, starts, counts))
    den = sum(float(np.sum((n - n.mean()) ** 2)) for n in index)
    period = num / den if den > 0 else p_guess
    if not 0.8 * p_guess < period < 1.2 * p_guess:
        period = p_guess
    phase = np.array([float(np.mean(ut[a:a + c] - period * n)) / period
                      for n, a, c in zip(index, starts, counts)]) % 1.0
    vpos = np.array([np.median(vt[a:a + c]) for a, c in zip(starts, counts)])
    h, w = shape_px
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], float) * ps
    u_lo, u_hi = (corners @ u_hat).min(), (corners @ u_hat).max()
    n_all = np.arange(int(math.floor(u_lo / period)) - 1, int(math.ceil(u_hi / period)) + 2)
    out_u, out_v, out_site, out_plane, out_n = [], [], [], [], []

    def emit(offset: float, vv: float, site: int, plane: int) -> None:
        out_u.append(period * (n_all + offset))
        out_v.append(np.full(n_all.shape, vv))
        out_site.append(np.full(n_all.shape, site, np.int8))
        out_plane.append(np.full(n_all.shape, plane, np.int64))
        out_n.append(n_all)

    index_of = {int(p): i for i, p in enumerate(planes)}
    # the stacking step between neighbouring TM planes (1/3 or 2/3 of the period) is the
    # same throughout an untwinned crystal: the majority also serves the edge planes
    deltas = [(phase[index_of[int(p) + 1]] - phase[i]) % 1.0
              for i, p in enumerate(planes) if int(p) + 1 in index_of]
    votes = [abs(dl - 1.0 / 3.0) < abs(dl - 2.0 / 3.0) for dl in deltas]
    majority = 1.0 / 3.0 if sum(votes) * 2 >= len(votes) else 2.0 / 3.0
    for i, plane in enumerate(planes):
        emit(phase[i], vpos[i], 0, int(plane))
        j = index_of.get(int(plane) + 1)
        if j is None:
            # edge plane: Li plane above from this plane alone (and below, likewise)
            emit(phase[i] + 2.0 * majority, vpos[i] + 0.5 * d_real, 1, int(plane))
        else:
            delta = (phase[j] - phase[i]) % 1.0
            snapped = 1.0 / 3.0 if abs(delta - 1.0 / 3.0) < abs(delta - 2.0 / 3.0) else 2.0 / 3.0
            if abs(delta - snapped) <= 0.12:  # else a stacking fault or mis-indexed plane
                guess_a = phase[i] + 2.0 * snapped
                guess_b = phase[j] + snapped
                diff = ((guess_b - guess_a + 0.5) % 1.0) - 0.5
                emit(guess_a + 0.5 * diff, 0.5 * (vpos[i] + vpos[j]), 1, int(plane))
        if int(plane) - 1 not in index_of:
            emit(phase[i] + majority, vpos[i] - 0.5 * d_real, 1, int(plane) - 1)
    if not out_u:
        raise ParameterError("no (003) plane has enough columns to index the lattice")
    su = np.concatenate(out_u)
    sv = np.concatenate(out_v)
    # consistency: the TM-plane columns must sit on the generated TM sites
    from scipy.spatial import cKDTree

    tm_sites = np.concatenate(out_site) == 0
    dist, _ = cKDTree(np.c_[su[tm_sites], sv[tm_sites]]).query(np.c_[ut, vt])
    on_sites = float(np.mean(dist < 0.25 * period))
    if on_sites < min_consistency:
        raise ParameterError(
            f"the lattice could not be indexed: only {on_sites:.0%} of the columns on (003) "
            "planes sit on the generated TM sites. The c axis may be ambiguous (an image of "
            "only rock-salt / spinel-like material): pass orientation_deg (CLI: "
            "--orientation-deg) with the direction of the (003) planes"
        )
    sx = (su * u_hat[0] + sv * v_hat[0]) / ps
    sy = (su * u_hat[1] + sv * v_hat[1]) / ps
    inside = (sx >= margin) & (sx <= w - 1 - margin) & (sy >= margin) & (sy <= h - 1 - margin)
    return LayerSites(
        x_px=sx[inside], y_px=sy[inside], site=np.concatenate(out_site)[inside],
        plane=np.concatenate(out_plane)[inside], inplane_index=np.concatenate(out_n)[inside],
        d003_nm=d_real, d003_se_nm=d_se, orientation_deg=orientation,
        column_period_nm=period, v_axis=v_hat,
    )


def site_intensities(
    pixels: np.ndarray, x_px: np.ndarray, y_px: np.ndarray, *, radius_px: float
) -> np.ndarray:
    """Gaussian-weighted mean intensity around each (sub-pixel) site.

    The weight is ``exp(-r^2 / (2 (radius_px / 2)^2))`` out to ``radius_px``; the same
    treatment is used at TM and Li sites (and in the reference), so ratios are comparable.
    """
    from liprobe.stem.columns import gather_patches

    half = max(1, int(math.ceil(radius_px)))
    rows = np.round(np.asarray(y_px)).astype(np.int64)
    cols = np.round(np.asarray(x_px)).astype(np.int64)
    patches = gather_patches(pixels, rows, cols, half)
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    dy = offsets[None, :, None] - (np.asarray(y_px) - rows)[:, None, None]
    dx = offsets[None, None, :] - (np.asarray(x_px) - cols)[:, None, None]
    r2 = dx * dx + dy * dy
    weight = np.exp(-r2 / (2.0 * (0.5 * radius_px) ** 2)) * (r2 <= radius_px ** 2)
    return np.einsum("nij,nij->n", patches, weight) / weight.sum(axis=(1, 2))


@dataclass(frozen=True, eq=False)
class PlaneProfile:
    """Intensity perpendicular to the (003) planes (as in line profiles across layers).

    ``position_nm`` is the distance along the plane normal from the first TM plane of the
    analysed region; ``intensity`` the mean pixel intensity in each bin (NaN where empty);
    ``tm_positions_nm`` and ``li_positions_nm`` mark the plane centres.
    """

    position_nm: np.ndarray
    intensity: np.ndarray
    tm_positions_nm: np.ndarray
    li_positions_nm: np.ndarray

    def to_table(self) -> dict[str, np.ndarray]:
        """Columns ``position_nm``, ``intensity``."""
        return {"position_nm": self.position_nm, "intensity": self.intensity}


def plane_profile(
    pixels: np.ndarray,
    sites: LayerSites,
    *,
    pixel_size_nm: float,
    bin_nm: float = 0.01,
    mask: np.ndarray | None = None,
) -> PlaneProfile:
    """Average the image along the planes into a profile across them.

    Parameters
    ----------
    pixels : (H, W) array
        Image.
    sites : LayerSites
        Provides the plane normal and the plane positions.
    pixel_size_nm : float
        Pixel edge.
    bin_nm : float
        Bin width along the normal.
    mask : (H, W) bool, optional
        Only these pixels (e.g. one depth window).
    """
    img = np.asarray(pixels)
    h, w = img.shape
    vn = (np.arange(w) * (sites.v_axis[0] * pixel_size_nm))[None, :] \
        + (np.arange(h) * (sites.v_axis[1] * pixel_size_nm))[:, None]
    tm = sites.site == 0
    v_tm = (sites.x_px[tm] * sites.v_axis[0] + sites.y_px[tm] * sites.v_axis[1]) * pixel_size_nm
    v_li = (sites.x_px[~tm] * sites.v_axis[0] + sites.y_px[~tm] * sites.v_axis[1]) * pixel_size_nm
    sel = np.ones(img.shape, bool) if mask is None else np.asarray(mask, bool)
    if not sel.any():
        raise ParameterError("the profile mask selects no pixel")
    origin = float(np.min(v_tm)) if v_tm.size else float(vn[sel].min())
    pos = vn[sel] - origin
    start = math.floor(float(pos.min()) / bin_nm) * bin_nm
    idx = ((pos - start) / bin_nm).astype(np.int64)
    n_bins = int(idx.max()) + 1
    total = np.bincount(idx, weights=img[sel].astype(np.float64), minlength=n_bins)
    count = np.bincount(idx, minlength=n_bins)
    mean = np.full(n_bins, np.nan)
    np.divide(total, count, out=mean, where=count > 0)
    return PlaneProfile(
        position_nm=start + (np.arange(n_bins) + 0.5) * bin_nm, intensity=mean,
        tm_positions_nm=np.unique(np.round(v_tm - origin, 4)),
        li_positions_nm=np.unique(np.round(v_li - origin, 4)),
    )

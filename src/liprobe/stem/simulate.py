"""Fast HAADF-STEM simulation of layered NCM along [100]hex, with its ground truth.

Linear incoherent imaging: every atomic column scatters in proportion to the sum of
Z^n of its atoms (thickness / a atoms per column), the image is that column map blurred
by the probe (a Gaussian core plus a broad Gaussian tail), plus a constant background,
an optional amorphous coating and vacuum outside the particle, Poisson counting noise
and row-wise scan jitter. Reference: E. J. Kirkland, *Advanced Computing in Electron
Microscopy*, 3rd ed. (Springer 2020), ch. 5 (incoherent imaging); S. J. Pennycook &
D. E. Jesson, Ultramicroscopy 37 (1991) 14 (Z-contrast).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from liprobe.data import Image
from liprobe.errors import ParameterError
from liprobe.stem._render import render_columns
from liprobe.stem.structure import A_NM, C_NM, PHASES, DisorderProfile

__all__ = ["HaadfParams", "HaadfTruth", "simulate_haadf", "DisorderProfile", "SITE_NAMES"]

#: Site types of the truth table, by integer code.
SITE_NAMES: tuple[str, ...] = ("TM", "Li", "O")

_Z = {"Ni": 28, "Co": 27, "Mn": 25, "Li": 3, "O": 8}


@dataclass(frozen=True)
class HaadfParams:
    """Conditions of a simulated HAADF image of layered NCM along [100]hex.

    Parameters
    ----------
    shape_px : (int, int)
        Image height and width in pixels.
    pixel_size_nm : float
        Pixel edge in nm.
    rotation_deg : float
        Angle of the (003) planes (their in-plane direction u) from the image x axis:
        u = (cos, sin) in (x = column, y = row) pixel coordinates.
    a_nm, c_nm : float
        Hexagonal lattice parameters.
    probe_fwhm_nm : float
        FWHM of the Gaussian probe core.
    probe_tail_fraction, probe_tail_fwhm_nm : float
        Fraction of the probe current in a broad Gaussian tail, and its FWHM.
    z_exponent : float
        n in the Z^n contrast (1.6-2).
    thickness_nm : float
        Specimen thickness along the beam.
    dose_e_per_px : float or None
        Electrons per pixel; None gives the noise-free expected image.
    cross_section_nm2_per_zn : float
        Scattered fraction per atom per unit Z^n per probe density (nm^2).
    background_fraction : float
        Constant background, as a fraction of the dose (also in vacuum).
    scan_noise_nm : float
        RMS horizontal jitter of each scan row (nm).
    disorder : DisorderProfile
        Antisite fraction and phase against depth below the surface.
    disorder_model : {"exchange", "substitution"}
        Exchange swaps Li and TM (TM sites hold 1-f TM); substitution adds TM on Li
        sites only.
    surface_depth_nm : float or None
        Depth of the image centre below the particle surface; None: no surface in view
        (the disorder profile is then evaluated at depth 0 everywhere).
    surface_normal_deg : float
        Direction (from the x axis, in pixel coordinates) in which depth increases.
    coating_nm : float
        Thickness of an amorphous coating beyond the surface (vacuum beyond it).
    coating_relative_intensity : float
        Mean coating signal relative to the mean crystal signal.
    tm_composition : tuple of (symbol, fraction)
        Transition-metal composition of the TM sites.
    include_oxygen : bool
        Render the (weak) oxygen columns.
    li_site_sensitivity, tm_site_sensitivity : float
        Departures from linear imaging that channelling and thermal diffuse scattering
        cause (a multislice calibration measures them): a TM atom on a Li site adds
        ``li_site_sensitivity`` times, and a Li atom on a TM site removes
        ``tm_site_sensitivity`` times, the Z^n difference of linear imaging (1: linear).
    li_column_excess : float
        Extra scattering of every Li-site column, as a fraction of a TM column's Z^n
        (cross-talk that raises R0 beyond what the probe tails give; may be set per
        thickness to emulate R0(t)).
    """

    shape_px: tuple[int, int] = (512, 512)
    pixel_size_nm: float = 0.02
    rotation_deg: float = 0.0
    a_nm: float = A_NM
    c_nm: float = C_NM
    probe_fwhm_nm: float = 0.09
    probe_tail_fraction: float = 0.1
    probe_tail_fwhm_nm: float = 0.6
    z_exponent: float = 1.7
    thickness_nm: float = 20.0
    dose_e_per_px: float | None = 4000.0
    cross_section_nm2_per_zn: float = 5e-8
    background_fraction: float = 0.02
    scan_noise_nm: float = 0.0
    disorder: DisorderProfile = field(default_factory=DisorderProfile)
    disorder_model: str = "exchange"
    surface_depth_nm: float | None = None
    surface_normal_deg: float = 0.0
    coating_nm: float = 0.0
    coating_relative_intensity: float = 0.3
    tm_composition: tuple[tuple[str, float], ...] = (("Ni", 0.80), ("Co", 0.15), ("Mn", 0.05))
    include_oxygen: bool = True
    li_site_sensitivity: float = 1.0
    tm_site_sensitivity: float = 1.0
    li_column_excess: float = 0.0

    def __post_init__(self) -> None:
        h, w = self.shape_px
        if h < 16 or w < 16:
            raise ParameterError(f"shape_px must be at least 16 x 16, got {self.shape_px}")
        for name in ("pixel_size_nm", "a_nm", "c_nm", "probe_fwhm_nm", "probe_tail_fwhm_nm",
                     "thickness_nm", "cross_section_nm2_per_zn"):
            if not getattr(self, name) > 0:
                raise ParameterError(f"HaadfParams.{name} must be positive")
        if self.dose_e_per_px is not None and not self.dose_e_per_px > 0:
            raise ParameterError("HaadfParams.dose_e_per_px must be positive or None")
        if not 0 <= self.probe_tail_fraction < 1:
            raise ParameterError("HaadfParams.probe_tail_fraction must lie in [0, 1)")
        if self.disorder_model not in ("exchange", "substitution"):
            raise ParameterError(
                f"disorder_model must be 'exchange' or 'substitution', got {self.disorder_model!r}"
            )
        if not (self.li_site_sensitivity > 0 and self.tm_site_sensitivity >= 0
                and self.li_column_excess >= 0):
            raise ParameterError("li_site_sensitivity must be positive, tm_site_sensitivity "
                                 "and li_column_excess >= 0")
        if self.scan_noise_nm < 0 or self.coating_nm < 0 or self.background_fraction < 0:
            raise ParameterError("scan_noise_nm, coating_nm and background_fraction must be >= 0")
        object.__setattr__(self, "shape_px", (int(h), int(w)))

    @property
    def d003_nm(self) -> float:
        """TM-TM plane spacing c/3."""
        return self.c_nm / 3.0

    @property
    def column_period_nm(self) -> float:
        """In-plane projected column period sqrt(3)·a/2."""
        return math.sqrt(3.0) * self.a_nm / 2.0

    @property
    def atoms_per_column(self) -> int:
        """Atoms in one projected column (thickness / a, at least 1)."""
        return max(1, int(round(self.thickness_nm / self.a_nm)))

    def mean_tm_zn(self) -> float:
        """Composition-weighted Z^n of the TM site."""
        total = sum(frac for _, frac in self.tm_composition)
        return sum(frac * _Z[sym] ** self.z_exponent for sym, frac in self.tm_composition) / total


@dataclass(frozen=True, eq=False)
class HaadfTruth:
    """Ground truth of a simulated image: every column and the conditions.

    Column arrays are aligned: ``x_px, y_px`` (pixel coordinates, x = column index,
    y = row index; pixel centres at integers), ``site`` (index into :data:`SITE_NAMES`),
    ``occupancy_tm`` (realised TM fraction of the column), ``depth_nm`` (below the
    surface; NaN without a surface), ``phase`` (index into ``PHASES``), ``plane_index``
    (cation plane k; oxygen k + 1/2 stored as k) and ``inplane_index`` (n).
    """

    params: HaadfParams
    x_px: np.ndarray
    y_px: np.ndarray
    site: np.ndarray
    occupancy_tm: np.ndarray
    depth_nm: np.ndarray
    phase: np.ndarray
    plane_index: np.ndarray
    inplane_index: np.ndarray

    @property
    def d003_nm(self) -> float:
        """True (003) spacing."""
        return self.params.d003_nm

    @property
    def orientation_deg(self) -> float:
        """True orientation of the (003) planes, in [0, 180)."""
        return float(self.params.rotation_deg % 180.0)

    @property
    def tm_mask(self) -> np.ndarray:
        """Columns on TM sites."""
        return self.site == 0

    @property
    def li_mask(self) -> np.ndarray:
        """Columns on Li sites."""
        return self.site == 1

    def f_at(self, depth_nm: np.ndarray) -> np.ndarray:
        """Nominal antisite fraction at depth (the simulator's profile)."""
        return self.params.disorder.f_at(depth_nm)

    def phase_at(self, depth_nm: float) -> str:
        """Nominal phase label at depth."""
        return self.params.disorder.phase_at(depth_nm)

    def inside(self, margin_px: float = 0.0) -> np.ndarray:
        """Columns at least ``margin_px`` inside the image borders."""
        h, w = self.params.shape_px
        return ((self.x_px >= margin_px) & (self.x_px <= w - 1 - margin_px)
                & (self.y_px >= margin_px) & (self.y_px <= h - 1 - margin_px))


def _lattice(params: HaadfParams, margin_nm: float):
    """All cation and oxygen columns within the image plus a margin (crystal frame, nm)."""
    h, w = params.shape_px
    ps = params.pixel_size_nm
    radius = 0.5 * math.hypot(h, w) * ps + margin_nm
    step = params.c_nm / 6.0
    period = params.column_period_nm
    kmax = int(math.ceil(radius / step)) + 2
    nmax = int(math.ceil(radius / period + kmax / 3.0)) + 2  # the ABC shear shifts n by k/3
    k = np.arange(-kmax, kmax + 1)
    n = np.arange(-nmax, nmax + 1)
    kk, nn = np.meshgrid(k, n, indexing="ij")
    kk = kk.ravel()
    nn = nn.ravel()
    # cations: plane k at v = k*step, u = period*(n + k/3)
    u_cat = period * (nn + kk / 3.0)
    v_cat = kk * step
    site_cat = np.where(kk % 2 == 0, 0, 1)
    parts = [(u_cat, v_cat, site_cat, kk, nn)]
    if params.include_oxygen:
        u_o = period * (nn + (kk + 2) / 3.0)
        v_o = (kk + 0.5) * step
        parts.append((u_o, v_o, np.full(kk.shape, 2), kk, nn))
    u, v, site, plane, inplane = (np.concatenate(p) for p in zip(*parts))
    keep = np.hypot(u, v) <= radius
    return u[keep], v[keep], site[keep], plane[keep], inplane[keep]


def _occupancy(params: HaadfParams, site, inplane, depth, rng):
    f = params.disorder.f_at(depth)
    phase = params.disorder.phase_code_at(depth)
    spinel = phase == PHASES.index("spinel-like")
    occ = np.zeros(site.shape)
    li = site == 1
    tm = site == 0
    li_occ = np.where(spinel, np.where(inplane % 2 == 0, np.minimum(2.0 * f, 1.0), 0.0), f)
    occ[li] = li_occ[li]
    occ[tm] = (1.0 - f[tm]) if params.disorder_model == "exchange" else 1.0
    n_atoms = params.atoms_per_column
    cation = site != 2
    realised = occ.copy()
    realised[cation] = rng.binomial(n_atoms, occ[cation]) / n_atoms
    return realised, phase


def simulate_haadf(params: HaadfParams, *, rng: np.random.Generator) -> tuple[Image, HaadfTruth]:
    """Simulate a HAADF image of layered NCM along [100]hex and return it with its truth.

    Parameters
    ----------
    params : HaadfParams
        Imaging conditions, disorder profile and surface.
    rng : numpy.random.Generator
        Source of the column occupancies, Poisson noise, scan jitter and coating.

    Returns
    -------
    image : Image
        Counts per pixel (float32) with ``pixel_size_nm`` set.
    truth : HaadfTruth
        Every column's position, site type, occupancy, depth and phase.

    Notes
    -----
    Linear incoherent imaging (Kirkland 2020, ch. 5): fast enough for tests and
    benchmarks; multislice codes (e.g. abTEM) are needed to calibrate absolute R0.

    Examples
    --------
    >>> import numpy as np
    >>> image, truth = simulate_haadf(HaadfParams(shape_px=(64, 64)),
    ...                               rng=np.random.default_rng(0))
    >>> image.pixels.shape, round(truth.d003_nm, 4)
    ((64, 64), 0.473)
    """
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    h, w = params.shape_px
    ps = params.pixel_size_nm
    sigma_tail_nm = params.probe_tail_fwhm_nm / 2.3548
    u, v, site, plane, inplane = _lattice(params, margin_nm=4.0 * sigma_tail_nm + 0.5)
    theta = math.radians(params.rotation_deg)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    x = cx + (u * math.cos(theta) - v * math.sin(theta)) / ps
    y = cy + (u * math.sin(theta) + v * math.cos(theta)) / ps
    if params.surface_depth_nm is None:
        depth = np.full(x.shape, np.nan)
        profile_depth = np.zeros(x.shape)
    else:
        normal = math.radians(params.surface_normal_deg)
        depth = params.surface_depth_nm + ((x - cx) * math.cos(normal)
                                           + (y - cy) * math.sin(normal)) * ps
        keep = depth >= 0.0
        x, y, site, plane, inplane, depth = (a[keep] for a in (x, y, site, plane, inplane, depth))
        profile_depth = depth
    occupancy, phase = _occupancy(params, site, inplane, profile_depth, rng)
    n = params.z_exponent
    zn_tm, zn_li, zn_o = params.mean_tm_zn(), _Z["Li"] ** n, _Z["O"] ** n
    step = zn_tm - zn_li
    zn_li_site = (zn_li + params.li_column_excess * zn_tm
                  + params.li_site_sensitivity * occupancy * step)
    zn_tm_site = zn_tm - params.tm_site_sensitivity * (1.0 - occupancy) * step
    zn = np.where(site == 2, zn_o, np.where(site == 1, zn_li_site, zn_tm_site))
    weight = params.atoms_per_column * zn * params.cross_section_nm2_per_zn
    signal = render_columns(
        params.shape_px, x, y, weight,
        sigma_px=params.probe_fwhm_nm / 2.3548 / ps,
        tail_sigma_px=sigma_tail_nm / ps,
        tail_fraction=params.probe_tail_fraction,
        pixel_area_nm2=ps * ps,
        row_shift_px=(rng.normal(0.0, params.scan_noise_nm / ps, h)
                      if params.scan_noise_nm > 0 else None),
    )
    if params.surface_depth_nm is not None and params.coating_nm > 0:
        signal += _coating(params, signal, rng)
    expected = (signal + params.background_fraction).astype(np.float64)
    if params.dose_e_per_px is None:
        pixels = expected.astype(np.float32)
    else:
        pixels = rng.poisson(expected * params.dose_e_per_px).astype(np.float32)
    inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    truth = HaadfTruth(
        params=params, x_px=x[inside], y_px=y[inside], site=site[inside],
        occupancy_tm=occupancy[inside], depth_nm=depth[inside], phase=phase[inside],
        plane_index=plane[inside], inplane_index=inplane[inside],
    )
    image = Image(pixels, ps, {"source": "liprobe.stem.simulate_haadf",
                               "dose_e_per_px": params.dose_e_per_px})
    return image, truth


def _coating(params: HaadfParams, signal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Amorphous coating: a smooth random texture between depth -coating_nm and 0."""
    from scipy.ndimage import gaussian_filter

    h, w = params.shape_px
    ps = params.pixel_size_nm
    yy, xx = np.mgrid[0:h, 0:w]
    normal = math.radians(params.surface_normal_deg)
    depth = params.surface_depth_nm + ((xx - (w - 1) / 2.0) * math.cos(normal)
                                       + (yy - (h - 1) / 2.0) * math.sin(normal)) * ps
    zone = (depth < 0) & (depth >= -params.coating_nm)
    crystal = depth >= 0.5
    level = params.coating_relative_intensity * (
        float(signal[crystal].mean()) if crystal.any() else float(signal.mean()))
    texture = gaussian_filter(rng.standard_normal((h, w)), 0.12 / ps)
    texture /= max(float(texture.std()), 1e-12)
    return np.where(zone, level * np.clip(1.0 + 0.3 * texture, 0.0, None), 0.0)

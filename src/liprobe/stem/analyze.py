"""HAADF analysis of a layered cathode: TM-on-Li fraction and phase against depth.

``analyze_haadf`` measures (003) spacing and orientation (FFT, refined in real space),
finds and refines the TM columns, generates the Li sites crystallographically, measures
R = I(Li site) / I(TM site) in depth windows below the particle surface, converts R to
the antisite fraction with R0 from a reference imaged under the same conditions, and
labels each window's phase. See :mod:`liprobe.stem.mixing` and :mod:`liprobe.stem.phases`
for the models and their references.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.data import Image
from liprobe.errors import ParameterError
from liprobe.stem._areas import independent_area_se
from liprobe.stem._pipeline import Measurement, measure_sites
from liprobe.stem.columns import Columns
from liprobe.stem.layers import LayerSites, PlaneProfile, plane_profile
from liprobe.stem.mixing import (
    MODELS,
    MixingEstimate,
    RatioEstimate,
    antisite_fraction,
    intensity_ratio,
)
from liprobe.stem.phases import classify_phase, li_alternation
from liprobe.tabular import FrameView

__all__ = ["HaadfWindow", "HaadfAnalysis", "analyze_haadf"]


@dataclass(frozen=True)
class HaadfWindow:
    """One depth window: R, f with its interval, phase and the phase evidence."""

    depth_nm: float
    depth_lo_nm: float
    depth_hi_nm: float
    R: float
    R_se: float
    f: float
    f_ci: tuple[float, float]
    phase: str
    alternation: float
    alternation_z: float
    n_tm: int
    n_li: int

    def to_dict(self) -> dict[str, object]:
        """Plain-Python dict (JSON-ready)."""
        return {"depth_nm": self.depth_nm, "R": self.R, "f": self.f, "f_ci": list(self.f_ci),
                "phase": self.phase, "R_se": self.R_se, "alternation": self.alternation,
                "alternation_z": self.alternation_z, "depth_lo_nm": self.depth_lo_nm,
                "depth_hi_nm": self.depth_hi_nm, "n_tm": self.n_tm, "n_li": self.n_li}


@dataclass(frozen=True, eq=False)
class HaadfAnalysis(FrameView):
    """Result of :func:`analyze_haadf`.

    ``R``, ``f`` and ``f_ci`` pool every site inside the particle; ``windows`` hold the
    same per depth window. ``model`` is the disorder model used for f, ``reference`` how
    R0 was obtained (``"calibration"``: a frozen-phonon multislice table;
    ``"image"``: a recorded ordered reference; ``"simulated-approximate"``: a linear-
    incoherent simulation, without channelling, whose model error the interval does not
    contain; ``"none"``: f is NaN), ``k``/``k_tm`` the sensitivities used (1 without a
    calibration), ``calibration`` the calibration point (optics, thickness, R0, k with
    their errors) when one was used, ``R_se_method`` how the independent areas behind
    R's error were counted, ``depth_source`` where depths come from (``"surface"`` in
    view, ``"normal"``: strips along a given surface normal, ``"none"``),
    ``interval_note`` what the interval does and does not contain,
    ``background_source`` where the subtracted ``background`` came from (``"vacuum"``,
    ``"given"``, or ``"none"``: no vacuum in view and none given, so nothing was subtracted
    from the image or the reference and f is right only if the reference shares the
    image's background).
    ``depth_nm`` of a window is its centre's distance below the surface found in the
    image plus ``depth_offset_nm``; when no surface is in view but a surface normal is
    given, windows are strips across it with depth ``depth_offset_nm`` at the image
    centre; otherwise every window (a square tile) gets depth ``depth_offset_nm``.
    """

    d003_nm: float
    d003_se_nm: float
    d003_fft_nm: float
    orientation_deg: float
    column_period_nm: float
    R: float
    R_se: float
    R0: float
    R0_se: float
    f: float
    f_ci: tuple[float, float]
    model: str
    reference: str
    background: float
    surface_found: bool
    depth_offset_nm: float
    windows: tuple[HaadfWindow, ...]
    columns: Columns
    sites: LayerSites
    site_intensity: np.ndarray
    site_depth_nm: np.ndarray
    profile: PlaneProfile
    pixel_size_nm: float
    background_source: str = "none"
    k: float = 1.0
    k_tm: float = 1.0
    calibration: dict | None = None
    R_se_method: str = "sites"
    depth_source: str = "none"
    interval_note: str = ""

    def to_dict(self) -> dict[str, object]:
        """The result in the CLI's JSON shape."""
        return {
            "k": self.k, "k_tm": self.k_tm, "calibration": self.calibration,
            "R_se_method": self.R_se_method, "depth_source": self.depth_source,
            "interval_note": self.interval_note,
            "d003_nm": self.d003_nm, "orientation_deg": self.orientation_deg, "R": self.R,
            "R0": self.R0, "f": self.f, "f_ci": list(self.f_ci), "model": self.model,
            "windows": [w.to_dict() for w in self.windows],
            "d003_se_nm": self.d003_se_nm, "d003_fft_nm": self.d003_fft_nm,
            "column_period_nm": self.column_period_nm, "R_se": self.R_se, "R0_se": self.R0_se,
            "reference": self.reference, "background": self.background,
            "background_source": self.background_source,
            "surface_found": self.surface_found, "depth_offset_nm": self.depth_offset_nm,
            "n_columns": self.columns.n_columns, "pixel_size_nm": self.pixel_size_nm,
        }

    def to_frame(self) -> Any:
        """A pandas DataFrame of :meth:`window_table`: one row per depth window."""
        import pandas as pd

        return pd.DataFrame(self.window_table())

    def _summary(self) -> str:
        return (f"R/R0 = {self.R:.3f}/{self.R0:.3f}, f = {self.f:.3f} "
                f"({self.f_ci[0]:.3f} to {self.f_ci[1]:.3f}), {len(self.windows)} windows")

    def window_table(self) -> dict[str, np.ndarray]:
        """Per-window columns (depth_nm, R, f, f_lo, f_hi, phase, alternation ...)."""
        w = self.windows
        return {
            "depth_nm": np.array([x.depth_nm for x in w]),
            "depth_lo_nm": np.array([x.depth_lo_nm for x in w]),
            "depth_hi_nm": np.array([x.depth_hi_nm for x in w]),
            "R": np.array([x.R for x in w]), "R_se": np.array([x.R_se for x in w]),
            "f": np.array([x.f for x in w]), "f_lo": np.array([x.f_ci[0] for x in w]),
            "f_hi": np.array([x.f_ci[1] for x in w]),
            "phase": np.array([x.phase for x in w], dtype=object),
            "alternation": np.array([x.alternation for x in w]),
            "alternation_z": np.array([x.alternation_z for x in w]),
            "n_tm": np.array([x.n_tm for x in w]), "n_li": np.array([x.n_li for x in w]),
        }


def _ratio(meas: Measurement, select: np.ndarray) -> RatioEstimate:
    tm = select & (meas.sites.site == 0)
    li = select & (meas.sites.site == 1)
    return intensity_ratio(meas.intensity[li], meas.intensity[tm], background=meas.background)


def _reference_ratio(reference, reference_params, meas: Measurement, *, surface: str,
                     background_known: bool, seed: int, calibration=None
                     ) -> tuple[RatioEstimate, str]:
    """R0 of the ordered reference, measured exactly as the image was (DOMAIN.md §4).

    Same probe width (hence site integration radius) and the same background treatment:
    when the image's background was measured (vacuum) or given, the reference's own is
    subtracted (a recorded reference shares the image's detector offset; a simulated one
    knows its own); when it is unknown, neither is subtracted, and a constant background
    B cancels exactly, (I_Li + B) = (1 - f)(L + B) + f(T + B), provided the reference was
    recorded or simulated under the image's conditions.
    """
    probe_fwhm_nm = meas.probe_sigma_nm * 2.3548
    if calibration is not None and (reference is None or (isinstance(reference, str)
                                                          and reference == "simulate")):
        return (RatioEstimate(calibration.R0, calibration.R0_se, 0, 0), "calibration")
    if reference is None:
        return RatioEstimate(math.nan, math.nan, 0, 0), "none"
    if isinstance(reference, Image):
        ps = reference.pixel_size_nm or meas.pixel_size_nm
        ref = measure_sites(reference.pixels, pixel_size_nm=ps, probe_fwhm_nm=probe_fwhm_nm,
                            surface=surface, background=meas.background)
        return _ratio(ref, ref.in_material), "image"
    if isinstance(reference, str) and reference == "simulate":
        from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf

        if reference_params is None:
            # nothing is known of the image's conditions beyond what was measured here:
            # an image without vacuum and without a given background is taken as black-
            # level corrected, so the reference carries no background either
            params = HaadfParams(shape_px=(256, 256), pixel_size_nm=meas.pixel_size_nm,
                                 rotation_deg=meas.sites.orientation_deg,
                                 probe_fwhm_nm=probe_fwhm_nm, dose_e_per_px=None,
                                 background_fraction=0.0)
        else:
            params = dataclasses.replace(
                reference_params, shape_px=(256, 256), disorder=DisorderProfile(),
                surface_depth_nm=None, coating_nm=0.0, scan_noise_nm=0.0, dose_e_per_px=None)
        image, _ = simulate_haadf(params, rng=np.random.default_rng(seed))
        # noise-free (dose None): pixels are the expected signal plus background_fraction
        ref = measure_sites(image.pixels, pixel_size_nm=params.pixel_size_nm,
                            probe_fwhm_nm=probe_fwhm_nm, surface="none",
                            background=params.background_fraction if background_known
                            else 0.0)
        return _ratio(ref, ref.in_material), "simulated-approximate"
    raise ParameterError(
        f"reference must be None, an Image or 'simulate', got {type(reference).__name__}"
    )


def _normal_depth(meas: Measurement, shape, normal_deg: float, depth_offset_nm: float):
    """Depth of every site along a given surface normal, ``depth_offset_nm`` at the centre."""
    cy, cx = (shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0
    theta = math.radians(normal_deg)
    return depth_offset_nm + ((meas.sites.x_px - cx) * math.cos(theta)
                              + (meas.sites.y_px - cy) * math.sin(theta)) * meas.pixel_size_nm


def _window_groups(meas: Measurement, window_nm: float, depth_offset_nm: float,
                   strip_depth=None):
    sites = meas.sites
    inside = meas.in_material
    if strip_depth is not None:
        k = np.floor(strip_depth / window_nm)
        for kk in np.unique(k[inside & np.isfinite(k)]):
            lo = kk * window_nm
            yield inside & (k == kk), lo + 0.5 * window_nm, lo, lo + window_nm
        return
    if meas.surface.found:
        depth = meas.depth_nm + depth_offset_nm
        k = np.floor((depth - depth_offset_nm) / window_nm)
        for kk in np.unique(k[inside & np.isfinite(k)]):
            lo = depth_offset_nm + kk * window_nm
            yield inside & (k == kk), lo + 0.5 * window_nm, lo, lo + window_nm
        return
    tile = window_nm / meas.pixel_size_nm
    tx = np.floor(sites.x_px / tile)
    ty = np.floor(sites.y_px / tile)
    for key in np.unique(np.stack([ty, tx], axis=1), axis=0):
        sel = inside & (ty == key[0]) & (tx == key[1])
        yield sel, depth_offset_nm, depth_offset_nm, depth_offset_nm


def _classification_f(ratio: RatioEstimate, ref: RatioEstimate) -> float:
    if math.isnan(ref.R):
        return 0.5 if ratio.R >= 0.8 else 0.0
    return float((ratio.R - ref.R) / ((1.0 - ref.R) * (1.0 + ratio.R)))


#: Pixel sizes that resolve the atomic columns of a layered oxide (d(003) ~ 0.47 nm).
PIXEL_SIZE_RANGE_NM = (1.0e-3, 0.25)
#: Smallest field of view the analysis needs (a few (003) planes).
MIN_FIELD_NM = 2.0


def _check_image(image: Image, pixel_size_nm: float | None) -> None:
    """Refuse NaN/inf pixels and pixel sizes that cannot resolve the columns (one line)."""
    where = image.metadata.get("path", "the image") if isinstance(image.metadata, dict) else (
        "the image")
    bad = ~np.isfinite(image.pixels)
    if bad.any():
        y, x = np.unravel_index(int(np.flatnonzero(bad)[0]), image.pixels.shape)
        raise ParameterError(f"{where}: {int(bad.sum())} pixels are NaN or infinite (first at "
                             f"row {y}, column {x}); a HAADF image must be finite counts, "
                             "fill or crop the damaged region")
    if pixel_size_nm is None:
        return
    low, high = PIXEL_SIZE_RANGE_NM
    if not (np.isfinite(pixel_size_nm) and low <= pixel_size_nm <= high):
        raise ParameterError(f"{where}: pixel size {pixel_size_nm:g} nm is outside "
                             f"{low:g}-{high:g} nm, where atomic columns are resolved; check "
                             "the calibration or pass --pixel-size-nm")
    field = pixel_size_nm * min(image.pixels.shape)
    if field < MIN_FIELD_NM:
        raise ParameterError(f"{where}: the image spans only {field:.3g} nm "
                             f"({min(image.pixels.shape)} px of {pixel_size_nm:g} nm); the "
                             f"analysis needs at least {MIN_FIELD_NM:g} nm")


def analyze_haadf(
    image: Image,
    *,
    reference: Image | str | None = "simulate",
    reference_params=None,
    model: str = "exchange",
    window_nm: float = 1.0,
    depth_offset_nm: float = 0.0,
    pixel_size_nm: float | None = None,
    probe_fwhm_nm: float | None = None,
    background: float | None = None,
    surface: str = "auto",
    min_sites: int = 8,
    confidence: float = 0.95,
    seed: int = 0,
    orientation_deg: float | None = None,
    calibration=None,
    surface_normal_deg: float | None = None,
) -> HaadfAnalysis:
    """Measure the TM-on-Li fraction and phase against depth in a [100]hex HAADF image.

    Parameters
    ----------
    image : Image
        HAADF image of layered NCM (or another layered oxide) along [100]hex.
    reference : Image, "simulate" or None
        Where R0 comes from: an image of the ordered material under the same conditions,
        or ``"simulate"`` (an ordered crystal simulated with ``reference_params``, or with
        the pixel size, orientation and probe width measured here and the default probe
        tail, Z exponent, etc.). None: no reference, f is NaN (R and phases still given;
        rock-salt then means R >= 0.8).
    reference_params : HaadfParams, optional
        Conditions of the image, for the simulated reference (disorder, surface and noise
        are removed; thickness, probe, Z exponent and background are kept). Without them
        the reference has the default conditions, the measured probe width and no
        background (an image without vacuum is then taken as black-level corrected).
    model : {"exchange", "substitution"}
        Disorder model for f (stated in the result).
    window_nm : float
        Depth window width (or tile edge when no surface is in view).
    depth_offset_nm : float
        Added to every depth. With a surface in view, depths are measured from it (use 0);
        for an image entirely inside the particle, pass the nominal depth of the image.
    pixel_size_nm : float, optional
        Overrides (or supplies) the image calibration.
    probe_fwhm_nm : float, optional
        Probe core FWHM; default: measured from the column fits.
    background : float, optional
        Constant subtracted from every site intensity (image units); default: the vacuum
        level when a surface is in view, else nothing. The reference gets the same
        treatment: with a known background (given or vacuum) its own is subtracted (a
        reference image: this same value; a simulated one: its ``background_fraction``);
        with none known neither is, and a constant background cancels exactly in f as
        long as the reference shares the image's conditions (a reference image recorded
        under them, or ``reference_params`` that include the image's background).
    surface : {"auto", "none"}
        Look for the particle surface, or treat the whole image as inside.
    min_sites : int
        Windows need this many TM and Li sites.
    confidence : float
        Level of the f intervals.
    seed : int
        Seed of the simulated reference.
    orientation_deg : float, optional
        Approximate direction of the (003) planes from the x axis (+-10 deg). Without it
        the strongest (003)-like reflection and the other {111}-type cation-plane
        families are all tried (in rock-salt and spinel-like material their reflections
        and superstructures look like (003)), and the indexing with the strongest TM/Li
        plane contrast (lowest R) that passes the consistency check is kept.

    calibration : CalibrationPoint, optional
        R0, k and k_tm for the image's optics and thickness from a multislice table
        (:func:`liprobe.stem.calibration.calibration_at`). With ``reference`` "simulate"
        or None, R0 comes from it; with a reference image, R0 comes from the image and k
        from the calibration. Its errors (frozen phonons, thickness) enter the interval.
    surface_normal_deg : float, optional
        Direction (from the x axis, pixel coordinates) in which depth increases, for an
        image with no vacuum edge in view: windows become strips of ``window_nm`` across
        it, ``depth_offset_nm`` being the depth of the image centre.

    Returns
    -------
    HaadfAnalysis

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.stem.simulate import HaadfParams, DisorderProfile, simulate_haadf
    >>> params = HaadfParams(shape_px=(192, 192), disorder=DisorderProfile.uniform(0.2))
    >>> img, truth = simulate_haadf(params, rng=np.random.default_rng(1))
    >>> res = analyze_haadf(img, reference="simulate", reference_params=params, window_nm=4)
    >>> abs(res.f - 0.2) < 0.03
    True
    """
    if not isinstance(image, Image):
        raise ParameterError(f"image must be a liprobe.data.Image, got {type(image).__name__}")
    if model not in MODELS:
        raise ParameterError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if not window_nm > 0:
        raise ParameterError(f"window_nm must be positive, got {window_nm}")
    ps = pixel_size_nm if pixel_size_nm is not None else image.pixel_size_nm
    _check_image(image, ps)
    if isinstance(reference, Image):
        _check_image(reference, reference.pixel_size_nm or ps)
    meas = measure_sites(image.pixels, pixel_size_nm=ps, probe_fwhm_nm=probe_fwhm_nm,
                         surface=surface, background=background,
                         orientation_deg=orientation_deg)
    # the image's background is known when given or measured in vacuum; otherwise
    # nothing is subtracted from the image nor from the reference (it cancels in f)
    background_known = background is not None or meas.surface.found
    background_source = ("given" if background is not None
                         else "vacuum" if meas.surface.found else "none")
    ref, ref_kind = _reference_ratio(reference, reference_params, meas, surface=surface,
                                     background_known=background_known, seed=seed,
                                     calibration=calibration)
    sens = ({} if calibration is None else
            {"k": calibration.k, "k_se": calibration.k_se, "k_tm": calibration.k_tm,
             "k_tm_se": calibration.k_tm_se})
    strip_depth = None
    depth_source = "surface" if meas.surface.found else "none"
    if not meas.surface.found and surface_normal_deg is not None:
        strip_depth = _normal_depth(meas, image.pixels.shape, surface_normal_deg,
                                    depth_offset_nm)
        depth_source = "normal"
    windows, area_R, area_se = [], [], []
    for sel, depth, lo, hi in _window_groups(meas, window_nm, depth_offset_nm, strip_depth):
        n_tm = int(np.sum(sel & (meas.sites.site == 0)))
        n_li = int(np.sum(sel & (meas.sites.site == 1)))
        if n_tm < min_sites or n_li < min_sites:
            continue
        ratio = _ratio(meas, sel)
        area_R.append(ratio.R)
        area_se.append(ratio.se)
        tm_level = float(np.mean(meas.intensity[sel & (meas.sites.site == 0)])) - meas.background
        li = sel & (meas.sites.site == 1)
        alt = li_alternation(meas.intensity[li] - meas.background, meas.sites.plane[li],
                             meas.sites.inplane_index[li], tm_level=tm_level)
        if ref_kind == "none":
            f, ci = math.nan, (math.nan, math.nan)
        else:
            est = antisite_fraction(ratio, ref, model=model, confidence=confidence, **sens)
            f, ci = est.f, est.f_ci
        phase = classify_phase(_classification_f(ratio, ref), alt)
        windows.append(HaadfWindow(float(depth), float(lo), float(hi), ratio.R, ratio.se, f,
                                   ci, phase, alt.amplitude, alt.z, n_tm, n_li))
    windows.sort(key=lambda w: w.depth_lo_nm)
    pooled = _ratio(meas, meas.in_material)
    areas = independent_area_se(pooled.se, np.array(area_R), np.array(area_se))
    overall = dataclasses.replace(pooled, se=areas.se)
    if ref_kind == "none":
        mix = MixingEstimate(math.nan, math.nan, (math.nan, math.nan), model, overall.R,
                             math.nan, confidence)
    else:
        mix = antisite_fraction(overall, ref, model=model, confidence=confidence, **sens)
    profile = plane_profile(image.pixels, meas.sites, pixel_size_nm=meas.pixel_size_nm,
                            mask=meas.surface.material if meas.surface.found else None)
    site_depth = (strip_depth if strip_depth is not None else meas.depth_nm + depth_offset_nm)
    return HaadfAnalysis(
        d003_nm=meas.sites.d003_nm, d003_se_nm=meas.sites.d003_se_nm,
        d003_fft_nm=meas.lattice.d003_nm, orientation_deg=meas.sites.orientation_deg,
        column_period_nm=meas.sites.column_period_nm, R=overall.R, R_se=overall.se,
        R0=ref.R, R0_se=ref.se, f=mix.f, f_ci=mix.f_ci, model=model, reference=ref_kind,
        background=meas.background, surface_found=meas.surface.found,
        depth_offset_nm=float(depth_offset_nm), windows=tuple(windows), columns=meas.columns,
        sites=meas.sites, site_intensity=meas.intensity,
        site_depth_nm=site_depth, profile=profile,
        pixel_size_nm=meas.pixel_size_nm, background_source=background_source,
        k=mix.k, k_tm=mix.k_tm,
        calibration=None if calibration is None else calibration.to_dict(),
        R_se_method=areas.method, depth_source=depth_source,
        interval_note=_interval_note(ref_kind, calibration, background_source),
    )


def _interval_note(ref_kind: str, calibration, background_source: str) -> str:
    """What the f interval contains, in words."""
    if ref_kind == "none":
        return "no reference: f not computed"
    parts = ["counting and site-to-site scatter over independent areas"]
    if ref_kind == "calibration":
        parts.append(f"R0 and k from the multislice calibration ({calibration.source}) with "
                     f"their frozen-phonon errors and a thickness uncertainty of "
                     f"{calibration.thickness_sigma_nm:g} nm")
    elif ref_kind == "image":
        parts.append("R0 measured on the reference image")
        parts.append(f"k = {calibration.k:.3f} ± {calibration.k_se:.3f} from the multislice "
                     f"calibration ({calibration.source})" if calibration is not None else
                     "k = 1 (linear imaging) assumed: without a calibration, channelling "
                     "makes f read low by up to ~30 %")
    else:
        return ("APPROXIMATE: R0 from a linear-incoherent simulation (no channelling, no "
                "thermal diffuse scattering) and k = 1; the interval holds only the "
                "counting scatter, not this model error (f can read ~30 % low); give the "
                "optics and thickness for a multislice calibration, or a reference image")
    text = "interval contains " + "; ".join(parts)
    if ref_kind == "calibration" and background_source == "none":
        text += ("; WARNING: no vacuum in view and no background given, so R includes the "
                 "detector offset that the calibration's R0 does not: pass the background")
    return text

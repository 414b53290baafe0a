"""Parameters of a synthetic atom-probe specimen (frozen, picklable, units in names)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from liprobe.errors import ParameterError
from liprobe.synth.profile import ELEMENTS, DepthProfile
from liprobe.synth.species import DEFAULT_EVAPORATION, Species, evaporation_table

__all__ = ["LineFeature", "Cluster", "DeadTime", "SpecimenParams"]


def _point(value: object, name: str) -> tuple[float, float, float]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be three finite numbers (x, y, z in nm), got {value}")
    return (float(arr[0]), float(arr[1]), float(arr[2]))


def _positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ParameterError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


@dataclass(frozen=True)
class LineFeature:
    """A dislocation-like straight line with enriched Li.

    Ions within ``radius_nm`` of the segment from ``start_nm`` to ``end_nm`` (specimen
    coordinates: x, y across, z down from the specimen top) see their Li ratio multiplied
    by ``li_enrichment``.
    """

    start_nm: tuple[float, float, float]
    end_nm: tuple[float, float, float]
    radius_nm: float = 2.0
    li_enrichment: float = 4.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_nm", _point(self.start_nm, "LineFeature start_nm"))
        object.__setattr__(self, "end_nm", _point(self.end_nm, "LineFeature end_nm"))
        _positive(self.radius_nm, "LineFeature radius_nm")
        _positive(self.li_enrichment, "LineFeature li_enrichment", allow_zero=True)


@dataclass(frozen=True)
class Cluster:
    """A spherical cluster where one element's ratio is multiplied by ``enrichment``."""

    center_nm: tuple[float, float, float]
    radius_nm: float = 2.0
    element: str = "Li"
    enrichment: float = 3.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "center_nm", _point(self.center_nm, "Cluster center_nm"))
        _positive(self.radius_nm, "Cluster radius_nm")
        _positive(self.enrichment, "Cluster enrichment", allow_zero=True)
        if self.element not in ELEMENTS:
            raise ParameterError(f"Cluster element must be one of {ELEMENTS}, got {self.element!r}")


@dataclass(frozen=True)
class DeadTime:
    """Same-isotope detector dead-time loss within one multi-hit pulse.

    A later ion of a pulse is lost when an earlier ion of the same pulse arrived within
    ``dead_time_ns`` and hit the detector within ``dead_zone_mm`` of it; arrival within
    a few ns means the same m/q, in practice the same isotope.
    """

    enabled: bool = False
    dead_time_ns: float = 3.0
    dead_zone_mm: float = 3.0

    def __post_init__(self) -> None:
        _positive(self.dead_time_ns, "DeadTime dead_time_ns", allow_zero=True)
        _positive(self.dead_zone_mm, "DeadTime dead_zone_mm", allow_zero=True)


@dataclass(frozen=True)
class SpecimenParams:
    """Everything that defines a synthetic NCM atom-probe specimen.

    Geometry: a truncated cone, radius ``apex_radius_nm`` at the top (z = 0, first
    evaporated) growing with half-angle ``shank_angle_deg`` down to ``length_nm``. With
    ``n_ions`` set, the length is chosen so that the specimen holds that many ions (the
    ``length_nm`` field is then ignored). Defaults describe a LEAP 4000X HR in laser mode.

    Parameters
    ----------
    apex_radius_nm, shank_angle_deg, length_nm : float
        Needle geometry (shank angle is the half-angle of the cone).
    atom_density_per_nm3 : float
        Atoms per nm^3 of Li(Ni0.80Co0.15Mn0.05)O2 (R-3m: about 119).
    detection_efficiency : float
        Fraction of atoms detected (0.37 for a LEAP 4000X HR).
    lateral_blur_nm, depth_blur_nm : float
        Standard deviation of the Gaussian reconstruction blur across and along z.
    specimen_depth_nm : float
        Depth of the specimen top below the particle surface.
    profile : DepthProfile
        True element ratios by depth below the particle surface.
    line_features, clusters : tuple
        Li-rich lines (:class:`LineFeature`) and clusters (:class:`Cluster`).
    li_trend_per_nm : float
        Field-induced Li migration artefact: the generated Li ratio is multiplied by
        ``1 + li_trend_per_nm * (z - length/2)`` (the material profile is unchanged).
    evaporation : tuple of (species name, fraction)
        Share of each class's ions leaving as each species (see ``species.SPECIES``).
    overlaps : bool
        Whether species whose peaks coincide with another's (O2+ vs 64Ni2+, O2 2+ vs O+,
        CoO+ vs NiO+) are generated.
    mass_resolving_power : float
        m / FWHM of the Gaussian peak core.
    thermal_tail_ns, thermal_tail_fraction : float
        Mean of the exponential time-of-flight delay of laser-heated (late) ions, and the
        fraction of ions that have it.
    background_fraction : float
        Fraction of detected events that are constant-TOF background.
    background_range_da : (float, float)
        m/q span of the background.
    multi_hit_probability : float
        Probability that a pulse that detects an ion detects more than one.
    multi_hit_mean_extra : float
        Mean number of extra ions in a multi-hit pulse (geometric).
    detection_rate_per_pulse : float
        Mean detected events per pulse (sets ``pulses_since_last``).
    dead_time : DeadTime
        Same-isotope dead-time loss.
    flight_length_mm, evaporation_field_v_per_nm, field_factor, detector_radius_mm : float
        Instrument model for time of flight, DC voltage (V = k F R) and detector position.
    n_ions : int, optional
        Size the specimen by ion count (before dead-time loss) instead of by length.
    """

    apex_radius_nm: float = 25.0
    shank_angle_deg: float = 5.0
    length_nm: float = 100.0
    atom_density_per_nm3: float = 119.0
    detection_efficiency: float = 0.37
    lateral_blur_nm: float = 0.5
    depth_blur_nm: float = 0.2
    specimen_depth_nm: float = 0.0
    profile: DepthProfile = field(default_factory=DepthProfile.uniform)
    line_features: tuple[LineFeature, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    li_trend_per_nm: float = 0.0
    evaporation: tuple[tuple[str, float], ...] = DEFAULT_EVAPORATION
    overlaps: bool = True
    mass_resolving_power: float = 800.0
    thermal_tail_ns: float = 2.0
    thermal_tail_fraction: float = 0.3
    background_fraction: float = 0.01
    background_range_da: tuple[float, float] = (1.0, 120.0)
    multi_hit_probability: float = 0.15
    multi_hit_mean_extra: float = 1.3
    detection_rate_per_pulse: float = 0.005
    dead_time: DeadTime = field(default_factory=DeadTime)
    flight_length_mm: float = 382.0
    evaporation_field_v_per_nm: float = 25.0
    field_factor: float = 3.3
    detector_radius_mm: float = 20.0
    n_ions: int | None = None

    def __post_init__(self) -> None:
        for name in ("apex_radius_nm", "length_nm", "atom_density_per_nm3",
                     "mass_resolving_power", "flight_length_mm",
                     "evaporation_field_v_per_nm", "field_factor", "detector_radius_mm",
                     "detection_rate_per_pulse", "multi_hit_mean_extra"):
            _positive(getattr(self, name), name)
        for name in ("lateral_blur_nm", "depth_blur_nm", "specimen_depth_nm",
                     "thermal_tail_ns"):
            _positive(getattr(self, name), name, allow_zero=True)
        if not 0 <= self.shank_angle_deg < 45:
            raise ParameterError(f"shank_angle_deg must be in [0, 45), got {self.shank_angle_deg}")
        for name in ("detection_efficiency",):
            if not 0 < getattr(self, name) <= 1:
                raise ParameterError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        for name in ("thermal_tail_fraction", "background_fraction", "multi_hit_probability"):
            if not 0 <= getattr(self, name) < 1:
                raise ParameterError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not np.isfinite(self.li_trend_per_nm):
            raise ParameterError("li_trend_per_nm must be finite")
        lo, hi = (float(v) for v in self.background_range_da)
        if not 0 < lo < hi:
            raise ParameterError(f"background_range_da must be (low, high) with 0 < low < high, "
                                 f"got {self.background_range_da}")
        object.__setattr__(self, "background_range_da", (lo, hi))
        if self.n_ions is not None and int(self.n_ions) < 1:
            raise ParameterError(f"n_ions must be >= 1, got {self.n_ions}")
        if self.n_ions is not None:
            object.__setattr__(self, "n_ions", int(self.n_ions))
        if not isinstance(self.profile, DepthProfile):
            raise ParameterError("profile must be a DepthProfile (see liprobe.synth.paper_profile)")
        object.__setattr__(self, "line_features", tuple(self.line_features))
        object.__setattr__(self, "clusters", tuple(self.clusters))
        evaporation = tuple((str(k), float(v)) for k, v in (
            self.evaporation.items() if isinstance(self.evaporation, dict) else self.evaporation))
        object.__setattr__(self, "evaporation", evaporation)
        evaporation_table(evaporation, overlaps=self.overlaps)  # validates

    @property
    def species_fractions(self) -> tuple[tuple[Species, float], ...]:
        """``((Species, fraction), ...)`` actually generated (after ``overlaps``)."""
        return evaporation_table(self.evaporation, overlaps=self.overlaps)

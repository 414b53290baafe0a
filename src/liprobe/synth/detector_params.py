"""Parameters of a synthetic detector-space atom-probe run (frozen, units in names)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from liprobe.errors import ParameterError
from liprobe.synth.params import SpecimenParams
from liprobe.synth.profile import ELEMENTS
from liprobe.synth.species import get_species

__all__ = ["MarkerLayer", "Dissociation", "DetectorRun", "detector_specimen"]


def _check(value: float, name: str, *, low: float = 0.0, allow_low: bool = False) -> float:
    value = float(value)
    ok = math.isfinite(value) and (value >= low if allow_low else value > low)
    if not ok:
        raise ParameterError(f"{name} must be {'>=' if allow_low else '>'} {low}, got {value}")
    return value


@dataclass(frozen=True)
class MarkerLayer:
    """A layer of known thickness where one element is enriched (a depth-scale marker).

    The layer spans depths ``depth_nm`` to ``depth_nm + thickness_nm`` below the initial
    apex; inside, the ratio of ``element`` is multiplied by ``enrichment``.
    """

    depth_nm: float
    thickness_nm: float
    element: str = "Co"
    enrichment: float = 4.0

    def __post_init__(self) -> None:
        _check(self.depth_nm, "MarkerLayer depth_nm", allow_low=True)
        _check(self.thickness_nm, "MarkerLayer thickness_nm")
        _check(self.enrichment, "MarkerLayer enrichment", allow_low=True)
        if self.element not in ELEMENTS:
            raise ParameterError(f"MarkerLayer element must be one of {ELEMENTS}, "
                                 f"got {self.element!r}")


@dataclass(frozen=True)
class Dissociation:
    """In-flight dissociation of a molecular ion into two fragments.

    A ``fraction`` of the parent ions of the main isotopologue break up after gaining a
    fraction alpha (uniform in ``alpha_range``) of the accelerating potential, e.g.
    ``LiO+ -> Li+ + O`` (``second_fragment_charge=0``: a neutral, which is detected but
    never accelerated after the break-up). Both fragments are detected in the parent's
    pulse.

    Parameters
    ----------
    parent : str
        Species name of the parent (see ``liprobe.synth.SPECIES``), e.g. ``"LiO+"``.
    first_fragment : tuple of (str, int)
        Atoms of the first fragment, e.g. ``(("Li", 1),)``; the second fragment is the
        rest of the parent.
    first_fragment_charge : int
        Charge of the first fragment; the second carries the rest of the parent's charge.
    fraction : float
        Share of the parent's main-isotopologue ions that dissociate.
    alpha_range : (float, float)
        Range of the fraction of the accelerating potential gained before the break-up.
    """

    parent: str = "LiO+"
    first_fragment: tuple[tuple[str, int], ...] = (("Li", 1),)
    first_fragment_charge: int = 1
    fraction: float = 0.3
    alpha_range: tuple[float, float] = (0.2, 1.0)

    def __post_init__(self) -> None:
        sp = get_species(self.parent)
        parent_atoms = dict(sp.atoms)
        first = tuple((str(s), int(c)) for s, c in self.first_fragment)
        for symbol, count in first:
            if parent_atoms.get(symbol, 0) < count or count < 1:
                raise ParameterError(f"Dissociation first_fragment {first} is not part of "
                                     f"{self.parent} ({sp.atoms})")
        if first == tuple(sp.atoms):
            raise ParameterError("Dissociation first_fragment must leave a second fragment")
        if not 0 <= self.first_fragment_charge <= sp.charge:
            raise ParameterError(f"first_fragment_charge must be in 0..{sp.charge}, "
                                 f"got {self.first_fragment_charge}")
        if not 0 < self.fraction <= 1:
            raise ParameterError(f"Dissociation fraction must be in (0, 1], got {self.fraction}")
        lo, hi = (float(v) for v in self.alpha_range)
        if not 0 < lo < hi <= 1:
            raise ParameterError(f"alpha_range must be (low, high) with 0 < low < high <= 1, "
                                 f"got {self.alpha_range}")
        object.__setattr__(self, "first_fragment", first)
        object.__setattr__(self, "alpha_range", (lo, hi))

    @property
    def second_fragment(self) -> tuple[tuple[str, int], ...]:
        """Atoms of the second fragment (the parent minus the first)."""
        rest = dict(get_species(self.parent).atoms)
        for symbol, count in self.first_fragment:
            rest[symbol] -= count
        return tuple((s, c) for s, c in rest.items() if c > 0)

    @property
    def second_fragment_charge(self) -> int:
        """Charge of the second fragment (0: neutral)."""
        return get_species(self.parent).charge - self.first_fragment_charge


@dataclass(frozen=True)
class DetectorRun:
    """A specimen evaporated through a point-projection model onto a detector.

    The needle (apex radius, shank angle), the field factor k_f, the evaporation field
    F, the detection efficiency eta, the flight path L and the detector radius r_D come
    from ``specimen`` (:class:`~liprobe.synth.SpecimenParams`); this adds what the
    projection and the instrument's errors need.

    Parameters
    ----------
    specimen : SpecimenParams
        Chemistry, needle and instrument constants (``flight_length_mm``,
        ``detector_radius_mm``; see :func:`detector_specimen` for a straight-flight
        instrument with a useful field of view).
    icf : float
        Image compression factor xi: the angle at the tip is xi times the angle of the
        flight path to the detector.
    lattice_spacing_nm : float, optional
        Atoms sit on planes normal to the analysis direction with this spacing (e.g. the
        d(003) = 0.473 nm of a layered oxide along c); None for an amorphous specimen.
    plane_jitter_nm : float
        Standard deviation of an atom's position about its plane.
    marker_layers : tuple of MarkerLayer
        Layers of known depth and thickness (depth-scale markers).
    voltage_noise_fraction : float
        Relative standard deviation of the recorded voltage about k_f F R.
    voltage_offset_kv : float
        Time-of-flight error: ions gain e (V - offset) instead of e V, so the m/q
        computed with the recorded V is high by V / (V - offset) (worst at low voltage).
    bowl_error : float
        Time-of-flight error from the flight path: the path to a detector point at
        distance D from the centre is L sqrt(1 + bowl_error (D / L)^2) (1 is an
        uncorrected straight flight path), so m/q grows towards the detector edge.
    multi_hit_spread_nm : float
        Lateral spread (along the evaporation ring) of the other ions of a multi-hit.
    dissociations : tuple of Dissociation
        In-flight dissociation channels.
    """

    specimen: SpecimenParams = field(default_factory=lambda: detector_specimen())
    icf: float = 1.65
    lattice_spacing_nm: float | None = None
    plane_jitter_nm: float = 0.03
    marker_layers: tuple[MarkerLayer, ...] = ()
    voltage_noise_fraction: float = 0.0
    voltage_offset_kv: float = 0.0
    bowl_error: float = 0.0
    multi_hit_spread_nm: float = 1.0
    dissociations: tuple[Dissociation, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.specimen, SpecimenParams):
            raise ParameterError("specimen must be a SpecimenParams (see detector_specimen)")
        _check(self.icf, "icf", low=1.0, allow_low=True)
        if self.lattice_spacing_nm is not None:
            _check(self.lattice_spacing_nm, "lattice_spacing_nm")
        for name in ("plane_jitter_nm", "voltage_noise_fraction", "bowl_error",
                     "multi_hit_spread_nm"):
            _check(getattr(self, name), name, allow_low=True)
        if not math.isfinite(self.voltage_offset_kv):
            raise ParameterError("voltage_offset_kv must be finite")
        object.__setattr__(self, "marker_layers", tuple(self.marker_layers))
        object.__setattr__(self, "dissociations", tuple(self.dissociations))
        fov_deg = math.degrees(self.field_of_view_half_angle_rad)
        if fov_deg >= 90 - self.specimen.shank_angle_deg:
            raise ParameterError(
                f"the field of view (half-angle {fov_deg:.1f} deg at the tip) reaches past "
                "the apex cap; lower icf or detector_radius_mm, or raise flight_length_mm")

    @property
    def field_of_view_half_angle_rad(self) -> float:
        """Largest angle at the tip that reaches the detector: xi arctan(r_D / L)."""
        sp = self.specimen
        return self.icf * math.atan(sp.detector_radius_mm / sp.flight_length_mm)

    @property
    def radius_growth(self) -> float:
        """dR/d(apex depth) of a sphere tangent to the shank: sin(a) / (1 - sin(a))."""
        s = math.sin(math.radians(self.specimen.shank_angle_deg))
        return s / (1 - s)

    @property
    def projected_area_factor(self) -> float:
        """G with (events per nm of apex advance) = n_events pi R^2 G (exact cap geometry).

        G = sin^2(t) - s (2 (1 - cos t) - sin^2(t)) for the field-of-view half-angle t and
        the radius growth s; the Bas protocol assumes G = (xi r_D / L)^2.
        """
        t = self.field_of_view_half_angle_rad
        s = self.radius_growth
        return math.sin(t) ** 2 - s * (2 * (1 - math.cos(t)) - math.sin(t) ** 2)

    @property
    def bas_depth_factor(self) -> float:
        """Reconstructed / true depth of the Bas protocol with the generating parameters.

        The small-angle area of the protocol, (xi r_D / L)^2, against the exact
        :attr:`projected_area_factor`: the depth error the protocol itself makes.
        """
        sp = self.specimen
        return self.projected_area_factor / (
            self.icf * sp.detector_radius_mm / sp.flight_length_mm) ** 2


def detector_specimen(**overrides: object) -> SpecimenParams:
    """Specimen parameters of a straight-flight instrument for :class:`DetectorRun`.

    Flight path 100 mm and detector radius 20 mm (a field of view of about 19 deg
    half-angle at the tip with xi = 1.65), no reconstruction blur (positions come from the
    projection); any :class:`SpecimenParams` field can be overridden.

    Examples
    --------
    >>> detector_specimen(n_ions=1000).flight_length_mm
    100.0
    """
    base: dict[str, object] = {"flight_length_mm": 100.0, "detector_radius_mm": 20.0,
                               "lateral_blur_nm": 0.0, "depth_blur_nm": 0.0}
    base.update(overrides)
    return SpecimenParams(**base)

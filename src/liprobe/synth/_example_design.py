"""Design and physics of the synthetic example study (private: see example_study).

The paper's Table 2 regions, the study scales, between-specimen spread, and the three
bridges from a depth profile to bulk numbers: the particle integral (ICP-AES), the fading
cell (cycling) and the Li-deficit-driven disorder (HAADF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liprobe.errors import ParameterError
from liprobe.synth.profile import DepthProfile, paper_profile

__all__ = ["PAPER_DESIGN", "StudyScale", "SCALES", "particle_average", "capacity_curve",
           "disorder_at", "haadf_disorder_profile", "ROCKSALT_END_NM", "SURFACE_LAYER_END_NM",
           "LAYERED_MAX_F", "LI_SPREAD", "CO_SPREAD", "MN_SPREAD",
           "O_SPREAD",
           "DEPTH_SPREAD", "PARTICLE_RADIUS_NM", "LONG_SPECIMENS", "LINE_SPECIMEN",
           "INITIAL_CAPACITY_MAH_G", "ACTIVE_MASS_G", "LINE_COUNT", "LINE_RADIUS_NM",
           "LINE_LI_ENRICHMENT"]

#: (sample name, cycles, depth label as written in the manifest, generating depth in nm;
#: None = bulk). The paper's Table 2 regions.
PAPER_DESIGN: tuple[tuple[str, int, str, float | None], ...] = (
    ("NCM-pristine", 0, "bulk", None),
    ("NCM-formation", 2, "bulk", None),
    ("NCM-100", 100, "< 100 nm", 50.0),
    ("NCM-100", 100, "200 nm", 200.0),
    ("NCM-100", 100, "300 nm", 300.0),
    ("NCM-100", 100, "2000 nm", 2000.0),
    ("NCM-300", 300, "surface", 0.0),
    ("NCM-300", 300, "30 nm", 30.0),
    ("NCM-300", 300, "100 nm", 100.0),
    ("NCM-300", 300, "350 nm", 350.0),
    ("NCM-300", 300, "700 nm", 700.0),
    ("NCM-300", 300, "1000 nm", 1000.0),
    ("NCM-300", 300, "1500 nm", 1500.0),
    ("NCM-300", 300, "2500 nm", 2500.0),
)

#: Between-specimen relative spread (1 SD) of the Li ratio and of the Co and Mn shares of
#: the metal (Ni takes up the rest): the paper's Fig. 1 error bars are a few % of Li and
#: its Table 2 rows vary by 5-10 % in Co and Mn.
LI_SPREAD, CO_SPREAD, MN_SPREAD = 0.04, 0.08, 0.10
#: Between-specimen relative spread (1 SD) of the measured O ratio: neutral O2 loss depends
#: on each needle's field and laser coupling. The published O column (Table 2) scatters by
#: SD 0.06 (3 %) between depths of one sample where nothing else changes (0.3-2.5 um), i.e.
#: about 3 % x sqrt(5) = 7 % per specimen for means of five; 6 % is used.
O_SPREAD = 0.06
#: Relative SD of a replicate's site depth (lognormal).
DEPTH_SPREAD = 0.10

#: Specimens analysed deeper into the needle than the others (ion count x this factor, at
#: the demo scale): the 300-cycle surface needles must reach ~45 nm for the ~15 nm
#: Li-depleted surface layer of Chae et al. (Fig. 3a) and the rise below it to show inside
#: one needle, and the Li-line needle (below) must be long enough for its lines.
LONG_SPECIMENS: dict[tuple[str, str], float] = {("NCM-300", "surface"): 5.0,
                                                ("NCM-100", "< 100 nm"): 2.0,
                                                ("NCM-300", "1000 nm"): 4.0}
#: The one specimen holding Li-rich lines (dislocation-like Li pipes, Chae et al. Fig. 6):
#: (sample, depth label, replicate), and its lines: count, radius and Li enrichment.
LINE_SPECIMEN = ("NCM-300", "1000 nm", 1)
LINE_COUNT, LINE_RADIUS_NM, LINE_LI_ENRICHMENT = 2, 1.5, 2.5

#: Particle radius (secondary particles ~10 um in diameter).
PARTICLE_RADIUS_NM = 5000.0
#: 1 C discharge capacity of the paper's cell: 137.5 mAh/g is 76 % of it.
INITIAL_CAPACITY_MAH_G = 137.5 / 0.76
#: Active mass of the modelled 18650 cathode: 17.7 mg/cm2 x 92 % active x 700 cm2 coated.
ACTIVE_MASS_G = 17.7e-3 * 0.92 * 700.0


@dataclass(frozen=True)
class StudyScale:
    """Size of a generated study: ions per specimen and the needle and image sizes."""

    name: str
    n_ions: int
    apex_radius_nm: float
    haadf_size_px: int
    replicates: int = 5


#: ``demo``: runs end to end in minutes on 2 cores. ``paper``: realistic ion counts.
SCALES: dict[str, StudyScale] = {
    "demo": StudyScale("demo", n_ions=40_000, apex_radius_nm=6.0, haadf_size_px=256),
    "paper": StudyScale("paper", n_ions=4_000_000, apex_radius_nm=25.0, haadf_size_px=512),
}


def particle_average(profile: DepthProfile, element: str, *,
                     radius_nm: float = PARTICLE_RADIUS_NM) -> float:
    """Sphere average (3/R^3) integral_0^R c(d) (R - d)^2 dd of a depth profile.

    Trapezoid rule on a grid fine near the surface (0.05 nm steps to 200 nm, then
    geometric). A uniform profile returns its value exactly.
    """
    if not radius_nm > 0:
        raise ParameterError(f"radius_nm must be positive, got {radius_nm}")
    depth = np.unique(np.concatenate([np.arange(0.0, min(200.0, radius_nm), 0.05),
                                      np.geomspace(min(200.0, radius_nm), radius_nm, 4000)]))
    weight = (radius_nm - depth) ** 2
    values = profile.ratio_at(element, depth)
    return float(np.trapezoid(values * weight, depth) / np.trapezoid(weight, depth))


def capacity_curve(cycle: np.ndarray, *, rng: np.random.Generator | None = None,
                   noise_mah_g: float = 0.15) -> np.ndarray:
    """Specific discharge capacity (mAh/g) of the paper's cell at 1 C, 45 C.

    ``q(N) = q1 (1 - 0.24 ((N - 1) / 299)^1.1)``, q1 = 137.5 / 0.76 mAh/g: 76 % retention and
    137.5 mAh/g at cycle 300 (Chae et al.), plus Gaussian noise of ``noise_mah_g`` when an
    ``rng`` is given.
    """
    n = np.asarray(cycle, dtype=np.float64)
    q = INITIAL_CAPACITY_MAH_G * (1.0 - 0.24 * (np.clip(n - 1.0, 0, None) / 299.0) ** 1.1)
    if rng is not None and noise_mah_g > 0:
        q = q + rng.normal(0.0, noise_mah_g, q.shape)
    return q


#: The reconstructed surface layer of the 300-cycle particle (Chae et al.: rock-salt /
#: spinel-like surface where Li is deficient, up to ~15 nm): rock salt from the surface to
#: ``ROCKSALT_END_NM``, spinel-like to ``SURFACE_LAYER_END_NM``, layered below.
ROCKSALT_END_NM, SURFACE_LAYER_END_NM = 5.0, 15.0
#: Most TM on the Li sites of the layered lattice below the surface layer. Where the Li
#: deficit would drive more (15-30 nm, where Li climbs back from ~0 to a third of the bulk)
#: the layered zone keeps this much ("reduced TM migration at ~30 nm"): a layered region
#: with its Li planes nearly as bright as its TM planes would be rock salt, which
#: :func:`liprobe.stem.phases.classify_phase` calls from f >= 0.35 (its default), so the
#: layered zone stays 0.03 below that boundary.
LAYERED_MAX_F = 0.32


def disorder_at(depth_nm: np.ndarray | float, cycles: int = 300) -> np.ndarray:
    """Antisite (Li/TM exchange) fraction f that the Li deficit drives at a depth.

    Set by the Li deficit, as the paper argues (Li accommodation follows the structural
    disorder): ``f = 0.5 (1 - Li(d) / Li_bulk)``, 0.5 being full cation mixing (rock salt).
    The HAADF images follow :func:`haadf_disorder_profile`: this f, with the surface layer's
    phases and the layered zone kept below the rock-salt boundary (``LAYERED_MAX_F``).
    """
    profile = paper_profile(cycles)
    bulk = float(profile.ratio_at("Li", PARTICLE_RADIUS_NM))
    li = profile.ratio_at("Li", np.asarray(depth_nm, dtype=np.float64))
    return np.clip(0.5 * (1.0 - li / bulk), 0.0, 0.5)


def haadf_disorder_profile(cycles: int) -> Any:
    """DisorderProfile of the 300-cycle particle: rock salt, spinel-like, then layered.

    Rock salt (f from 0.5 at the surface) to 5 nm and spinel-like (TM on every second
    Li-plane column, mean f from :func:`disorder_at`) to 15 nm form the reconstructed
    surface layer; from 15 nm the lattice is layered with f = min(:func:`disorder_at`,
    ``LAYERED_MAX_F``): 0.32 at 15-30 nm (reduced TM migration), ~0.13 at 700 nm (slight),
    0 in the centre (Chae et al. 2021, STEM-HAADF of the 300-cycle particle; F. Lin et
    al., Nat. Commun. 5 (2014) 3529 for the rock-salt / spinel-like / layered sequence).
    Every label is the one :func:`liprobe.stem.phases.classify_phase` gives for the
    profile's own f and Li-plane alternation; f is linear between the knots, the step from
    the surface layer to the layered zone lies within the last 0.5 nm of the spinel-like
    zone.
    """
    from liprobe.stem.simulate import DisorderProfile

    knots = (0.0, ROCKSALT_END_NM, SURFACE_LAYER_END_NM - 0.5, SURFACE_LAYER_END_NM, 30.0,
             50.0, 100.0, 200.0, 350.0, 700.0, 1000.0, 1500.0, 2500.0, 5000.0)
    f, phase = [], []
    for d in knots:
        if d < ROCKSALT_END_NM:
            f.append(0.5)
            phase.append("rock-salt")
        elif d < SURFACE_LAYER_END_NM:
            f.append(float(disorder_at(d, cycles)))
            phase.append("spinel-like")
        else:
            f.append(min(float(disorder_at(d, cycles)), LAYERED_MAX_F))
            phase.append("layered")
    return DisorderProfile(knots, tuple(f), tuple(phase), interpolation="linear")



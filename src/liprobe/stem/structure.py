"""Crystallography of layered NCM viewed along [100]hex, and the disorder depth profile.

Cation planes lie every c/6 along the c axis, alternating transition metal (TM, 3a) and
lithium (3b) planes; within a plane, the projected columns repeat every sqrt(3)·a/2. ABC
stacking shifts each cation plane by one third of that period, so a Li-plane column sits
at the in-plane position used by neither neighbouring TM plane. Oxygen planes sit half way
between cation planes, at the in-plane position of the cation plane two above them
(rock-salt stacking A c B a C b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["DisorderProfile", "PHASES", "phase_code", "A_NM", "C_NM"]

#: Lattice parameters of Li(Ni0.80Co0.15Mn0.05)O2 (DOMAIN.md §2), nm.
A_NM = 0.287
C_NM = 1.419

#: Phase labels, in the order of their integer codes.
PHASES: tuple[str, ...] = ("layered", "spinel-like", "rock-salt")


def phase_code(label: str) -> int:
    """Integer code of a phase label (``"layered"``, ``"spinel-like"``, ``"rock-salt"``)."""
    try:
        return PHASES.index(label)
    except ValueError:
        raise ParameterError(
            f"unknown phase {label!r}; use one of {', '.join(PHASES)}"
        ) from None


@dataclass(frozen=True)
class DisorderProfile:
    """Antisite fraction and phase as a function of depth below the particle surface.

    Zone ``k`` runs from ``depth_nm[k]`` to ``depth_nm[k + 1]`` (the last one to infinity,
    the first one also covers shallower depths) and has TM-on-Li fraction ``f[k]`` and
    phase ``phase[k]``. Use ``interpolation="linear"`` to interpolate ``f`` between the
    zone starts instead (the phase stays piecewise constant).

    In the layered phase a fraction ``f`` of the Li sites holds TM (and, in the exchange
    model, the same fraction of TM sites holds Li). In the spinel-like phase the TM on
    the Li plane sits on every second column (occupancy 2f, then 0), so the Li-plane
    intensity alternates; in the rock-salt phase the cations are mixed (use ``f = 0.5``).

    Examples
    --------
    >>> profile = DisorderProfile((0.0, 3.0, 8.0), (0.5, 0.25, 0.02),
    ...                           ("rock-salt", "spinel-like", "layered"))
    >>> float(profile.f_at(np.array([5.0]))[0])
    0.25
    """

    depth_nm: tuple[float, ...] = (0.0,)
    f: tuple[float, ...] = (0.0,)
    phase: tuple[str, ...] = ("layered",)
    interpolation: str = "step"

    def __post_init__(self) -> None:
        depth = tuple(float(d) for d in self.depth_nm)
        f = tuple(float(x) for x in self.f)
        phase = tuple(self.phase)
        if not depth or len(f) != len(depth) or len(phase) != len(depth):
            raise ParameterError(
                "DisorderProfile needs depth_nm, f and phase of the same non-zero length, "
                f"got {len(depth)}, {len(f)}, {len(phase)}"
            )
        if any(b <= a for a, b in zip(depth, depth[1:])):
            raise ParameterError(f"DisorderProfile depth_nm must increase, got {depth}")
        if any(not (0.0 <= x <= 1.0) for x in f):
            raise ParameterError(f"DisorderProfile f must lie in [0, 1], got {f}")
        for label in phase:
            phase_code(label)
        if self.interpolation not in ("step", "linear"):
            raise ParameterError(
                f"interpolation must be 'step' or 'linear', got {self.interpolation!r}"
            )
        object.__setattr__(self, "depth_nm", depth)
        object.__setattr__(self, "f", f)
        object.__setattr__(self, "phase", phase)

    @classmethod
    def uniform(cls, f: float, phase: str = "layered") -> DisorderProfile:
        """The same ``f`` and phase at every depth."""
        return cls((0.0,), (f,), (phase,))

    def _zone(self, depth_nm: np.ndarray) -> np.ndarray:
        edges = np.asarray(self.depth_nm)
        return np.clip(np.searchsorted(edges, depth_nm, side="right") - 1, 0, len(edges) - 1)

    def f_at(self, depth_nm: np.ndarray) -> np.ndarray:
        """Antisite fraction at each depth (nm)."""
        depth_nm = np.asarray(depth_nm, dtype=np.float64)
        if self.interpolation == "linear":
            return np.interp(depth_nm, self.depth_nm, self.f)
        return np.asarray(self.f)[self._zone(depth_nm)]

    def phase_code_at(self, depth_nm: np.ndarray) -> np.ndarray:
        """Integer phase code (index into :data:`PHASES`) at each depth."""
        codes = np.array([phase_code(p) for p in self.phase])
        return codes[self._zone(np.asarray(depth_nm, dtype=np.float64))]

    def phase_at(self, depth_nm: float) -> str:
        """Phase label at one depth."""
        return PHASES[int(self.phase_code_at(np.array([depth_nm]))[0])]

"""Small immutable containers shared by every part of liprobe.

The containers never import a file backend and never compute in their constructors
beyond validating shapes and freezing arrays. Internal units are fixed: nm, Da, ns,
kV, mm (detector), px, fractions 0-1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from liprobe.errors import ParameterError
from liprobe.tabular import FrameView

__all__ = ["IonTable", "Ion", "RangeTable", "Image", "ION_FIELDS", "ACQUISITION_METADATA"]

#: Optional per-ion fields with their units. Formats carry a subset; unknown
#: one-to-one APT sections are kept under their own (sanitised) names.
ION_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "tof_ns": "ns",
        "dc_voltage_kv": "kV",
        "pulse_voltage_kv": "kV",
        "detector_x_mm": "mm",
        "detector_y_mm": "mm",
        "pulses_since_last": "pulses",
        "ions_per_pulse": "ions",
    }
)

#: Acquisition conditions a Li measurement depends on, with their units (the keys of
#: :attr:`IonTable.metadata` that liprobe reads, writes and reports). Li evaporation and the
#: apparent Li content depend on laser pulse energy and base temperature (thermal tails,
#: preferential evaporation), detection rate (multi-hits, pile-up of 6Li/7Li) and pulse
#: frequency; the instrument names the detector (efficiency, dead time).
ACQUISITION_METADATA: Mapping[str, str] = MappingProxyType(
    {
        "instrument": "",
        "laser_pulse_energy_pj": "pJ",
        "base_temperature_k": "K",
        "detection_rate_ions_per_pulse": "ions per pulse",
        "pulse_frequency_khz": "kHz",
    }
)


def _frozen(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class IonTable(FrameView):
    """Reconstructed ions of one atom-probe data set.

    Parameters
    ----------
    xyz_nm : (N, 3) float32 array
        Reconstructed positions in nm. Big-endian float32 (as memory-mapped from POS/EPOS)
        is accepted unchanged.
    mass_to_charge_da : (N,) float32 array
        Mass-to-charge-state ratio in Da.
    fields : mapping of str to (N,) arrays, optional
        Optional per-ion fields (see :data:`ION_FIELDS` for the known names and units).
    metadata : mapping of str to str or float, optional
        Acquisition conditions of the whole run where the file states them (see
        :data:`ACQUISITION_METADATA` for the known keys and units); empty by default.

    Examples
    --------
    >>> import numpy as np
    >>> ions = IonTable(np.zeros((2, 3), np.float32), np.array([7.0, 29.0], np.float32))
    >>> ions.n_ions
    2
    """

    xyz_nm: np.ndarray
    mass_to_charge_da: np.ndarray
    fields: Mapping[str, np.ndarray] = field(default_factory=dict)
    metadata: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xyz = np.asarray(self.xyz_nm)
        mass = np.asarray(self.mass_to_charge_da)
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            raise ParameterError(f"xyz_nm must have shape (N, 3), got {xyz.shape}")
        if mass.shape != (xyz.shape[0],):
            raise ParameterError(
                f"mass_to_charge_da must have shape ({xyz.shape[0]},), got {mass.shape}"
            )
        for name, arr in (("xyz_nm", xyz), ("mass_to_charge_da", mass)):
            if arr.dtype.kind != "f" or arr.dtype.itemsize != 4:
                raise ParameterError(f"{name} must be float32, got {arr.dtype}")
        frozen_fields = {}
        for name, values in dict(self.fields).items():
            values = np.asarray(values)
            if values.shape[:1] != (xyz.shape[0],):
                raise ParameterError(
                    f"field {name!r} must have {xyz.shape[0]} rows, got shape {values.shape}"
                )
            frozen_fields[name] = _frozen(values)
        object.__setattr__(self, "xyz_nm", _frozen(xyz))
        object.__setattr__(self, "mass_to_charge_da", _frozen(mass))
        object.__setattr__(self, "fields", MappingProxyType(frozen_fields))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def n_ions(self) -> int:
        """Number of ions."""
        return int(self.mass_to_charge_da.shape[0])

    @property
    def field_names(self) -> tuple[str, ...]:
        """All per-ion quantities: ``x_nm, y_nm, z_nm, mass_to_charge_da`` then the fields."""
        return ("x_nm", "y_nm", "z_nm", "mass_to_charge_da", *self.fields)

    def bbox_nm(self) -> np.ndarray:
        """Bounding box as a (3, 2) array of [min, max] per axis (NaN when empty)."""
        if self.n_ions == 0:
            return np.full((3, 2), np.nan)
        return np.stack([self.xyz_nm.min(axis=0), self.xyz_nm.max(axis=0)], axis=1).astype(
            np.float64
        )

    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per ion, columns :attr:`field_names` (a copy)."""
        import pandas as pd

        data = {"x_nm": self.xyz_nm[:, 0], "y_nm": self.xyz_nm[:, 1],
                "z_nm": self.xyz_nm[:, 2], "mass_to_charge_da": self.mass_to_charge_da}
        data.update({k: v for k, v in self.fields.items() if v.ndim == 1})
        return pd.DataFrame({k: np.asarray(v).astype(np.asarray(v).dtype.newbyteorder("="))
                             for k, v in data.items()})

    def _repr_rows_frame(self) -> tuple[Any, int]:
        return self.take(np.arange(min(self.n_ions, self._repr_rows))).to_frame(), self.n_ions

    def _summary(self) -> str:
        box = self.bbox_nm()
        return (f"{self.n_ions} ions, z {box[2, 0]:.1f} to {box[2, 1]:.1f} nm, fields "
                + ", ".join(self.field_names))

    def take(self, selection: np.ndarray) -> IonTable:
        """A new table with the ions picked by a boolean mask or index array."""
        return IonTable(
            self.xyz_nm[selection],
            self.mass_to_charge_da[selection],
            {k: v[selection] for k, v in self.fields.items()},
            self.metadata,
        )


@dataclass(frozen=True)
class Ion:
    """An ion species of a range file: a name and the atoms it decomposes into.

    ``atoms`` is a tuple of ``(element symbol, count)`` pairs, e.g. ``(("Ni", 1), ("O", 2))``
    for NiO2. An ion with no atoms is a named but unidentified peak (counted as ranged,
    contributing no atoms).
    """

    name: str
    atoms: tuple[tuple[str, int], ...]
    color: str | None = None

    @property
    def atom_counts(self) -> dict[str, int]:
        """The atoms as a dict ``{symbol: count}``."""
        return dict(self.atoms)


@dataclass(frozen=True, eq=False)
class RangeTable(FrameView):
    """Mass ranges of a range file.

    Interval convention (liprobe everywhere): an ion with mass-to-charge ``m`` belongs to
    range ``k`` when ``low_da[k] <= m < high_da[k]`` (closed below, open above).

    Parameters
    ----------
    ions : tuple of Ion
        The ion species.
    low_da, high_da : (M,) float64 arrays
        Range bounds in Da.
    ion_index : (M,) int array
        Index into ``ions`` of each range.
    volume_nm3 : (M,) float64 array, optional
        Atomic volume per range (NaN where the file gives none).
    colors : tuple of str or None, optional
        Per-range colour ``"#rrggbb"`` (None where the file gives none).
    """

    ions: tuple[Ion, ...]
    low_da: np.ndarray
    high_da: np.ndarray
    ion_index: np.ndarray
    volume_nm3: np.ndarray | None = None
    colors: tuple[str | None, ...] | None = None

    def __post_init__(self) -> None:
        low = np.asarray(self.low_da, dtype=np.float64)
        high = np.asarray(self.high_da, dtype=np.float64)
        index = np.asarray(self.ion_index, dtype=np.int64)
        n = low.shape[0]
        if low.ndim != 1 or high.shape != (n,) or index.shape != (n,):
            raise ParameterError("low_da, high_da and ion_index must be 1-D of equal length")
        if n and (index.min() < 0 or index.max() >= len(self.ions)):
            raise ParameterError("ion_index refers to an ion that is not in ions")
        if np.any(~(high > low)):
            bad = int(np.flatnonzero(~(high > low))[0])
            raise ParameterError(
                f"range {bad + 1} has high_da {high[bad]} not above low_da {low[bad]}"
            )
        volume = (
            np.full(n, np.nan)
            if self.volume_nm3 is None
            else np.asarray(self.volume_nm3, dtype=np.float64)
        )
        if volume.shape != (n,):
            raise ParameterError("volume_nm3 must have one value per range")
        colors = (None,) * n if self.colors is None else tuple(self.colors)
        if len(colors) != n:
            raise ParameterError("colors must have one entry per range")
        object.__setattr__(self, "ions", tuple(self.ions))
        object.__setattr__(self, "low_da", _frozen(low))
        object.__setattr__(self, "high_da", _frozen(high))
        object.__setattr__(self, "ion_index", _frozen(index))
        object.__setattr__(self, "volume_nm3", _frozen(volume))
        object.__setattr__(self, "colors", colors)

    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per range (ion, bounds in Da, atoms, volume, colour)."""
        import pandas as pd

        return pd.DataFrame({
            "ion": [self.ions[int(k)].name for k in self.ion_index],
            "low_da": self.low_da, "high_da": self.high_da,
            "atoms": [" ".join(f"{s}:{n}" for s, n in self.ions[int(k)].atoms)
                      for k in self.ion_index],
            "volume_nm3": self.volume_nm3, "color": list(self.colors)})

    def _summary(self) -> str:
        return f"{self.n_ions} ion species in {self.n_ranges} ranges"

    @property
    def n_ranges(self) -> int:
        """Number of mass ranges."""
        return int(self.low_da.shape[0])

    @property
    def n_ions(self) -> int:
        """Number of ion species."""
        return len(self.ions)

    @property
    def ion_names(self) -> tuple[str, ...]:
        """Names of the ion species, in order."""
        return tuple(ion.name for ion in self.ions)

    @property
    def elements(self) -> tuple[str, ...]:
        """Element symbols present in any ion, in order of first appearance."""
        seen: dict[str, None] = {}
        for ion in self.ions:
            for symbol, _ in ion.atoms:
                seen.setdefault(symbol, None)
        return tuple(seen)


@dataclass(frozen=True, eq=False)
class Image:
    """A 2-D microscope image with its calibration.

    Parameters
    ----------
    pixels : (H, W) array
        Intensities (counts or detector units).
    pixel_size_nm : float or None
        Edge of one square pixel in nm; None when the file does not say (analysis then
        asks for it).
    metadata : mapping, optional
        Anything the reader found worth keeping (source format, original units ...).
    """

    pixels: np.ndarray
    pixel_size_nm: float | None
    metadata: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pixels = np.asarray(self.pixels)
        if pixels.ndim != 2:
            raise ParameterError(f"an image must be 2-D, got shape {pixels.shape}")
        if self.pixel_size_nm is not None and not (
            np.isfinite(self.pixel_size_nm) and self.pixel_size_nm > 0
        ):
            raise ParameterError(f"pixel_size_nm must be positive, got {self.pixel_size_nm}")
        object.__setattr__(self, "pixels", _frozen(pixels))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

"""NeXus NXapm (HDF5): a reconstruction with its ranging definitions and acquisition
conditions, in the layout the FAIRmat tools (pynxtools-apm, NOMAD) read and write.

Layout written (NXapm application definition, ``applications/NXapm.nxdl.xml`` of the NeXus
definitions; every field it requires in the groups written is present):

=====================================================  ===================================
``/entry`` (NXentry)                                    ``definition`` = ``NXapm``,
                                                        ``start_time``, ``operation_mode``
``entry/specimen`` (NXsample)                           ``is_simulation``, ``atom_types``
``entry/reconstruction_reference_frame``                Cartesian x, y, z
``entry/atom_probe/reconstruction``                     ``reconstructed_positions`` (n, 3) nm
``entry/atom_probe/mass_to_charge_conversion``          ``mass_to_charge`` (n) Da
``entry/atom_probe/voltage_and_bowl``                   ``raw_tof`` (n) ns  (``tof_ns``)
``entry/atom_probe/hit_finding``                        ``hit_positions`` (n, 2) mm
                                                        (detector x/y), ``hit_multiplicity``
``entry/measurement/event1/instrument/pulser``          ``standing_voltage``,
                                                        ``pulse_voltage`` (n) kV,
                                                        ``pulse_number`` (n; cumulative
                                                        ``pulses_since_last``),
                                                        ``pulse_frequency`` kHz
``.../pulser/source1/pulse_energy``                     laser pulse energy, pJ
``.../stage/temperature_sensor/value``                  base temperature, K
``.../control/target_detection_rate``                   ions per pulse
``entry/measurement/instrument/fabrication/model``      instrument
``entry/atom_probe/ranging/peak_identification/ionK``   one NXatom per ion species:
                                                        ``name``, ``nuclide_hash``,
                                                        ``nuclide_list``, ``charge_state``,
                                                        ``mass_to_charge_range`` (m, 2) Da
``entry/atom_probe/liprobe_fields`` (NXcollection)      any other per-ion field, as is
=====================================================  ===================================

Values are written in their own dtype (float32 stays float32, bit for bit). A required
field whose value the source did not give is written as NaN (numbers) or ``"n/a"`` (text).
Ion species carry elements, not isotopes (``nuclide_hash`` = Z, ``nuclide_list`` rows
``(0, Z)``); the charge state is 0 (not stated by RRNG/RNG/ENV).

Reading accepts any NXapm entry with ``atom_probe*/reconstruction/reconstructed_positions``
and ``mass_to_charge_conversion/mass_to_charge`` (positions in nm unless their ``units``
say Å). :func:`read_nexus_ranges` reads the ranging definitions of such a file, or of a
NeXus file of NXion/NXatom groups (e.g. an IMAGO ``.analysis`` converted by
``ifes_apt_tc_data_modeling``).

Reference: M. Kühbach et al., *Microsc. Microanal.* 27 (2021) (FAIR atom-probe data); NeXus
NXapm, https://manual.nexusformat.org/classes/applications/NXapm.html.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import FormatError
from liprobe.io._binary import existing_file
from liprobe.io._nxlayout import (
    EVENT,
    MAX_ATOMS,
    atoms_of_nuclides,
    nuclide_arrays,
    open_hdf5,
    strings,
    text_of,
    write_group,
)

__all__ = ["read_nexus", "write_nexus", "read_nexus_ranges"]

_PULSER = f"{EVENT}/instrument/pulser"
#: per-ion fields with a home in NXapm: field -> (path below the entry, units)
_FIELD_PATHS = {
    "tof_ns": ("atom_probe/voltage_and_bowl/raw_tof", "ns"),
    "dc_voltage_kv": (f"{_PULSER}/standing_voltage", "kV"),
    "pulse_voltage_kv": (f"{_PULSER}/pulse_voltage", "kV"),
    "ions_per_pulse": ("atom_probe/hit_finding/hit_multiplicity", ""),
}
_DETECTOR = ("atom_probe/hit_finding/hit_positions", "mm")
_PULSE_NUMBER = (f"{_PULSER}/pulse_number", "")
#: metadata key -> (path below the entry, units)
_METADATA_PATHS = {
    "laser_pulse_energy_pj": (f"{_PULSER}/source1/pulse_energy", "pJ"),
    "pulse_frequency_khz": (f"{_PULSER}/pulse_frequency", "kHz"),
    "base_temperature_k": (f"{EVENT}/instrument/stage/temperature_sensor/value", "K"),
    "detection_rate_ions_per_pulse": (f"{EVENT}/instrument/control/target_detection_rate",
                                      "ions per pulse"),
    "instrument": ("measurement/instrument/fabrication/model", ""),
}


def write_nexus(path: str | os.PathLike, ions: IonTable, *,
                ranges: RangeTable | None = None) -> None:
    """Write ``ions`` (and optionally their ``ranges``) as a NeXus NXapm file.

    Every per-ion field and every :attr:`IonTable.metadata` entry is written (see the module
    table); :func:`read_nexus` gives the same table back, bit for bit. Use
    :func:`liprobe.io.write_ions` for an atomic write.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.nxs"
    >>> ions = IonTable(np.eye(2, 3, dtype=np.float32), np.float32([7.0, 16.0]))
    >>> write_nexus(path, ions)
    >>> read_nexus(path).mass_to_charge_da.tolist()
    [7.0, 16.0]
    """
    import h5py

    n = ions.n_ions
    with h5py.File(path, "w") as f:
        f.attrs["NX_class"] = "NXroot"
        f.attrs["default"] = "entry"
        f.attrs["creator"] = "liprobe"
        entry = write_group(f, "entry", "NXentry")
        entry["definition"] = "NXapm"
        entry["start_time"] = ions.metadata.get(
            "start_time", datetime.now(UTC).isoformat(timespec="seconds"))
        if "start_time" not in ions.metadata:
            entry["start_time"].attrs["liprobe_note"] = (
                "time of writing: the source file does not state when the run started")
        entry["operation_mode"] = "apt"
        specimen = write_group(entry, "specimen", "NXsample")
        specimen["is_simulation"] = bool(ions.metadata.get("is_simulation", False))
        specimen["atom_types"] = ", ".join(ranges.elements) if ranges is not None else "n/a"
        frame = write_group(entry, "reconstruction_reference_frame", "NXcoordinate_system")
        frame["type"] = "cartesian"
        for axis, vector in zip("xyz", np.eye(3)):
            frame[axis] = vector
        probe = write_group(entry, "atom_probe", "NXroi_process")
        conversion = write_group(probe, "mass_to_charge_conversion", "NXprocess", program=True)
        write_group(conversion, "config", "NXparameters")
        _dataset(conversion, "mass_to_charge", ions.mass_to_charge_da, "Da")
        reconstruction = write_group(probe, "reconstruction", "NXapm_reconstruction",
                                     program=True)
        _dataset(reconstruction, "reconstructed_positions", ions.xyz_nm, "nm")
        _naive_discretization(reconstruction, ions)
        has_detector = {"detector_x_mm", "detector_y_mm"} <= set(ions.fields)
        homed = {*_FIELD_PATHS, "pulses_since_last",
                 *(("detector_x_mm", "detector_y_mm") if has_detector else ())}
        extra = {k: v for k, v in ions.fields.items() if k not in homed}
        if "tof_ns" in ions.fields:
            bowl = write_group(probe, "voltage_and_bowl", "NXprocess", program=True)
            write_group(bowl, "config", "NXparameters")
        if has_detector or "ions_per_pulse" in ions.fields:
            hits = write_group(probe, "hit_finding", "NXprocess")
            if has_detector:
                det = np.stack([ions.fields["detector_x_mm"], ions.fields["detector_y_mm"]], 1)
                _dataset(hits, "hit_positions", det, "mm").attrs["depends_on"] = "n/a"
        if _needs_event(ions):
            _write_event(entry, ions)
        for name, (where, unit) in _FIELD_PATHS.items():
            if name in ions.fields:
                _dataset(entry, where, ions.fields[name], unit)
        if "pulses_since_last" in ions.fields:
            delta = ions.fields["pulses_since_last"]
            ds = _dataset(entry, _PULSE_NUMBER[0], np.cumsum(delta, dtype=np.int64), "")
            ds.attrs["liprobe_dtype"] = np.dtype(delta.dtype).newbyteorder("<").str
            ds.attrs["liprobe_note"] = "cumulative sum of the pulses since the previous ion"
        if extra:
            collection = write_group(probe, "liprobe_fields", "NXcollection")
            for name, values in extra.items():
                _dataset(collection, name, values, "")
        if ranges is not None:
            _write_ranges(probe, ranges)
        if n == 0:
            entry.attrs["liprobe_note"] = "no ions"


def _dataset(group, where: str, values, unit: str):
    array = np.asarray(values)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    ds = group.create_dataset(where, data=array)
    if unit:
        ds.attrs["units"] = unit
    return ds


def _naive_discretization(reconstruction, ions: IonTable) -> None:
    """The 3-D histogram NXapm requires with a reconstruction (at most 32 bins per axis)."""
    process = write_group(reconstruction, "naive_discretization", "NXprocess", program=True)
    data = write_group(process, "data", "NXdata")
    xyz = np.asarray(ions.xyz_nm, dtype=np.float32)
    finite = np.isfinite(xyz).all(axis=1)
    box = np.array([[xyz[finite, a].min(), xyz[finite, a].max()] if finite.any()
                    else [0.0, 1.0] for a in range(3)], dtype=np.float64)
    edges = [np.linspace(lo, hi if hi > lo else lo + 1.0, 33) for lo, hi in box]
    counts, _ = np.histogramdd(xyz[finite][:, ::-1], bins=edges[::-1])
    data.attrs["signal"] = "intensity"
    data.attrs["axes"] = strings(["axis_z", "axis_y", "axis_x"])
    for k, axis in enumerate("zyx"):
        data.attrs[f"axis_{axis}_indices"] = k
    data["title"] = "ion counts per bin"
    data["intensity"] = counts.astype(np.uint32)
    for axis, e in zip("xyz", edges):
        ds = data.create_dataset(f"axis_{axis}", data=0.5 * (e[:-1] + e[1:]))
        ds.attrs["units"], ds.attrs["long_name"] = "nm", f"{axis} (nm)"


def _needs_event(ions: IonTable) -> bool:
    return bool({"dc_voltage_kv", "pulse_voltage_kv", "pulses_since_last"} & set(ions.fields)
                or set(_METADATA_PATHS) & set(ions.metadata))


def _write_event(entry, ions: IonTable) -> None:
    """``measurement/event1``: the per-event instrument state, with the fields NXapm
    requires there (NaN / "n/a" where the source gave no value)."""
    meta = ions.metadata
    measurement = write_group(entry, "measurement", "NXapm_measurement")
    instrument = write_group(measurement, "instrument", "NXinstrument_apm")
    fabrication = write_group(instrument, "fabrication", "NXfabrication")
    fabrication["vendor"] = "n/a"
    fabrication["model"] = str(meta.get("instrument", "n/a"))
    event = write_group(measurement, "event1", "NXevent_data_apm")
    state = write_group(event, "instrument", "NXinstrument_apm")
    pulser = write_group(state, "pulser", "NXcomponent")
    pulser["pulse_mode"] = "laser" if "laser_pulse_energy_pj" in meta else "n/a"
    pulser["pulse_fraction"] = math.nan
    source = write_group(pulser, "source1", "NXsource")
    source["power"] = math.nan
    stage = write_group(state, "stage", "NXmanipulator")
    sensor = write_group(stage, "temperature_sensor", "NXsensor")
    sensor["measurement"] = "temperature"
    chamber = write_group(state, "analysis_chamber", "NXcomponent")
    pressure = write_group(chamber, "pressure_sensor", "NXsensor")
    pressure["measurement"], pressure["value"] = "pressure", math.nan
    control = write_group(state, "control", "NXparameters")
    control["evaporation_control"] = "detection_rate"
    for key, (where, unit) in _METADATA_PATHS.items():
        if key == "instrument":
            continue
        value = float(meta[key]) if key in meta else math.nan
        ds = entry.create_dataset(where, data=np.float64(value))
        if unit:
            ds.attrs["units"] = unit


def _write_ranges(probe, ranges: RangeTable) -> None:
    ranging = write_group(probe, "ranging", "NXapm_ranging", program=True)
    peaks = write_group(ranging, "peak_identification", "NXprocess", program=True)
    peaks["number_of_ion_types"] = np.uint32(ranges.n_ions)
    peaks["maximum_number_of_atoms_per_molecular_ion"] = np.uint32(MAX_ATOMS)
    for k, ion in enumerate(ranges.ions, start=1):
        group = write_group(peaks, f"ion{k}", "NXatom")
        group["name"] = ion.name
        hashes, nuclides = nuclide_arrays(ion.atoms, path=None)
        group["nuclide_hash"], group["nuclide_list"] = hashes, nuclides
        group["charge_state"] = np.int8(0)
        mine = np.flatnonzero(ranges.ion_index == k - 1)
        bounds = np.stack([ranges.low_da[mine], ranges.high_da[mine]], axis=1)
        group.create_dataset("mass_to_charge_range", data=bounds.reshape(-1, 2))
        group["mass_to_charge_range"].attrs["units"] = "Da"
        group["liprobe_volume_nm3"] = ranges.volume_nm3[mine]
        group["liprobe_colors"] = strings(c or "" for c in (ranges.colors[i] for i in mine))
        group["liprobe_range_index"] = mine.astype(np.int64)
        if ion.color:
            group["color"] = ion.color


# -- reading ------------------------------------------------------------------------------

def _nxapm_entry(f, path: Path):
    for name in f:
        group = f[name]
        definition = group.get("definition") if hasattr(group, "get") else None
        if definition is not None and text_of(definition[()]).strip() == "NXapm":
            return group
    raise FormatError("no NXentry with definition NXapm", path=path, offset=0,
                      hint="this HDF5 file is not a NeXus NXapm file")


def _probe(entry, path: Path):
    for name in sorted(entry):
        if name.startswith("atom_probe") and "reconstruction" in entry[name]:
            return entry[name]
    raise FormatError("the NXapm entry has no atom_probe*/reconstruction", path=path,
                      hint="liprobe reads NXapm files that hold a reconstruction")


def _array(group, where: str, path: Path, *, rows: int | None = None) -> np.ndarray:
    if where not in group:
        raise FormatError(f"NXapm field {group.name}/{where} is missing", path=path)
    data = group[where][()]
    if rows is not None and (data.ndim == 0 or data.shape[0] != rows):
        raise FormatError(f"{group.name}/{where} has shape {data.shape}, expected {rows} rows",
                          path=path, hint="the per-ion arrays of the file disagree in length")
    return data


def read_nexus(path: str | os.PathLike) -> IonTable:
    """Read the reconstruction of a NeXus NXapm file (see the module notes).

    Returns
    -------
    IonTable
        Positions (nm) and m/q (Da) in the file's dtype (float64 converted to float32),
        the per-ion fields and the acquisition metadata the file holds.

    Raises
    ------
    FormatError
        Not HDF5, no NXapm entry, no reconstruction, or per-ion arrays of unequal length.
    """
    path = existing_file(path)
    with open_hdf5(path) as f:
        entry = _nxapm_entry(f, path)
        probe = _probe(entry, path)
        positions = probe["reconstruction"].get("reconstructed_positions")
        if positions is None or positions.ndim != 2 or positions.shape[1] != 3:
            raise FormatError("reconstruction/reconstructed_positions is missing or not "
                              "(n, 3)", path=path)
        xyz = positions[()]
        if text_of(positions.attrs.get("units", "nm")).lower() in ("angstrom", "å", "a"):
            xyz = xyz * 0.1
        n = xyz.shape[0]
        mass = _array(probe, "mass_to_charge_conversion/mass_to_charge", path, rows=n)
        fields: dict[str, np.ndarray] = {}
        for name, (where, _) in _FIELD_PATHS.items():
            if where in entry:
                fields[name] = _array(entry, where, path, rows=n)
        if _DETECTOR[0] in entry:
            det = _array(entry, _DETECTOR[0], path, rows=n)
            fields["detector_x_mm"], fields["detector_y_mm"] = det[:, 0].copy(), det[:, 1].copy()
        if _PULSE_NUMBER[0] in entry:
            ds = entry[_PULSE_NUMBER[0]]
            number = _array(entry, _PULSE_NUMBER[0], path, rows=n)
            delta = np.diff(number, prepend=number.dtype.type(0))
            fields["pulses_since_last"] = delta.astype(text_of(ds.attrs.get("liprobe_dtype",
                                                                            "<i8")))
        if "liprobe_fields" in probe:
            for name in probe["liprobe_fields"]:
                fields[name] = _array(probe["liprobe_fields"], name, path, rows=n)
        metadata = {}
        for key, (where, _) in _METADATA_PATHS.items():
            if where in entry:
                value = entry[where][()]
                if key == "instrument":
                    text = text_of(value)
                    if text != "n/a":
                        metadata[key] = text
                elif np.isfinite(value):
                    metadata[key] = float(value)
    return IonTable(_float32(xyz), _float32(mass), fields, metadata)


def _float32(values: np.ndarray) -> np.ndarray:
    return values if values.dtype == np.float32 else values.astype(np.float32)


def read_nexus_ranges(path: str | os.PathLike) -> RangeTable:
    """The ranging definitions of a NeXus file: NXapm ``peak_identification/ion*`` or any
    group of NXion / NXatom groups with ``mass_to_charge_range`` (IMAGO via ifes).

    An ion's atoms come from its ``nuclide_list`` (Z of each atom); its name is the
    canonical formula (``NiO2``), or the file's ``name`` for an ion without atoms.
    """
    import h5py

    from liprobe.formula import canonical_name, merge_atoms

    path = existing_file(path)
    with open_hdf5(path) as f:
        groups = []
        f.visititems(lambda name, obj: groups.append(obj) if isinstance(obj, h5py.Group)
                     and text_of(obj.attrs.get("NX_class", "")) in ("NXion", "NXatom")
                     and "mass_to_charge_range" in obj else None)
        if not groups:
            raise FormatError("no NXion/NXatom group with a mass_to_charge_range", path=path,
                              hint="this NeXus file holds no ranging definitions")
        ions, rows, index_of = [], [], {}
        for group in sorted(groups, key=lambda g: _ion_number(g.name)):
            nuclides = group["nuclide_list"][()] if "nuclide_list" in group else np.zeros((0, 2))
            atoms = merge_atoms(atoms_of_nuclides(nuclides, path=path))
            name = canonical_name(atoms) if atoms else text_of(group["name"][()]).strip()
            color = text_of(group["color"][()]) if "color" in group else ""
            ion = Ion(name, atoms, color if color.startswith("#") else None)
            bounds = np.asarray(group["mass_to_charge_range"][()], dtype=np.float64)
            bounds = bounds.reshape(-1, 2)
            n = bounds.shape[0]
            volume = group["liprobe_volume_nm3"][()] if "liprobe_volume_nm3" in group else \
                np.full(n, np.nan)
            colors = ([text_of(c) or None for c in group["liprobe_colors"][()]]
                      if "liprobe_colors" in group else [ion.color] * n)
            order = group["liprobe_range_index"][()] if "liprobe_range_index" in group else \
                np.full(n, -1)
            # one ion per composition (its charge states are ranges of the same ion)
            key = ("atoms", tuple(sorted(atoms))) if atoms else ("name", name)
            if key not in index_of:
                index_of[key] = len(ions)
                ions.append(ion)
            for k in range(n):
                rows.append((int(order[k]), len(rows), bounds[k], index_of[key],
                             float(volume[k]), colors[k]))
    rows.sort(key=lambda r: (r[0] < 0, r[0], r[1]))
    return RangeTable(tuple(ions), np.array([r[2][0] for r in rows]),
                      np.array([r[2][1] for r in rows]), np.array([r[3] for r in rows]),
                      np.array([r[4] for r in rows]), tuple(r[5] for r in rows))


def _ion_number(name: str) -> tuple[int, str]:
    tail = name.rstrip("/").rsplit("/", 1)[-1]
    digits = "".join(c for c in tail if c.isdigit())
    return (int(digits) if digits else 0, tail)

"""NeXus NXapm reader/writer. Truth: the tables written (bit-exact read back), the NXapm
application definition (``applications/NXapm.nxdl.xml`` of nexusformat/definitions: the
fields it requires in every group liprobe writes, listed below by hand from the NXDL), and
HDF5 files assembled here with h5py in other programs' layouts."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from liprobe.data import Ion, IonTable, RangeTable
from liprobe.errors import FormatError, UnknownFormatError
from liprobe.io import detect_format, read_ions, read_ranges, write_ions
from liprobe.io.nexus import read_nexus, write_nexus

#: Required by NXapm in the groups liprobe writes (NXDL: neither optional nor
#: recommended; a required child of an optional group counts once the group is written).
NXAPM_REQUIRED = [
    "entry/definition", "entry/start_time", "entry/operation_mode",
    "entry/specimen/is_simulation", "entry/specimen/atom_types",
    "entry/reconstruction_reference_frame/type", "entry/reconstruction_reference_frame/x",
    "entry/reconstruction_reference_frame/y", "entry/reconstruction_reference_frame/z",
    "entry/atom_probe/mass_to_charge_conversion/program1/program",
    "entry/atom_probe/mass_to_charge_conversion/config",
    "entry/atom_probe/mass_to_charge_conversion/mass_to_charge",
    "entry/atom_probe/reconstruction/program1/program",
    "entry/atom_probe/reconstruction/reconstructed_positions",
    "entry/atom_probe/reconstruction/naive_discretization/program1/program",
    "entry/atom_probe/reconstruction/naive_discretization/data/intensity",
    "entry/atom_probe/reconstruction/naive_discretization/data/axis_x",
    "entry/atom_probe/reconstruction/naive_discretization/data/axis_y",
    "entry/atom_probe/reconstruction/naive_discretization/data/axis_z",
    "entry/atom_probe/voltage_and_bowl/program1/program",
    "entry/atom_probe/voltage_and_bowl/config",
    "entry/atom_probe/ranging/program1/program",
    "entry/atom_probe/ranging/peak_identification/program1/program",
    "entry/atom_probe/ranging/peak_identification/number_of_ion_types",
    "entry/atom_probe/ranging/peak_identification/maximum_number_of_atoms_per_molecular_ion",
    "entry/atom_probe/ranging/peak_identification/ion1/nuclide_hash",
    "entry/atom_probe/ranging/peak_identification/ion1/charge_state",
    "entry/atom_probe/ranging/peak_identification/ion1/mass_to_charge_range",
    "entry/measurement/instrument",
    "entry/measurement/instrument/fabrication/vendor",
    "entry/measurement/instrument/fabrication/model",
    "entry/measurement/event1/instrument/pulser/pulse_mode",
    "entry/measurement/event1/instrument/pulser/pulse_frequency",
    "entry/measurement/event1/instrument/pulser/pulse_fraction",
    "entry/measurement/event1/instrument/pulser/source1/power",
    "entry/measurement/event1/instrument/pulser/source1/pulse_energy",
    "entry/measurement/event1/instrument/stage/temperature_sensor/measurement",
    "entry/measurement/event1/instrument/stage/temperature_sensor/value",
    "entry/measurement/event1/instrument/analysis_chamber/pressure_sensor/measurement",
    "entry/measurement/event1/instrument/analysis_chamber/pressure_sensor/value",
    "entry/measurement/event1/instrument/control/evaporation_control",
    "entry/measurement/event1/instrument/control/target_detection_rate",
]
#: NX_class of the groups, from the NXDL.
NXAPM_CLASSES = {
    "entry": "NXentry", "entry/specimen": "NXsample",
    "entry/reconstruction_reference_frame": "NXcoordinate_system",
    "entry/atom_probe": "NXroi_process",
    "entry/atom_probe/reconstruction": "NXapm_reconstruction",
    "entry/atom_probe/ranging": "NXapm_ranging",
    "entry/atom_probe/ranging/peak_identification/ion1": "NXatom",
    "entry/measurement": "NXapm_measurement",
    "entry/measurement/event1": "NXevent_data_apm",
    "entry/measurement/event1/instrument": "NXinstrument_apm",
}
METADATA = {"instrument": "LEAP 5000 XS", "laser_pulse_energy_pj": 30.0,
            "base_temperature_k": 50.0, "detection_rate_ions_per_pulse": 0.005,
            "pulse_frequency_khz": 250.0}


def _table(rng, n=500) -> IonTable:
    fields = {
        "tof_ns": rng.uniform(100, 900, n).astype(">f4"),  # big-endian, as mapped from EPOS
        "dc_voltage_kv": rng.uniform(3, 8, n).astype(np.float32),
        "pulse_voltage_kv": np.zeros(n, np.float32),
        "detector_x_mm": rng.uniform(-40, 40, n).astype(np.float32),
        "detector_y_mm": rng.uniform(-40, 40, n).astype(np.float32),
        "pulses_since_last": rng.integers(0, 300, n).astype(np.int32),
        "ions_per_pulse": rng.integers(0, 3, n).astype(np.int32),
        "tofc": rng.normal(size=n).astype(np.float64),
    }
    xyz = rng.normal(scale=20, size=(n, 3)).astype(np.float32)
    mass = rng.uniform(1, 120, n).astype(np.float32)
    mass[0] = np.nan  # a NaN travels too
    return IonTable(xyz, mass, fields, METADATA)


RANGES = RangeTable((Ion("Li", (("Li", 1),), "#aa0000"), Ion("NiO2", (("Ni", 1), ("O", 2))),
                     Ion("peak59", ())),
                    np.array([6.9, 44.7, 58.5, 5.9]), np.array([7.1, 46.3, 59.0, 6.1]),
                    np.array([0, 1, 2, 0]), np.array([0.02, np.nan, 0.0, 0.02]),
                    ("#aa0000", None, "#00ff00", "#aa0000"))


def _bits(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a.astype(a.dtype.newbyteorder("<")).view(f"<u{a.dtype.itemsize}")


def test_round_trip_is_bit_exact_with_fields_metadata_and_ranges(tmp_path, rng):
    ions = _table(rng)
    path = tmp_path / "run.nxs"
    write_nexus(path, ions, ranges=RANGES)
    back = read_ions(path)
    assert detect_format(path).name == "nexus"
    np.testing.assert_array_equal(_bits(back.xyz_nm), _bits(ions.xyz_nm))
    np.testing.assert_array_equal(_bits(back.mass_to_charge_da), _bits(ions.mass_to_charge_da))
    assert sorted(back.fields) == sorted(ions.fields)
    for name, values in ions.fields.items():
        assert back.fields[name].dtype.newbyteorder("<") == values.dtype.newbyteorder("<")
        np.testing.assert_array_equal(_bits(back.fields[name]), _bits(values), err_msg=name)
    assert dict(back.metadata) == METADATA
    ranges = read_ranges(path)
    assert ranges.ions == RANGES.ions
    for name in ("low_da", "high_da", "volume_nm3", "ion_index"):
        np.testing.assert_array_equal(getattr(ranges, name), getattr(RANGES, name))
    assert ranges.colors == RANGES.colors


def test_written_file_has_every_field_nxapm_requires(tmp_path, rng):
    path = tmp_path / "run.nxs"
    write_nexus(path, _table(rng), ranges=RANGES)
    with h5py.File(path, "r") as f:
        missing = [p for p in NXAPM_REQUIRED if p not in f]
        assert missing == []
        for where, nx_class in NXAPM_CLASSES.items():
            assert f[where].attrs["NX_class"] == nx_class, where
        assert f["entry/definition"][()] == b"NXapm"
        assert f["entry/operation_mode"][()] == b"apt"
        assert f["entry/specimen/atom_types"][()] == b"Li, Ni, O"
        ion2 = f["entry/atom_probe/ranging/peak_identification/ion2"]
        assert ion2["nuclide_hash"][:4].tolist() == [28, 8, 8, 0]  # Ni, O, O by Z
        assert ion2["mass_to_charge_range"][()].tolist() == [[44.7, 46.3]]
        counts = f["entry/atom_probe/reconstruction/naive_discretization/data/intensity"][()]
        assert counts.sum() == 500 and counts.shape == (32, 32, 32)
        positions = f["entry/atom_probe/reconstruction/reconstructed_positions"]
        assert positions.attrs["units"] == "nm" and positions.dtype == np.dtype("<f4")


def test_convert_from_the_cli_writes_nexus_readable_by_ion_commands(tmp_path, rng, capsys):
    from liprobe.cli import main

    ions = _table(rng)
    epos = write_ions(tmp_path / "run.epos",
                      IonTable(ions.xyz_nm, np.nan_to_num(ions.mass_to_charge_da),
                               {k: v for k, v in ions.fields.items() if k != "tofc"}))
    rrng = tmp_path / "r.rrng"
    from liprobe.io import write_ranges

    write_ranges(rrng, RANGES)
    assert main(["convert", str(epos), str(tmp_path / "run.nxs"), "--ranges", str(rrng)]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "run.nxs"), "--json"]) == 0
    assert '"format": "nexus"' in capsys.readouterr().out
    assert main(["composition", str(tmp_path / "run.nxs"), "-r", str(tmp_path / "run.nxs"),
                 "--json", "--overlap", "first"]) == 0
    assert '"n_ions": 500' in capsys.readouterr().out


def test_foreign_nxapm_layout_with_angstrom_positions(tmp_path):
    path = tmp_path / "pynx.nxs"
    with h5py.File(path, "w") as f:
        entry = f.create_group("entry1")
        entry.attrs["NX_class"] = "NXentry"
        entry["definition"] = "NXapm"
        probe = entry.create_group("atom_probe1")
        rec = probe.create_group("reconstruction")
        rec["reconstructed_positions"] = np.array([[10.0, 20.0, -5.0]], np.float64)
        rec["reconstructed_positions"].attrs["units"] = "angstrom"
        probe.create_group("mass_to_charge_conversion")["mass_to_charge"] = [27.0]
    ions = read_ions(path)
    np.testing.assert_allclose(ions.xyz_nm, [[1.0, 2.0, -0.5]])
    assert ions.xyz_nm.dtype == np.float32 and ions.mass_to_charge_da.tolist() == [27.0]


@pytest.mark.parametrize(("attrs", "groups", "says"), [
    ({"file_format": "HyperSpy"}, ["Experiments"], "HyperSpy"),
    ({}, ["Data", "Operations"], "Velox EMD image"),
    ({"version_major": 0}, ["signals"], "Berkeley EMD image"),
    ({}, ["dld"], "pyccapt"),
    ({}, ["something"], "HDF5 file of no layout liprobe knows"),
])
def test_non_ion_hdf5_files_are_named_by_what_they_hold(tmp_path, attrs, groups, says):
    path = tmp_path / "x.nxs"
    with h5py.File(path, "w") as f:
        f.attrs.update(attrs)
        for g in groups:
            f.create_group(g)
    with pytest.raises(UnknownFormatError, match=says):
        read_ions(path)


def test_hdf5_without_a_reconstruction_or_truncated(tmp_path, rng):
    path = tmp_path / "empty.nxs"
    with h5py.File(path, "w") as f:
        entry = f.create_group("entry")
        entry["definition"] = "NXapm"
    with pytest.raises(FormatError, match="no atom_probe"):
        read_nexus(path)
    good = tmp_path / "good.nxs"
    write_nexus(good, _table(rng))
    cut = tmp_path / "cut.nxs"
    cut.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(FormatError):
        read_nexus(cut)


def test_empty_table_and_a_lone_detector_column_round_trip(tmp_path):
    empty = IonTable(np.zeros((0, 3), np.float32), np.zeros(0, np.float32))
    write_nexus(tmp_path / "empty.nxs", empty)
    assert read_nexus(tmp_path / "empty.nxs").n_ions == 0
    lone = IonTable(np.ones((2, 3), np.float32), np.float32([1.0, 2.0]),
                    {"detector_x_mm": np.float32([3.0, 4.0])})
    write_nexus(tmp_path / "lone.nxs", lone)
    back = read_nexus(tmp_path / "lone.nxs")
    assert back.fields["detector_x_mm"].tolist() == [3.0, 4.0] and len(back.fields) == 1

import numpy as np
import pytest

from liprobe.data import Image, Ion, IonTable, RangeTable
from liprobe.errors import ParameterError


def test_ion_table_freezes_arrays_and_validates_shapes():
    xyz = np.arange(12, dtype=np.float32).reshape(4, 3)
    ions = IonTable(xyz, np.ones(4, np.float32), {"tof_ns": np.arange(4.0, dtype=np.float32)})
    assert ions.n_ions == 4
    assert ions.field_names[-1] == "tof_ns"
    with pytest.raises(ValueError):
        ions.xyz_nm[0, 0] = 5.0
    np.testing.assert_array_equal(ions.bbox_nm()[2], [2.0, 11.0])
    with pytest.raises(ParameterError, match="shape"):
        IonTable(xyz, np.ones(3, np.float32))
    with pytest.raises(ParameterError, match="float32"):
        IonTable(xyz.astype(np.float64), np.ones(4, np.float32))


def test_range_table_rejects_inverted_range_and_lists_elements():
    ions = (Ion("Li", (("Li", 1),)), Ion("NiO2", (("Ni", 1), ("O", 2))))
    table = RangeTable(ions, [6.9, 45.0], [7.2, 45.5], [0, 1])
    assert table.elements == ("Li", "Ni", "O")
    assert np.isnan(table.volume_nm3).all()
    with pytest.raises(ParameterError, match="range 1"):
        RangeTable(ions, [7.2], [6.9], [0])


def test_image_requires_positive_pixel_size():
    with pytest.raises(ParameterError):
        Image(np.zeros((4, 4)), pixel_size_nm=-1.0)
    assert Image(np.zeros((4, 4)), None).pixel_size_nm is None


def test_ion_table_metadata_is_optional_frozen_and_kept_by_take():
    import types

    from liprobe.data import ACQUISITION_METADATA, IonTable

    plain = IonTable(np.zeros((2, 3), np.float32), np.float32([7.0, 16.0]))
    assert dict(plain.metadata) == {}
    meta = {"laser_pulse_energy_pj": 30.0, "instrument": "LEAP 5000 XS"}
    ions = IonTable(np.zeros((2, 3), np.float32), np.float32([7.0, 16.0]), {}, meta)
    assert isinstance(ions.metadata, types.MappingProxyType)
    with pytest.raises(TypeError):
        ions.metadata["base_temperature_k"] = 50.0
    meta["instrument"] = "changed"  # the table keeps its own copy
    assert ions.metadata["instrument"] == "LEAP 5000 XS"
    assert dict(ions.take(np.array([1])).metadata) == dict(ions.metadata)
    assert set(ions.metadata) <= set(ACQUISITION_METADATA)

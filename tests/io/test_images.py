"""Image readers: TIFF round trip with calibration, ImageJ/DPI tags, NPY, DM3/EMD real files."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest

from liprobe.data import Image
from liprobe.errors import FormatError, MissingFileError, ParameterError
from liprobe.io import read_image, write_image
from liprobe.io.images import (
    length_to_nm,
    read_dm,
    read_emd,
    read_hspy,
    read_npy,
    read_tia,
    read_tiff,
    write_tiff,
)


def _hyperspy_file(relative: str) -> Path:
    """A real test file shipped in the hyperspy 1.7.6 wheel (``pip install --no-deps
    hyperspy==1.7.6``; located through the distribution's metadata, not imported)."""
    try:
        dist = importlib.metadata.distribution("hyperspy")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("hyperspy (1.7.x wheel with its test data) is not installed")
    path = Path(dist.locate_file(f"hyperspy/tests/io/{relative}"))
    if not path.exists():
        pytest.skip(f"this hyperspy version does not ship {relative}")
    return path


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float32, np.float64])
def test_tiff_round_trip_is_bit_exact_with_pixel_size(tmp_path, dtype):
    rng = np.random.default_rng(81)
    pixels = (rng.random((37, 53)) * 200).astype(dtype)
    path = write_image(tmp_path / "a.tif", Image(pixels, 0.0173))
    back = read_image(path)
    assert back.pixels.dtype == pixels.dtype
    assert np.array_equal(back.pixels, pixels)
    assert back.pixel_size_nm == 0.0173
    assert back.metadata["calibration"] == "liprobe"


def test_tiff_resolution_tags_and_imagej_units(tmp_path):
    import tifffile

    data = np.arange(64, dtype=np.uint16).reshape(8, 8)
    # ImageJ: 50 pixels per micron -> 20 nm per pixel
    tifffile.imwrite(tmp_path / "ij.tif", data, imagej=True, resolution=(50.0, 50.0),
                     metadata={"unit": "micron"})
    assert read_tiff(tmp_path / "ij.tif").pixel_size_nm == pytest.approx(20.0)
    # plain tags: 5e7 pixels per cm -> 0.2 nm per pixel
    tifffile.imwrite(tmp_path / "cm.tif", data, resolution=(5e7, 5e7),
                     resolutionunit="CENTIMETER")
    assert read_tiff(tmp_path / "cm.tif").pixel_size_nm == pytest.approx(0.2)
    # 72 dpi is a print resolution, not a calibration
    tifffile.imwrite(tmp_path / "dpi.tif", data, resolution=(72.0, 72.0), resolutionunit="INCH")
    assert read_tiff(tmp_path / "dpi.tif").pixel_size_nm is None
    # the argument always wins
    assert read_tiff(tmp_path / "dpi.tif", pixel_size_nm=0.05).pixel_size_nm == 0.05


def test_npy_needs_the_pixel_size_from_the_caller(tmp_path):
    np.save(tmp_path / "a.npy", np.eye(5, dtype=np.float32))
    image = read_image(tmp_path / "a.npy")
    assert image.pixel_size_nm is None and image.pixels[2, 2] == 1.0
    assert read_npy(tmp_path / "a.npy", pixel_size_nm=0.01).pixel_size_nm == 0.01
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4)))
    with pytest.raises(FormatError):
        read_npy(tmp_path / "cube.npy")
    with pytest.raises(ParameterError):
        read_npy(tmp_path / "a.npy", pixel_size_nm=-1.0)


@pytest.mark.parametrize("reader, name", [(read_tiff, "x.tif"), (read_dm, "x.dm3"),
                                          (read_emd, "x.emd"), (read_npy, "x.npy"),
                                          (read_tia, "x.ser"), (read_tia, "x.emi"),
                                          (read_hspy, "x.hspy")])
@pytest.mark.parametrize("payload", [b"", b"\x00" * 7, b"II*\x00garbage-bytes" * 3,
                                     b"\x89HDF\r\n\x1a\n" + b"\x01" * 40,
                                     b"\x93NUMPY\x01\x00{'descr'"])
def test_garbage_raises_format_error(tmp_path, reader, name, payload):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(FormatError):
        reader(path)


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_dm(tmp_path / "nope.dm3")


def test_units():
    assert length_to_nm(1.5, "µm") == 1500.0
    assert length_to_nm(2.0, "Å") == pytest.approx(0.2)
    assert length_to_nm(8.0, "pm") == pytest.approx(0.008)
    assert length_to_nm(0.17, "1/nm") is None


def test_real_dm3_haadf_loads_with_its_calibration():
    # a real 512 x 512 HAADF image acquired in DigitalMicrograph (HyperSpy test data);
    # its calibration 0.017751578 nm/px is the one DigitalMicrograph stored
    image = read_image(_hyperspy_file("dm3_2D_data/multi_signal.dm3"))
    assert image.pixels.shape == (512, 512)
    assert image.pixels.dtype == np.uint16
    assert image.pixel_size_nm == pytest.approx(0.017751578241586685, rel=1e-9)
    assert image.metadata["title"] == "HAADF"
    assert image.metadata["format"] == "dm"


def test_real_velox_emd_loads_with_its_calibration():
    # a real (cropped) Velox EMD stack from a Thermo Fisher Ceta camera: 8.17 pm pixels
    image = read_image(_hyperspy_file("emd_files/fei_example_tem_stack.emd"))
    assert image.pixels.shape == (3, 3)
    assert image.pixel_size_nm == pytest.approx(0.008172883192297852, rel=1e-9)
    assert image.metadata["n_frames"] == 2 and image.metadata["title"] == "Ceta"
    second = read_emd(_hyperspy_file("emd_files/fei_example_tem_stack.emd"), frame=1)
    assert second.pixels.shape == (3, 3)
    with pytest.raises(ParameterError):
        read_emd(_hyperspy_file("emd_files/fei_example_tem_stack.emd"), frame=2)


def test_truncated_and_bit_flipped_tiff_raise_format_error_only(tmp_path):
    rng = np.random.default_rng(82)
    write_tiff(tmp_path / "a.tif", Image(np.arange(400, dtype=np.uint16).reshape(20, 20), 0.02))
    raw = (tmp_path / "a.tif").read_bytes()
    mutants = [raw[:cut] for cut in range(0, len(raw), 5)]
    for _ in range(300):
        flipped = bytearray(raw)
        for pos in rng.integers(0, len(raw), 3):
            flipped[pos] = int(rng.integers(256))
        mutants.append(bytes(flipped))
    readable = 0
    for k, blob in enumerate(mutants):
        path = tmp_path / f"m{k}.tif"
        path.write_bytes(blob)
        try:
            image = read_tiff(path)
        except FormatError:
            continue
        readable += 1
        assert image.pixels.ndim == 2
    assert readable < len(mutants)  # most mutants are rejected, none crash otherwise


# ---------------------------------------------------------------- calibration of real files
def test_dm_saved_tiff_gives_its_private_tag_calibration():
    # DigitalMicrograph-saved TIFF: 68 x 68 px, 168.67 nm per pixel in DM's private tags
    image = read_tiff(_hyperspy_file("tiff_files/test_loading_image_saved_with_DM.tif"))
    assert image.pixels.shape == (68, 68)
    assert image.pixel_size_nm == pytest.approx(168.67, rel=1e-4)
    assert image.metadata["calibration"] == "digitalmicrograph tags"


def test_imagej_tiff_calibration():
    image = read_tiff(_hyperspy_file("tiff_files/test_loading_image_saved_with_imageJ.tif"))
    assert image.pixel_size_nm == pytest.approx(168.67, rel=1e-4)


def test_olympus_sis_reads_the_data_page_not_the_preview():
    # page 1 is a JPEG RGB preview; the data is page 2: 101 x 112 px, 0.023928 nm per pixel
    image = read_tiff(_hyperspy_file("tiff_files/olympus_SIS.tif"))
    assert image.pixels.shape == (101, 112) and image.pixels.ndim == 2
    assert image.metadata["page"] == 1 and image.metadata["n_pages"] == 2
    assert image.pixel_size_nm == pytest.approx(0.023928, rel=1e-4)


@pytest.mark.parametrize("name, size_nm", [("TEM-mag", 1.8208), ("SAED", None),
                                           ("Ronchigram", None)])
def test_jeol_sightx_tiff(tmp_path, name, size_nm):
    # HyperSpy's own test states 1.8208 nm for the TEM image; diffraction (SAED) and the
    # STEM Ronchigram have no real-space calibration
    import gzip

    packed = _hyperspy_file(f"tiff_files/JEOL-SightX-{name}-dummy.tif.gz")
    path = tmp_path / f"{name}.tif"
    path.write_bytes(gzip.decompress(packed.read_bytes()))
    image = read_tiff(path)
    if size_nm is None:
        assert image.pixel_size_nm is None
    else:
        assert image.pixel_size_nm == pytest.approx(size_nm, rel=1e-3)
        assert image.metadata["calibration"] == "jeol sightx"
    assert image.metadata["beam_energy_kv"] == pytest.approx(200.0)


def test_non_square_dm_tags_are_an_error_unless_a_size_is_given(tmp_path):
    import tifffile

    path = tmp_path / "dm.tif"
    extratags = [(65003, "s", 0, "nm", False), (65004, "s", 0, "nm", False),
                 (65009, "d", 1, 0.2, False), (65010, "d", 1, 0.3, False)]
    tifffile.imwrite(path, np.zeros((8, 8), np.uint16), extratags=extratags)
    with pytest.raises(FormatError, match="non-square"):
        read_tiff(path)
    assert read_tiff(path, pixel_size_nm=0.25).pixel_size_nm == 0.25


def test_emd_signal_is_chosen_by_name():
    path = _hyperspy_file("emd_files/fei_example_dpc_titles.emd")
    with pytest.raises(ParameterError, match="none is a HAADF.*'iDPC'"):
        read_image(path)
    image = read_image(path, signal="idpc")
    assert image.metadata["title"] == "iDPC"
    assert image.pixel_size_nm == pytest.approx(0.09961991555830654, rel=1e-9)
    with pytest.raises(ParameterError, match="no signal 'BF'.*'DF4-A'"):
        read_image(path, signal="BF")


def test_hyperspy_file_is_not_taken_for_emd():
    image = read_image(_hyperspy_file("hdf5_files/example2_v3.1.hspy"))
    assert image.metadata["format"] == "hspy"

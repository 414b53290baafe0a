"""Every image reader over the real corpus images, against the truths the corpus states."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from liprobe.errors import ParameterError
from liprobe.io import read_image
from tests.corpus.conftest import corpus_file

#: file -> (shape, pixel size in nm or None, truth stated)
STATED = {
    "images/tiff_test_loading_image_saved_with_DM.tif":
        ((68, 68), 168.67, "68x68 px, 168.67 nm/px (private DM tags)"),
    "images/tiff_test_loading_image_saved_with_imageJ.tif": ((68, 68), 168.67, "168.67 nm/px"),
    "images/tiff_olympus_SIS.tif":
        ((101, 112), 0.023928, "data on page 2, 101x112 px, 0.023928 nm/px"),
}


@pytest.mark.parametrize("rel", sorted(STATED))
def test_stated_tiff_calibrations(rel, corpus_row):
    shape, size, truth = STATED[rel]
    image = read_image(corpus_file(rel))
    ok = image.pixels.shape == shape and image.pixel_size_nm == pytest.approx(size, rel=1e-4)
    corpus_row(rel, f"page {image.metadata['page'] + 1} of {image.metadata['n_pages']}, "
               f"{image.metadata['calibration']}",
               f"{image.pixels.shape[0]}x{image.pixels.shape[1]} px, "
               f"{image.pixel_size_nm:.6g} nm/px", truth, ok)
    assert ok


def test_dm3_microscope_metadata(corpus_row):
    rel = "images/digitalmicrograph_2D_test_STEM_image.dm3"
    meta = read_image(corpus_file(rel)).metadata
    ok = (meta.get("microscope") == "FEI Titan" and meta.get("beam_energy_kv") == 200.0
          and meta.get("magnification") == 225000.0)
    corpus_row(rel, "rosettasciio", f"{meta.get('microscope')}, {meta.get('beam_energy_kv')} kV, "
               f"{meta.get('magnification'):,.0f}x", "FEI Titan, 200 kV, 225,000x", ok)
    assert ok


def test_dm3_multi_signal_gives_the_haadf(corpus_row):
    rel = "images/digitalmicrograph_2D_multi_signal.dm3"
    image = read_image(corpus_file(rel))
    ok = image.metadata["title"] == "HAADF" and image.pixels.shape == (512, 512)
    corpus_row(rel, f"{image.metadata['n_signals']} signals", f"default signal "
               f"{image.metadata['title']!r}, {image.pixel_size_nm:.6g} nm/px",
               "the HAADF image (the other signal is a 1-D plot)", ok)
    assert ok


def test_velox_dpc_file_lists_its_signals(corpus_row):
    rel = "images/emd_fei_example_dpc_titles.emd"
    path = corpus_file(rel)
    with pytest.raises(ParameterError, match="none is a HAADF") as info:
        read_image(path)
    chosen = read_image(path, signal="DF4-A")
    n_listed = str(info.value).count("'")
    ok = chosen.metadata["title"] == "DF4-A" and chosen.metadata["n_signals"] == 9
    corpus_row(rel, f"{chosen.metadata['n_signals']} signals ({n_listed // 2} images listed in "
               "the error)", "no default without a HAADF; --signal DF4-A reads it",
               "9 signals, no HAADF", ok)
    assert ok


@pytest.mark.parametrize("name", ["Test_SI_16x16_215_kx.emd",
                                  "Test_SI_16x16_ReducedData_215_kx.emd"])
def test_velox_spectrum_image_gives_its_haadf(name, corpus_row):
    rel = f"images/emd_velox_emd_version11/{name}"
    image = read_image(corpus_file(rel))
    sparse = importlib.util.find_spec("sparse") is not None
    ok = image.metadata["title"] == "HAADF" and image.pixels.shape == (16, 16) and \
        image.pixel_size_nm == pytest.approx(3.5992492559614689, rel=1e-9)
    corpus_row(rel, f"{image.metadata['reader']} (sparse installed: {sparse})",
               f"HAADF {image.pixels.shape}, {image.pixel_size_nm:.6g} nm/px",
               "EDS spectrum image with a HAADF signal (Velox: 3.599e-09 m pixels)", ok)
    assert ok


def test_tia_ser_and_emi_agree(corpus_row):
    ser = read_image(corpus_file("images/tia_old_64x64_TEM_images_acquire_1.ser"))
    emi = read_image(corpus_file("images/tia_old_64x64_TEM_images_acquire.emi"))
    ok = (ser.pixels.shape == (64, 64) and np.array_equal(ser.pixels, emi.pixels)
          and ser.pixel_size_nm == emi.pixel_size_nm and ser.pixel_size_nm is not None)
    corpus_row("images/tia_old_64x64_TEM_images_acquire_1.ser", "rosettasciio (.ser and .emi)",
               f"64x64 px, {ser.pixel_size_nm:.6g} nm/px from both", "64x64 TEM images", ok)
    assert ok


@pytest.mark.parametrize("rel, shape", [("images/example_detector_image.hspy", (512, 512)),
                                        ("images/test_ADF_cropped.hdf5", (400, 380)),
                                        ("images/emd_example_image.emd", (3, 3))])
def test_hdf5_images_by_content(rel, shape, corpus_row):
    image = read_image(corpus_file(rel))
    ok = image.pixels.shape == shape
    size = image.pixel_size_nm
    corpus_row(rel, f"{image.metadata['format']}", f"shape {image.pixels.shape}, pixel size "
               f"{size if size is None else round(size, 6)} nm",
               f"{shape[0]}x{shape[1]} image", ok)
    assert ok

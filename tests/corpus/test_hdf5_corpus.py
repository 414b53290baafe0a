"""HDF5 files of the corpus: what liprobe makes of each (by content, not by magic bytes).

Truth: the IMAGO ``default.analysis`` (XML) the ``.nxs`` was converted from, read here with
the standard library: its species (``AtomDataRealRange``) and ranges (``RealRange``) with
their bounds; the corpus README for what the other files are.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from liprobe.errors import UnknownFormatError
from liprobe.io import detect_format, read_ions, read_ranges
from tests.corpus.conftest import corpus_file


def _imago_ranges(path):
    """(species names, [(low, high, species)]) of an IMAGO .analysis XML."""
    root = ET.parse(path).getroot()
    species, ranges = [], []
    for obj in root.iter("object"):
        if obj.get("class") == "com.imago.core.atomdata.AtomDataRealRange":
            name = obj.find("string").text
            species.append(name)
            for rng in obj.iter("object"):
                if rng.get("class") == "com.imago.core.atomdata.RealRange":
                    low, high = (float(d.text) for d in rng.findall("double")[:2])
                    ranges.append((low, high, name))
    return species, ranges


def test_imago_nexus_ranging_definitions_equal_the_analysis_file(corpus_row):
    nxs = corpus_file("other/ifes/default.analysis.nxs")
    species, truth = _imago_ranges(corpus_file("other/ifes/default.analysis"))
    assert detect_format(nxs).name == "nexus_ranges"
    table = read_ranges(nxs)
    ours = sorted((float(lo), float(hi), table.ion_names[int(k)])
                  for lo, hi, k in zip(table.low_da, table.high_da, table.ion_index))
    truth = sorted(truth)
    ok = (sorted(table.ion_names) == sorted(species) and len(ours) == len(truth)
          and all(a[2] == b[2] and np.isclose(a[0], b[0], atol=1e-4)
                  and np.isclose(a[1], b[1], atol=1e-4) for a, b in zip(ours, truth)))
    corpus_row("other/ifes/default.analysis.nxs", f"{table.n_ions} species, {table.n_ranges} "
               "ranges (NeXus NXion groups)", "species, bounds (float32 in the .nxs)",
               f"IMAGO .analysis: {len(species)} species, {len(truth)} ranges", ok)
    assert ok


@pytest.mark.parametrize(("relative", "says"), [
    ("other/pyccapt/AL_data_b_cropped.h5", "raw detector events"),
    ("images/example_detector_image.hspy", "HyperSpy"),
    ("images/emd_fei_example_dpc_titles.emd", "Velox EMD image"),
    ("other/ifes/default.analysis.nxs", "ranging definitions"),
])
def test_non_ion_hdf5_files_say_what_they_are(relative, says, corpus_row):
    path = corpus_file(relative)
    with pytest.raises(UnknownFormatError, match=says) as info:
        read_ions(path)
    corpus_row(relative, "as an ion file: refused", "error names the content",
               f"corpus README: {says}", True)
    assert str(path) in str(info.value)

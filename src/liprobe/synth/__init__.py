"""Synthetic Li(Ni0.80Co0.15Mn0.05)O2 atom-probe specimens with known ground truth.

Every generator returns ``(data, truth)`` and draws all randomness from an ``rng``.

>>> import numpy as np
>>> from liprobe.synth import generate_specimen, get_preset, ncm_ranges
>>> params = get_preset("ncm-300cycles-surface", n_ions=5000)
>>> ions, truth = generate_specimen(params, rng=np.random.default_rng(0))
>>> ranges = ncm_ranges(params)
>>> truth.ions == ranges.ions
True
"""

from liprobe.synth.example_study import example_study  # noqa: E402  (uses the modules above)
from liprobe.synth.params import Cluster, DeadTime, LineFeature, SpecimenParams
from liprobe.synth.presets import PRESET_ROWS, PRESETS, get_preset, li_line_features
from liprobe.synth.profile import DepthProfile, paper_profile, published_apt_table
from liprobe.synth.ranges import ncm_ranges
from liprobe.synth.species import SPECIES, Species, isotope_pattern, species_peaks
from liprobe.synth.specimen import generate_specimen
from liprobe.synth.truth import DepthComposition, SpecimenTruth
from liprobe.synth.write import truth_summary, write_specimen

__all__ = [
    "DepthProfile", "paper_profile", "published_apt_table",
    "LineFeature", "Cluster", "DeadTime", "SpecimenParams",
    "Species", "SPECIES", "isotope_pattern", "species_peaks",
    "generate_specimen", "SpecimenTruth", "DepthComposition",
    "ncm_ranges", "PRESETS", "PRESET_ROWS", "get_preset", "li_line_features",
    "write_specimen", "truth_summary", "example_study",
]

"""Seeded synthetic specimens shared by the synth tests (generated once per session)."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.synth import SpecimenParams, generate_specimen


@pytest.fixture(scope="session")
def specimen_no_overlaps():
    """600 000-ion homogeneous specimen without overlapping species, seed 11."""
    params = SpecimenParams(n_ions=600_000, overlaps=False)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(11))
    return params, ions, truth


@pytest.fixture(scope="session")
def specimen_default():
    """600 000-ion default specimen (overlaps on, background, tails), seed 12."""
    params = SpecimenParams(n_ions=600_000)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(12))
    return params, ions, truth

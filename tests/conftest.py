"""Shared test fixtures. Every test writes only under ``tmp_path``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
#: The workplace's shared material (reference tables, range files) beside the checkout.
SHARED = REPO.parent / "shared"
#: The published tables of Chae et al. (2021) as packaged with liprobe (``liprobe/study/data``):
#: the same files as ``shared/reference/chae2021``, present in every clone.
PUBLISHED = REPO / "src" / "liprobe" / "study" / "data"
#: Test artefacts (figures, screenshots) a person may want to look at after a run.
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every test's randomness is reproducible."""
    return np.random.default_rng(20211)


@pytest.fixture
def artifact_dir(tmp_path: Path):
    """Folder for figures and screenshots a test makes for a person to look at.

    The test writes under its own ``tmp_path``; what it leaves there is copied to
    ``test-artifacts/`` (git-ignored) when it ends, so no test writes into the checkout.
    """
    folder = tmp_path / "artifacts"
    folder.mkdir()
    yield folder
    files = [p for p in folder.rglob("*") if p.is_file()]
    if files:
        ARTIFACTS.mkdir(exist_ok=True)
        for path in files:
            target = ARTIFACTS / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)

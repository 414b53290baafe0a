"""Corpus tests: every reader over the real third-party files in ``../shared/data/real-corpus``.

The corpus is not part of a user's clone, so every test here skips with a visible reason when it is
absent. Each test records one row (file, what was read, the value checked, the truth stated by the
corpus README or the origin's own export) through the ``corpus_row`` fixture; at the end of the
session the rows are written to ``test-artifacts/corpus.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, SHARED

CORPUS = SHARED / "data" / "real-corpus"


@dataclass(frozen=True)
class CorpusRow:
    file: str
    read: str
    checked: str
    truth: str
    ok: bool


_ROWS: list[CorpusRow] = []


def corpus_file(relative: str) -> Path:
    """Path of one corpus file; skips the calling test visibly when it is absent."""
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"real corpus not present ({path}); corpus tests run where ../shared exists")
    return path


@pytest.fixture
def corpus_row():
    """Record one row of the corpus report: ``corpus_row(file, read, checked, truth, ok)``."""

    def add(file: str, read: str, checked: str, truth: str, ok: bool) -> None:
        _ROWS.append(CorpusRow(str(file), read, checked, truth, bool(ok)))

    return add


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001 - pytest hook signature
    if not _ROWS:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [
        "# Corpus report",
        "",
        f"{sum(r.ok for r in _ROWS)} of {len(_ROWS)} checks agree with the stated truth.",
        "",
        "| file | read | value checked | truth | agrees |",
        "|---|---|---|---|---|",
    ]
    for r in sorted(_ROWS, key=lambda r: r.file):
        lines.append(f"| {r.file} | {r.read} | {r.checked} | {r.truth} | {'yes' if r.ok else 'NO'} |")
    (ARTIFACTS / "corpus.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

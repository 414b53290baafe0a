"""One small example-study report per test session, shared by the HTML and browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_study_report(tmp_path_factory) -> Path:
    from tests.report.test_html import small_report

    return small_report(tmp_path_factory.mktemp("small-report"))

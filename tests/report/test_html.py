"""Tests of the self-contained HTML study report (liprobe.report.html).

The study folder is built by hand here (known tables, figures and summary), so every number
the report shows can be checked against what was written.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from liprobe.errors import MissingFileError, ParameterError
from liprobe.report.html import REPORT_SECTIONS, growth_law_statement, write_report

ALPHA, ALPHA_LOW, ALPHA_HIGH = 1.02, 0.81, 1.24


def _png(path: Path, seed: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(3, 2), dpi=60)
    ax.plot(rng.random(10))
    fig.savefig(path)
    if path.suffix == ".png":
        fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)


def make_study_folder(root: Path) -> Path:
    """A small study output folder with one table and one figure per report section."""
    import pandas as pd

    study = root / "study_output"
    (study / "tables").mkdir(parents=True)
    (study / "figures").mkdir()
    cycles = np.arange(1, 301, 50)
    tables = {
        "capacity_fade": pd.DataFrame({"cycle": cycles,
                                       "discharge_capacity_mah_g": 180.9 - 0.1448 * cycles}),
        "icp_aes": pd.DataFrame({"specimen": ["NCM-pristine", "NCM-300 cycles"],
                                 "li_ratio": [1.04, 0.83], "ni_ratio": [0.80, 0.80]}),
        "table2_analogue": pd.DataFrame({"cycles": [0, 300, 300], "depth_nm": [np.nan, 30, 100],
                                         "li_mean": [1.031, 0.3712, 0.4705],
                                         "li_sd": [0.021, 0.034, 0.029], "n": [5, 5, 5]}),
        "li_vs_depth": pd.DataFrame({"depth_nm": [30, 100], "li": [0.37, 0.47]}),
        "within_specimen_profiles": pd.DataFrame({"z_nm": [0.0, 10.0], "li": [0.35, 0.39]}),
        "fda_pearson": pd.DataFrame({"species": ["Li", "Ni"], "pearson_mu": [0.031, 0.012]}),
        "haadf_disorder": pd.DataFrame({"depth_nm": [15, 30], "f": [0.31, 0.12]}),
        "li_vs_f": pd.DataFrame({"f": [0.31, 0.12], "li": [0.2, 0.37]}),
        "growth_law": pd.DataFrame({"model": ["linear", "sqrt", "power"],
                                    "aic": [10.5, 18.25, 12.0]}),
    }
    for name, frame in tables.items():
        frame.to_csv(study / "tables" / f"{name}.csv", index=False)
    for i, name in enumerate(["capacity_fade", "icp_aes", "li_vs_depth", "within_specimen_profile",
                              "fda_pearson", "haadf_disorder", "li_vs_f", "growth_law"]):
        _png(study / "figures" / f"{name}.png", i)
    _png(study / "figures" / "elements_vs_depth.svg", 99)  # an SVG-only figure
    summary = {
        "headline": {"li_loss_300_cycles": 0.21, "n_specimens": 70},
        "growth_law": {"alpha": ALPHA, "alpha_ci": [ALPHA_LOW, ALPHA_HIGH], "confidence": 0.95},
        "qc_warnings": ["specimen 300c-R0-3: 6Li/7Li 0.12 above natural 0.0821",
                        {"specimen": "100c-R1-2", "check": "multi-hit fraction", "value": 0.4}],
        "provenance": {"inputs": {"a.pos": "sha256:0123abcd"},
                       "versions": {"liprobe": "0.1.0", "numpy": np.__version__},
                       "parameters": {"bin_width_nm": 1.0}},
    }
    (study / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return study


class _Collector(HTMLParser):
    """Collect section ids, images, svgs, tables and their cell text."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.imgs: list[dict[str, str]] = []
        self.svg_ids: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self.sections.append(a.get("id", ""))
        elif tag == "img":
            self.imgs.append(a)
        elif tag == "svg" and "report-figure" in a.get("class", ""):
            self.svg_ids.append(a["id"])
        elif tag == "table":
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        for key in ("src", "href"):
            if key in a:
                self.links.append(a[key])

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


@pytest.fixture
def report(tmp_path: Path) -> tuple[Path, Path]:
    study = make_study_folder(tmp_path)
    return study, write_report(study, tmp_path / "report")


def test_sections_in_issue_order(report: tuple[Path, Path]) -> None:
    _, index = report
    found = [s for s in _parse(index).sections if s not in ("headline", "study")]
    assert found == [s.id for s in REPORT_SECTIONS if s.id != "other-results"]


def test_self_contained_no_external_references(report: tuple[Path, Path]) -> None:
    _, index = report
    parsed = _parse(index)
    text = index.read_text(encoding="utf-8")
    assert all(link.startswith(("data:image/png;base64,", "#")) for link in parsed.links)
    assert re.search(r"(src|href)\s*=\s*[\"']?(https?:|//|file:)", text) is None
    assert "<link" not in text and "<script" not in text


def test_figures_embedded_bit_exact(report: tuple[Path, Path]) -> None:
    study, index = report
    parsed = _parse(index)
    pngs = sorted((study / "figures").glob("*.png"))
    assert len(parsed.imgs) == len(pngs) == 8
    by_id = {img["id"]: img["src"] for img in parsed.imgs}
    for png in pngs:
        data = by_id[f"figure-{png.stem}"].split(",", 1)[1]
        assert base64.b64decode(data) == png.read_bytes()
    # the SVG-only figure is inlined, not linked
    assert parsed.svg_ids == ["figure-elements_vs_depth"]


def test_tables_show_the_written_numbers(report: tuple[Path, Path]) -> None:
    _, index = report
    tables = _parse(index).tables
    assert len(tables) == 9
    table2 = tables["table-table2_analogue"]
    assert table2[0] == ["cycles", "depth_nm", "li_mean", "li_sd", "n"]
    assert table2[2] == ["300", "30", "0.3712", "0.034", "5"]
    assert tables["table-growth_law"][2][1] == "18.25"
    assert tables["table-icp_aes"][2] == ["NCM-300 cycles", "0.83", "0.8"]


def test_tables_and_figures_in_expected_sections(report: tuple[Path, Path]) -> None:
    _, index = report
    text = index.read_text(encoding="utf-8")
    chunks = dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', text, flags=re.S))
    assert 'id="table-capacity_fade"' in chunks["capacity-fade"]
    assert 'id="table-table2_analogue"' in chunks["table2"]
    assert 'id="figure-elements_vs_depth"' in chunks["depth-profiles"]
    assert 'id="table-fda_pearson"' in chunks["fda"]
    assert 'id="figure-haadf_disorder"' in chunks["haadf"]
    assert 'id="table-li_vs_f"' in chunks["li-vs-f"]
    assert 'id="table-growth_law"' in chunks["growth-law"]
    assert chunks["qc"].count('class="warning"') == 2
    assert "sha256:0123abcd" in chunks["provenance"]
    assert "not available" not in text


def test_growth_law_states_alpha_with_interval(report: tuple[Path, Path]) -> None:
    _, index = report
    text = index.read_text(encoding="utf-8")
    statement = re.search(r'id="growth-law-statement">(.*?)</p>', text).group(1)
    assert "α = 1.02 (95 % interval 0.81 to 1.24)" in statement


def test_growth_law_from_standard_error() -> None:
    text = growth_law_statement({"growth_law": {"alpha": 0.5, "alpha_se": 0.1}})
    # 0.5 ± 1.96 x 0.1
    assert "α = 0.50 (95 % interval 0.30 to 0.70)" in text
    assert growth_law_statement({"headline": {}}) is None


def test_tables_and_figures_copied_beside(report: tuple[Path, Path]) -> None:
    study, index = report
    for sub in ("tables", "figures"):
        for path in (study / sub).iterdir():
            assert (index.parent / sub / path.name).read_bytes() == path.read_bytes()
    assert json.loads((index.parent / "summary.json").read_text())["growth_law"]["alpha"] == ALPHA


def test_missing_inputs_give_visible_notes(tmp_path: Path) -> None:
    study = tmp_path / "empty_study"
    study.mkdir()
    index = write_report(study, tmp_path / "out")
    text = index.read_text(encoding="utf-8")
    chunks = dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', text, flags=re.S))
    expected = [s.id for s in REPORT_SECTIONS if s.id != "other-results"]
    assert list(chunks) == expected
    for section_id in expected:
        assert 'class="note"' in chunks[section_id] and "not available" in chunks[section_id]


def test_broken_table_is_a_note_not_a_crash(tmp_path: Path) -> None:
    study = tmp_path / "s"
    (study / "tables").mkdir(parents=True)
    (study / "tables" / "icp_aes.csv").write_bytes(b"")
    text = write_report(study, tmp_path / "out").read_text(encoding="utf-8")
    assert "table icp_aes not available" in text


def test_bad_paths_raise(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="no such study folder"):
        write_report(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "file").write_text("x")
    (tmp_path / "s").mkdir()
    with pytest.raises(ParameterError, match="not a folder"):
        write_report(tmp_path / "s", tmp_path / "file")


def test_growth_law_from_pipeline_alpha_block() -> None:
    summary = {"alpha": {"erf": {"value": 0.52, "ci_low": 0.31, "ci_high": 0.74,
                                 "verdict": "consistent with sqrt(N)"},
                         "exponential": {"value": 0.97, "ci_low": 0.7, "ci_high": 1.3}},
               "best_growth_model": "exponential"}
    text = growth_law_statement(summary)
    first, second = text.split(". ", 1)
    assert first.startswith("Growth law (exponential profile)")
    assert "α = 0.97 (95 % interval 0.70 to 1.30)" in first
    assert "α = 0.52 (95 % interval 0.31 to 0.74); consistent with sqrt(N)." in second


def test_growth_law_with_one_sided_interval() -> None:
    summary = {"alpha": {"logistic": {"alpha": 0.2, "alpha_ci_low": 0.05, "alpha_ci_high": None}}}
    text = growth_law_statement(summary)
    assert "α = 0.20 (95 % interval: at least 0.05; the other side is not constrained" in text

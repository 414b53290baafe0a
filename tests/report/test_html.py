"""The HTML report of a small example study: reads top-down, figures with kinds and captions,
readable tables, no "inf", paths relative to the study, published values overlaid.

The study is :func:`liprobe.synth.example_study` (the demo's generator) at a small ion count,
run through the pipeline once per module.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from liprobe.errors import MissingFileError, ParameterError, ResultsSchemaError
from liprobe.report.html import FIGURE_KINDS, growth_law_statement, write_report


def small_report(root: Path, *, with_3d: bool = True) -> Path:
    """Generate, run and report a small example study under ``root``; return index.html.

    One replicate per depth at 3000 ions; the report draws two specimen groups (the
    300-cycle surface first) and two HAADF images, enough for every kind of figure.
    """
    from liprobe.synth.example_study import example_study
    from liprobe.workflow.manifest_file import read_manifest
    from liprobe.workflow.pipeline import run_study

    study = example_study(root / "study", rng=9, n_ions=3_000, replicates=1)
    run_study(read_manifest(study.manifest_path), root / "out", progress=False)
    return write_report(root / "out", root / "report", with_3d=with_3d, max_specimen_groups=2,
                        max_haadf_images=2)


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self.sections: list[str] = []
        self._caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self.figures.append({"kind": attrs.get("data-kind"), "caption": ""})
        if tag == "figcaption":
            self._caption = True
        if tag == "section":
            self.sections.append(attrs.get("id"))

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._caption = False

    def handle_data(self, data):
        if self._caption:
            self.figures[-1]["caption"] += data


@pytest.fixture(scope="module")
def report(small_study_report) -> Path:
    return small_study_report


@pytest.fixture(scope="module")
def parsed(report: Path) -> _Figures:
    parser = _Figures()
    parser.feed(report.read_text(encoding="utf-8"))
    return parser


@pytest.mark.slow
def test_report_opens_on_the_key_results(report, parsed):
    assert parsed.sections[0] == "key-results"
    text = report.read_text(encoding="utf-8")
    table = text[text.index('id="key-results-table"'):text.index("</table>",
                                                                   text.index("key-results"))]
    verdicts = re.findall(r'class="verdict-([a-z-]+)"', table)
    assert verdicts and set(verdicts) <= {"supported", "not-determined", "contradicted"}
    # the surface Li depletion of the 300-cycle particle (Li 0.03 vs ~1 in the generator)
    assert "Li is depleted at the surface" in table
    assert "model adequacy" in table


@pytest.mark.slow
def test_every_figure_has_a_kind_and_a_caption(parsed):
    kinds = [f["kind"] for f in parsed.figures]
    assert kinds and all(k in FIGURE_KINDS for k in kinds)
    for kind in ("atom-map", "atom-map-3d", "mass-spectrum", "specimen-profile",
                 "fda-histogram", "haadf-image", "plane-profile", "li-vs-depth",
                 "elements-vs-depth", "capacity", "li-vs-disorder", "growth"):
        assert kind in kinds, kind
    for figure in parsed.figures:
        assert len(figure["caption"]) > 60, figure


@pytest.mark.slow
def test_plotly_is_inlined_once_and_nothing_external(report):
    text = report.read_text(encoding="utf-8")
    assert text.count("<script type=\"text/javascript\">/**\n* plotly.js") <= 1
    assert text.count("plotly.js v") >= 1 and len(re.findall(r"plotly\.js v\d", text)) == 1
    assert re.search(r"<script[^>]*\ssrc=", text) is None  # every script inline
    page = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)  # plotly.js's own strings
    assert re.search(r"(src|href)\s*=\s*[\"'](https?:|//|file:)", page) is None
    assert report.stat().st_size < 8e6  # plotly.js (4.7 MB) + a small study


@pytest.mark.slow
def test_no_inf_and_paths_relative_and_readable_columns(report):
    text = report.read_text(encoding="utf-8")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    assert "inf" not in cells and "-inf" not in cells
    assert str(report.parent.parent / "study") not in text  # no absolute study paths
    assert "apt/ncm300_0000nm_r1.epos" in text  # provenance relative to the study folder
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", text)
    assert "Li mean" in headers and "Li_mean" not in headers


@pytest.mark.slow
def test_published_values_overlaid_for_the_paper_design(report):
    text = report.read_text(encoding="utf-8")
    assert "Published Table 1 (Chae et al. 2021)" in text
    assert "open diamonds: the published Table 2 values" in text


@pytest.mark.slow
def test_long_tables_collapse_with_a_download_link(report):
    text = report.read_text(encoding="utf-8")
    block = re.search(r"<details><summary>Quality checks per specimen.*?</details>", text, re.S)
    assert block and 'href="tables/qc.csv"' in block.group(0)
    assert (report.parent / "tables" / "qc.csv").is_file()


@pytest.mark.slow
def test_phase_labels_are_those_of_the_study_table(report):
    """The per-image figures re-measure the images as the study did: same phases."""
    import pandas as pd

    windows = pd.read_csv(report.parent / "tables" / "haadf_windows.csv")
    text = report.read_text(encoding="utf-8")
    for phase in windows["phase"].unique():
        assert phase in text


def test_growth_law_statement_without_alpha_is_none():
    assert growth_law_statement({"headline": {}}) is None


def test_bad_paths_raise(tmp_path):
    with pytest.raises(MissingFileError):
        write_report(tmp_path / "missing", tmp_path / "r")
    (tmp_path / "file").write_text("x")
    (tmp_path / "study").mkdir()
    with pytest.raises(ParameterError):
        write_report(tmp_path / "study", tmp_path / "file")


def test_a_folder_not_written_by_a_study_run_is_refused_naming_the_schema(tmp_path):
    (tmp_path / "study" / "tables").mkdir(parents=True)
    with pytest.raises(ResultsSchemaError, match=r"results-schema\.json: not found"):
        write_report(tmp_path / "study", tmp_path / "r")

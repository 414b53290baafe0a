"""Render the HTML report in headless Chromium and check every figure and table is visible.

Needs Debian's ``chromium`` (``.ci/run`` installs it when it can); without it the test skips
with a visible reason. A screenshot of the rendered report is saved as a test artefact
(``test-artifacts/report_screenshot.png``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from liprobe.report.html import write_report
from tests.report.test_html import make_study_folder

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--virtual-time-budget=5000",
)

#: Injected into a test copy of the page: after load, write visibility facts of every
#: figure and table into the DOM, where --dump-dom picks them up.
PROBE = """
<script>
window.addEventListener("load", function () {
  var items = document.querySelectorAll("img.report-figure, svg.report-figure, table");
  var facts = [];
  items.forEach(function (el) {
    var box = el.getBoundingClientRect();
    var style = window.getComputedStyle(el);
    facts.push({id: el.id, tag: el.tagName.toLowerCase(), width: box.width, height: box.height,
                display: style.display, visibility: style.visibility,
                opacity: parseFloat(style.opacity),
                loaded: el.tagName.toLowerCase() === "img" ? (el.complete && el.naturalWidth > 0)
                                                           : true});
  });
  var pre = document.createElement("pre");
  pre.id = "probe-facts";
  pre.textContent = JSON.stringify(facts);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def _binary_or_skip() -> str:
    binary = _chromium()
    if binary is None:
        pytest.skip("browser test SKIPPED: Debian 'chromium' is not installed "
                    "(apt-get install -y chromium; .ci/run does this when run as root)")
    return binary


def _rendered_facts(binary: str, index: Path, tmp_path: Path) -> list[dict]:
    """Visibility facts of every figure and table, as laid out by Chromium."""
    probed = tmp_path / "probed.html"
    probed.write_text(index.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                      encoding="utf-8")
    result = _run(binary, tmp_path / "profile-dom", "--window-size=1200,900", "--dump-dom",
                  probed.as_uri())
    match = re.search(r'<pre id="probe-facts">(.*?)</pre>', result.stdout, flags=re.S)
    assert match is not None, f"chromium produced no probe output: {result.stderr[-2000:]}"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _assert_visible(facts: list[dict]) -> None:
    for fact in facts:
        assert fact["display"] != "none" and fact["visibility"] == "visible", fact
        assert fact["opacity"] > 0.5 and fact["loaded"], fact
        # a figure at least 100 px wide and 50 px tall; a table at least a header row
        min_w, min_h = (100, 50) if fact["tag"] != "table" else (50, 20)
        assert fact["width"] >= min_w and fact["height"] >= min_h, fact


def _screenshot(binary: str, index: Path, shot: Path, tmp_path: Path, height: int) -> None:
    if shot.exists():
        shot.unlink()
    _run(binary, tmp_path / "profile-shot", f"--window-size=1200,{height}",
         f"--screenshot={shot}", index.as_uri())
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank canvas


def test_report_renders_in_headless_chromium(tmp_path: Path, artifact_dir: Path) -> None:
    binary = _binary_or_skip()
    study = make_study_folder(tmp_path)
    index = write_report(study, tmp_path / "report")
    n_figures = len({p.stem for p in (study / "figures").iterdir()})
    n_tables = len(list((study / "tables").glob("*.csv")))
    facts = _rendered_facts(binary, index, tmp_path)
    assert len([f for f in facts if f["tag"] in ("img", "svg")]) == n_figures == 9
    assert len([f for f in facts if f["tag"] == "table"]) == n_tables == 9
    _assert_visible(facts)
    _screenshot(binary, index, artifact_dir / "report_screenshot_fixture.png", tmp_path, 3000)


def test_study_report_renders_in_headless_chromium(tmp_path: Path, artifact_dir: Path) -> None:
    """A real (small) example study through the pipeline, rendered: every figure and table."""
    from liprobe.study.manifest import read_manifest
    from liprobe.study.pipeline import run_study
    from liprobe.synth.example_study import example_study

    binary = _binary_or_skip()
    study = example_study(tmp_path / "study", rng=9, n_ions=4_000, replicates=2)
    run_study(read_manifest(study.manifest_path), tmp_path / "out", progress=False)
    index = write_report(tmp_path / "out", tmp_path / "report")
    html_text = index.read_text(encoding="utf-8")
    n_tables = html_text.count("<table ")
    n_figures = len(re.findall(r'class="report-figure"', html_text))
    n_csv = len(list((tmp_path / "out" / "tables").glob("*.csv")))
    facts = _rendered_facts(binary, index, tmp_path)
    assert len([f for f in facts if f["tag"] == "table"]) == n_tables == n_csv
    assert len([f for f in facts if f["tag"] in ("img", "svg")]) == n_figures >= 6
    _assert_visible(facts)
    _screenshot(binary, index, artifact_dir / "report_screenshot.png", tmp_path, 9000)

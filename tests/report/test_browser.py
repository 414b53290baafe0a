"""Render the HTML report in headless Chromium: every figure visible and sized, the 3-D
atom map drawn (a WebGL canvas, not blank), screenshots of the top and of one specimen
section saved as test artefacts.

Needs Debian's ``chromium`` (``.ci/run`` installs it when it can); without it the tests skip
with a visible reason. Artefacts (``test-artifacts/``): ``report_top.png``,
``report_specimen.png``, ``report_atom_map_3d.png`` (the study built from ``liprobe synth``
files by ``study init``) and, with ``LIPROBE_DEMO_REPORT=path/to/index.html``, the same
three with the prefix ``demo_``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--virtual-time-budget=8000",
)
#: The kinds the report of a study with APT, HAADF, ICP and cycling data must hold.
REQUIRED_KINDS = ("atom-map", "atom-map-3d", "mass-spectrum", "specimen-profile",
                  "fda-histogram", "haadf-image", "plane-profile", "li-vs-depth",
                  "elements-vs-depth", "capacity", "li-vs-disorder", "growth",
                  "detector-map", "voltage-curve", "correlation-histogram")

#: Injected into a test copy of the page: after load (and a moment for plotly), open every
#: <details>, then write visibility facts of every figure and the 3-D canvases to the DOM.
PROBE = """
<script>
window.addEventListener("load", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  setTimeout(function () {
    var facts = [];
    document.querySelectorAll("figure[data-kind]").forEach(function (el) {
      var body = el.querySelector(".report-figure");
      var box = (body || el).getBoundingClientRect();
      var style = window.getComputedStyle(el);
      var img = el.querySelector("img");
      var canvases = el.querySelectorAll("canvas");
      var gl = 0;
      canvases.forEach(function (c) {
        var ctx = c.getContext("webgl") || c.getContext("experimental-webgl");
        if (ctx) { gl += 1; }
      });
      facts.push({id: el.id, kind: el.getAttribute("data-kind"), width: box.width,
                  height: box.height, display: style.display, visibility: style.visibility,
                  loaded: img ? (img.complete && img.naturalWidth > 0) : true,
                  caption: (el.querySelector("figcaption") || {}).textContent || "",
                  canvases: canvases.length, webgl: gl});
    });
    var first = document.querySelector("body > section");
    var pre = document.createElement("pre");
    pre.id = "probe-facts";
    pre.textContent = JSON.stringify({figures: facts, first_section: first ? first.id : null,
                                      plotly: typeof window.Plotly});
    document.body.appendChild(pre);
  }, 2500);
});
</script>
"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _binary_or_skip() -> str:
    binary = _chromium()
    if binary is None:
        pytest.skip("browser test SKIPPED: Debian 'chromium' is not installed "
                    "(apt-get install -y chromium; .ci/run does this when run as root)")
    return binary


def _run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180, check=False)


def _variant(index: Path, name: str, css: str = "", script: str = "") -> Path:
    text = index.read_text(encoding="utf-8")
    out = index.parent / name
    out.write_text(text.replace("</head>", f"<style>{css}</style></head>", 1)
                   .replace("</body>", script + "</body>"), encoding="utf-8")
    return out


def _facts(binary: str, index: Path, tmp_path: Path) -> dict:
    probed = _variant(index, ".probed.html", script=PROBE)
    result = _run(binary, tmp_path / "profile-dom", "--window-size=1200,900", "--dump-dom",
                  probed.as_uri())
    match = re.search(r'<pre id="probe-facts">(.*?)</pre>', result.stdout, flags=re.S)
    assert match is not None, f"chromium produced no probe output: {result.stderr[-2000:]}"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&lt;", "<").replace("&gt;", ">"))


def _screenshot(binary: str, page: Path, shot: Path, tmp_path: Path, height: int) -> np.ndarray:
    if shot.exists():
        shot.unlink()
    _run(binary, tmp_path / f"profile-{shot.stem}", f"--window-size=1200,{height}",
         f"--screenshot={shot}", page.as_uri())
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    return imread(shot)


def _only(section_css: str) -> str:
    return ("body > *:not(#specimens) { display: none !important; } "
            "#specimens > h2, #specimens > p { display: none; } "
            f".specimen {{ display: none; }} {section_css}")


def check_report(binary: str, index: Path, tmp_path: Path, artifacts: Path,
                 prefix: str = "") -> dict:
    """Every check on one rendered report; returns the facts and timings."""
    start = time.perf_counter()
    facts = _facts(binary, index, tmp_path)
    render_s = time.perf_counter() - start
    figures = facts["figures"]
    assert facts["first_section"] == "key-results", "the report must open on its key results"
    kinds = {f["kind"] for f in figures}
    assert set(REQUIRED_KINDS) <= kinds, f"missing figure kinds: {set(REQUIRED_KINDS) - kinds}"
    for fact in figures:
        assert fact["display"] != "none" and fact["visibility"] == "visible", fact
        assert fact["loaded"], fact
        assert fact["width"] >= 200 and fact["height"] >= 150, fact
        assert len(fact["caption"]) > 60, fact  # says what is shown and what to conclude
    views = [f for f in figures if f["kind"] == "atom-map-3d"]
    assert facts["plotly"] == "object"
    assert all(f["canvases"] >= 1 and f["webgl"] >= 1 for f in views), views
    # screenshots: the top of the report, one specimen section and its 3-D view alone
    top = _screenshot(binary, index, artifacts / f"{prefix}report_top.png", tmp_path, 2200)
    assert top.std() > 0.05  # text, tables and a figure: not a blank page
    html = index.read_text(encoding="utf-8")
    specimen = re.findall(r'<div class="specimen" id="([^"]+)"', html)
    assert specimen
    surface = next((s for s in specimen if "0000nm" in s or "surface" in s), specimen[0])
    page = _variant(index, ".specimen.html", css=_only(f"#{surface} {{ display: block; }}"))
    shot = _screenshot(binary, page, artifacts / f"{prefix}report_specimen.png", tmp_path, 3400)
    assert shot.std() > 0.05
    view_css = _only(f"#{surface} {{ display: block; }} #{surface} > *:not(figure"
                     "[data-kind=atom-map-3d]) { display: none !important; } "
                     f"#{surface} figure:not([data-kind=atom-map-3d]) {{ display: none; }}")
    page = _variant(index, ".view3d.html", css=view_css)
    shot = _screenshot(binary, page, artifacts / f"{prefix}report_atom_map_3d.png", tmp_path,
                       700)
    region = shot[40:520, 40:1100, :3]
    # the WebGL scene: many distinct colours (element markers on the grid), not a blank box
    colours = np.unique((region * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200 and region.std() > 0.03, len(colours)
    return {"render_s": render_s, "n_figures": len(figures),
            "size_mb": index.stat().st_size / 1e6}


@pytest.mark.slow
def test_report_of_a_folder_of_synth_files(tmp_path: Path, artifact_dir: Path) -> None:
    """liprobe synth files -> study init -> edit the depths -> study run --report."""
    binary = _binary_or_skip()
    from tests.cli.test_study_init import build_synth_study_report

    index = build_synth_study_report(tmp_path)
    facts = _facts(binary, index, tmp_path)
    kinds = {f["kind"] for f in facts["figures"]}
    assert facts["first_section"] == "key-results"
    assert {"atom-map", "atom-map-3d", "mass-spectrum", "specimen-profile", "fda-histogram",
            "li-vs-depth", "elements-vs-depth"} <= kinds
    for fact in facts["figures"]:
        assert fact["width"] >= 200 and fact["height"] >= 150 and fact["loaded"], fact
    assert all(f["webgl"] >= 1 for f in facts["figures"] if f["kind"] == "atom-map-3d")
    shot = _screenshot(binary, index, artifact_dir / "report_synth_top.png", tmp_path, 2200)
    assert shot.std() > 0.05


@pytest.mark.slow
def test_report_of_the_example_study_in_chromium(small_study_report: Path, tmp_path: Path,
                                                artifact_dir: Path) -> None:
    """A small example study (APT, HAADF, ICP, cycling) through the pipeline, rendered."""
    binary = _binary_or_skip()
    copy = tmp_path / "report"
    shutil.copytree(small_study_report.parent, copy)
    check_report(binary, copy / "index.html", tmp_path, artifact_dir)


def test_demo_report_in_chromium(tmp_path: Path, artifact_dir: Path) -> None:
    """The full demo report (``liprobe demo``), when LIPROBE_DEMO_REPORT names it."""
    demo = os.environ.get("LIPROBE_DEMO_REPORT")
    if not demo:
        pytest.skip("demo report check SKIPPED: set LIPROBE_DEMO_REPORT=report/index.html "
                    "after 'make demo' to check it")
    binary = _binary_or_skip()
    source = Path(demo)
    copy = tmp_path / "report"
    shutil.copytree(source.parent, copy)
    result = check_report(binary, copy / source.name, tmp_path, artifact_dir, prefix="demo_")
    (artifact_dir / "demo_report_facts.json").write_text(json.dumps(result, indent=1))

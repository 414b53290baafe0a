"""One classifier for the phase labels: the report's per-image figures, the study's
``haadf_windows`` table and ``liprobe haadf analyze --reference`` give the same f and phase
for every depth window of the same image."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from liprobe.cli import main
from liprobe.io import write_image
from liprobe.report.haadf_views import analyze_image
from liprobe.stem.simulate import DisorderProfile, HaadfParams, simulate_haadf
from liprobe.synth._example_design import haadf_disorder_profile
from liprobe.workflow.pipeline import _haadf_windows


def test_report_study_and_cli_label_the_same_windows_alike(tmp_path, capsys):
    rng = np.random.default_rng(5)
    conditions = HaadfParams(shape_px=(160, 160), pixel_size_nm=0.02)
    reference, _ = simulate_haadf(dataclasses.replace(conditions, disorder=DisorderProfile()),
                                  rng=rng)
    image, _ = simulate_haadf(dataclasses.replace(conditions, disorder=haadf_disorder_profile(300),
                                                  surface_depth_nm=1.1, coating_nm=1.0),
                              rng=rng)
    ref_path = write_image(tmp_path / "ref.tif", reference)
    img_path = write_image(tmp_path / "img.tif", image)
    study = _haadf_windows(img_path, depth_offset_nm=0.0, reference=ref_path)
    _, analysis = analyze_image({"image": img_path, "offset": 0.0, "reference": ref_path,
                                 "pixel_size_nm": None})
    assert main(["haadf", "analyze", str(img_path), "--reference", str(ref_path), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    report = [(w.phase, round(w.f, 6)) for w in analysis.windows]
    assert report == [(r["phase"], round(r["f"], 6)) for r in study]
    assert report == [(w["phase"], round(w["f"], 6)) for w in cli["windows"]]
    assert report and all(p in ("layered", "spinel-like", "rock-salt") for p, _ in report)

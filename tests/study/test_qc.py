"""Study-level QC: one multiplicity correction over every specimen's checks, and the Li
trend tested against the depth profile the study fitted (here: the generator's truth)."""

from __future__ import annotations

import math

import numpy as np

from liprobe.study.qc import adjust_study_qc, li_trend_against_fit


def _row(p, check="li_trend", exceeds=True):
    return {"check": check, "verdict": "pass", "value": 0.0, "message": "m", "p_value": p,
            "exceeds_tolerance": exceeds, "hint": "; look"}


def test_a_clean_study_of_350_checks_does_not_warn_and_a_real_problem_does():
    rng = np.random.default_rng(1)
    rows = [_row(float(p)) for p in rng.random(350)]
    rows.append({"check": "o_metal", "verdict": "skipped", "value": math.nan,
                 "message": "no O"})
    out, statement = adjust_study_qc(rows)
    assert sum(r["verdict"] == "warn" for r in out) == 0
    assert out[-1]["verdict"] == "skipped"  # rows without a test are left alone
    assert "Holm" in statement and "350 checks" in statement
    out, _ = adjust_study_qc([*rows[:-1], _row(1e-8)])
    assert out[-1]["verdict"] == "warn" and out[-1]["message"].endswith("; look")
    _, bh = adjust_study_qc(rows[:-1], correction="bh")
    assert "Benjamini-Hochberg" in bh


class _Truth:
    """The generator's depth profile, standing in for the study's fitted one."""

    def __init__(self, profile):
        self.profile = profile

    def predict(self, depth_nm):
        return np.interp(depth_nm, self.profile.depth_nm, self.profile.li)


def test_li_trend_against_the_fitted_profile_allows_the_real_gradient():
    from liprobe.apt.profiles import concentration_profile
    from liprobe.apt.quality import decide, li_trend_check
    from liprobe.synth import generate_specimen, get_preset, ncm_ranges

    params = get_preset("ncm-300cycles-surface", apex_radius_nm=8.0, n_ions=300_000)
    ions, _ = generate_specimen(params, rng=np.random.default_rng(2))
    frame = concentration_profile(ions, ncm_ranges(params), bin_nm=2.0).to_frame()
    profile = {c: frame[c].to_numpy().tolist() for c in frame.columns}
    against = li_trend_against_fit(profile, depth_top_nm=params.specimen_depth_nm,
                                   fit=_Truth(params.profile))
    assert decide([against])[0].verdict == "pass", against.message
    centre = 0.5 * (frame["start_nm"] + frame["end_nm"]).to_numpy()
    flat = li_trend_check(centre, frame["Li_ratio"].to_numpy(),
                          frame["sigma_Li_ratio"].to_numpy(),
                          span_nm=float(frame["end_nm"].iloc[-1]))
    assert decide([flat])[0].verdict == "warn"
    assert li_trend_against_fit({}, depth_top_nm=0.0, fit=_Truth(params.profile)) is None

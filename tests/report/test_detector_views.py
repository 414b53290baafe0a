"""The per-specimen view shows the detector-space figures of files that carry detector data.

The Saxey plot's predicted LiO+ -> Li+ + O track is checked against the dissociation
energy balance written out here (isotope masses from ``periodictable``), and against the
generator's own fragment pairs; the report of the small example study (EPOS specimens)
holds the three kinds in every specimen section; a POS copy of its specimens gets the
one-line note instead.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from liprobe.report.detector_views import detector_figures, detector_note, detector_view

DETECTOR_KINDS = ("detector-map", "voltage-curve", "correlation-histogram")


@pytest.fixture(scope="module")
def dissociating_run():
    """A point-projection run in which 80 % of the LiO+ ions break up into Li+ + O."""
    from liprobe.synth import ncm_ranges
    from liprobe.synth.detector import generate_detector_run
    from liprobe.synth.detector_params import DetectorRun, Dissociation, detector_specimen

    specimen = detector_specimen(n_ions=60_000)
    run = DetectorRun(specimen, dissociations=(Dissociation(fraction=0.8),))
    ions, truth = generate_detector_run(run, rng=np.random.default_rng(3))
    return ions, truth, ncm_ranges(specimen), run


def _mass(symbol: str, isotope: int) -> float:
    import periodictable

    return float(periodictable.elements.symbol(symbol)[isotope].mass)


def test_lio_track_lies_where_the_energy_balance_puts_it(dissociating_run):
    ions, truth, ranges, run = dissociating_run
    view = detector_view(ions, ranges)
    labels = [c.label for c in view.channels]
    assert "LiO+ -> Li+ + O" in labels, labels
    track = view.tracks[labels.index("LiO+ -> Li+ + O")]
    # LiO+ (7Li 16O) breaking up after gaining a share a of the potential V: Li+ gains
    # e V (a m_Li / M + 1 - a), the neutral O only e V a m_O / M; apparent m/q = m / (E / eV)
    m_li, m_o = _mass("Li", 7), _mass("O", 16)
    big_m = m_li + m_o
    a = track.alpha
    # rtol 1e-6: the library's parent peak merges isotopologues within 0.02 Da (6Li 17O,
    # 3e-5 of the peak, moves it by 5e-9)
    np.testing.assert_allclose(track.first_da, m_li / (a * m_li / big_m + 1 - a), rtol=1e-6)
    np.testing.assert_allclose(track.second_da, big_m / a, rtol=1e-6)
    assert track.first_da[-1] == pytest.approx(big_m) and track.second_da[-1] == \
        pytest.approx(big_m)
    # the generator's fragment pairs (Li+ then O, one pulse) sit on the drawn track
    frag = np.flatnonzero(truth.is_fragment[:-1] & truth.is_fragment[1:]
                          & np.isclose(truth.true_mass_to_charge_da[:-1], m_li, atol=0.05))
    li, o = (ions.mass_to_charge_da[frag].astype(float),
             ions.mass_to_charge_da[frag + 1].astype(float))
    inner = (li > m_li + 0.5) & (li < big_m - 0.5)
    alpha = (1 - m_li / li[inner]) / (1 - m_li / big_m)  # inverted from the Li+ energy
    assert inner.sum() > 150
    assert np.median(np.abs(o[inner] / (big_m / alpha) - 1)) < 0.02
    # and the histogram behind the figure holds them: counts in the bins the track
    # crosses far exceed those in the same band shifted up by 15 %
    h = view.correlation
    edges, counts = h.edges_da, h.counts
    first = np.linspace(m_li + 1, big_m - 1, 400)
    alpha_line = (1 - m_li / first) / (1 - m_li / big_m)

    def band(scale):
        second = scale * big_m / alpha_line
        ok = second < edges[-1]
        i = np.searchsorted(edges, first[ok]) - 1
        j = np.searchsorted(edges, second[ok]) - 1
        cells = np.unique(np.stack([i, j], axis=1), axis=0)
        return counts[cells[:, 0], cells[:, 1]].sum()

    assert band(1.0) > 3 * max(band(1.15), 1)
    # the track's score counts the generator's fragment pairs, not peak crossings
    match = view.matches[labels.index("LiO+ -> Li+ + O")]
    n_true = frag.size
    assert 0.8 * n_true <= match.n_on_track <= 1.05 * n_true + 5, (match, n_true)
    assert match.enrichment > 5
    caption = dict((k, c) for k, _, c in detector_figures(view, name="run"))
    assert "dissociation is seen along LiO+ -> Li+ + O" in caption["correlation-histogram"]


def test_no_track_is_seen_without_dissociation():
    """O+ x Ni2+ random pairs sit on the LiO+ track near (16, 29) Da: not a dissociation."""
    from liprobe.synth import ncm_ranges
    from liprobe.synth.detector import generate_detector_run
    from liprobe.synth.detector_params import DetectorRun, detector_specimen

    specimen = detector_specimen(n_ions=60_000)
    ions, _ = generate_detector_run(DetectorRun(specimen), rng=np.random.default_rng(4))
    view = detector_view(ions, ncm_ranges(specimen))
    assert view.tracks and all(m.n_on_track < 10 for m in view.matches)
    caption = dict((k, c) for k, _, c in detector_figures(view, name="run"))
    assert "no dissociation track stands above" in caption["correlation-histogram"]


def test_detector_figures_show_a_centred_map_and_a_rising_voltage(dissociating_run):
    ions, truth, ranges, run = dissociating_run
    view = detector_view(ions, ranges)
    kinds = [k for k, _, _ in detector_figures(view, name="run")]
    assert kinds == list(DETECTOR_KINDS)
    # point projection: hits spread symmetrically about the detector centre (no tilt)
    cx, cy = view.hit_map.center_mm
    assert np.hypot(cx, cy) < 0.05 * view.hit_map.field_of_view_radius_mm
    assert view.hit_map.field_of_view_radius_mm <= run.specimen.detector_radius_mm
    # V = k_f F R and R grows with the apex depth along the shank: rising
    d = np.diff(view.dc_voltage.voltage_kv)
    assert view.dc_voltage.end_kv > view.dc_voltage.start_kv and np.mean(d >= 0) > 0.95
    assert detector_note(view, name="run") is None


def test_pos_file_gets_the_note_not_an_empty_figure(tmp_path, dissociating_run):
    from liprobe.data import IonTable
    from liprobe.io import read_ions, write_ions

    ions, _, ranges, _ = dissociating_run
    path = write_ions(tmp_path / "run.pos", IonTable(ions.xyz_nm, ions.mass_to_charge_da))
    view = detector_view(read_ions(path), ranges)
    assert detector_figures(view, name="run") == []
    note = detector_note(view, name="run")
    assert note is not None and "no detector data" in note


def _sections(html: str) -> dict[str, str]:
    starts = [(m.start(), m.group(1)) for m in
              re.finditer(r'<div class="specimen" id="([^"]+)"', html)]
    ends = [s for s, _ in starts[1:]] + [html.find("</section>", starts[-1][0])]
    return {name: html[s:e] for (s, name), e in zip(starts, ends)}


@pytest.mark.slow
def test_report_specimen_sections_hold_the_detector_figures(small_study_report: Path):
    html = small_study_report.read_text(encoding="utf-8")
    sections = _sections(html)
    assert sections
    for name, body in sections.items():
        for kind in DETECTOR_KINDS:
            assert f'data-kind="{kind}"' in body, (name, kind)
        assert "no detector data" not in body


@pytest.mark.slow
def test_report_of_pos_specimens_says_so_in_one_line(small_study_report: Path,
                                                    tmp_path: Path):
    from liprobe.io import read_ions, write_ions
    from liprobe.report.html import write_report
    from liprobe.workflow.manifest_file import read_manifest

    root = small_study_report.parent.parent
    manifest = read_manifest(root / "study" / "study.toml")
    specs = []
    for spec in manifest.specimens:
        ions = read_ions(spec.apt)
        pos = write_ions(tmp_path / f"{spec.name}.pos",
                         dataclasses.replace(ions, fields={}))
        specs.append(dataclasses.replace(spec, apt=pos))
    manifest = dataclasses.replace(manifest, specimens=tuple(specs))
    index = write_report(root / "out", tmp_path / "report", manifest=manifest, with_3d=False,
                         max_specimen_groups=1, max_haadf_images=0)
    html = index.read_text(encoding="utf-8")
    (name, body), = _sections(html).items()
    assert body.count("no detector data") == 1
    assert not any(f'data-kind="{kind}"' in body for kind in DETECTOR_KINDS)
    assert 'data-kind="mass-spectrum"' in body  # the rest of the view is still there

"""Line features: truth is the synthetic generator's line axes."""

from __future__ import annotations

import numpy as np
import pytest

from liprobe.apt.features import find_line_features, line_proxigram
from liprobe.errors import ParameterError
from liprobe.synth import LineFeature, generate_specimen, get_preset, ncm_ranges

LINES = (
    LineFeature((-6.0, -5.0, 0.0), (-4.0, -6.0, 30.0), 1.5, 3.0),
    LineFeature((6.0, -1.0, 0.0), (6.0, 2.0, 30.0), 1.5, 3.0),
    LineFeature((-3.0, 7.0, 0.0), (-1.0, 6.0, 30.0), 1.5, 3.0),
)


def _distance_to_line(points, line):
    a, b = np.asarray(line.start_nm), np.asarray(line.end_nm)
    d = (b - a) / np.linalg.norm(b - a)
    rel = points - a
    return np.linalg.norm(rel - (rel @ d)[:, None] * d, axis=1)


def _specimen(lines, seed):
    params = get_preset("ncm-homogeneous", apex_radius_nm=12.0, shank_angle_deg=3.0,
                        line_features=lines, n_ions=400_000)
    ions, truth = generate_specimen(params, rng=np.random.default_rng(seed))
    return ions, truth, ncm_ranges(params)


@pytest.fixture(scope="module")
def lined():
    return _specimen(LINES, 21)


def test_features_lie_within_2_nm_of_the_true_axes(lined):
    ions, truth, ranges = lined
    found = find_line_features(ions, ranges)
    assert len(found.features) == len(truth.line_features) == 3
    matched = set()
    for feature in found.features:
        ends = feature.endpoints_nm()
        points = ends[0] + np.linspace(0, 1, 21)[:, None] * (ends[1] - ends[0])
        worst = [_distance_to_line(points, line).max() for line in truth.line_features]
        best = int(np.argmin(worst))
        assert worst[best] <= 2.0
        matched.add(best)
        # the specimen is ~23 nm long: each line crosses it
        assert feature.length_nm > 15.0
        true_dir = np.subtract(truth.line_features[best].end_nm,
                               truth.line_features[best].start_nm)
        cos = abs(np.dot(feature.direction, true_dir / np.linalg.norm(true_dir)))
        assert cos > 0.98
        assert feature.enrichment > 1.1
    assert matched == {0, 1, 2}


def test_no_false_features_in_the_homogeneous_specimen():
    for seed in (1, 2):
        ions, _, ranges = _specimen((), seed)
        assert find_line_features(ions, ranges).features == ()


def test_line_proxigram_shows_li_enrichment_near_the_axis(lined):
    ions, truth, ranges = lined
    found = find_line_features(ions, ranges)
    prox = line_proxigram(ions, ranges, found, bin_nm=0.5, max_distance_nm=6.0)
    li = prox.elements.index("Li")
    core = prox.ratios[:2, li].mean()  # within 1 nm of the axis: inside the 1.5 nm lines
    far = prox.ratios[-4:, li].mean()  # 4-6 nm away: matrix
    # the generator multiplies the Li ratio by 3 inside the lines (1.03 in the matrix)
    assert far == pytest.approx(1.03, abs=0.06)
    assert core > 2.0 * far
    assert prox.to_dict()["bins"][0]["start_nm"] == 0.0


def test_invalid_options_raise(lined):
    ions, _, ranges = lined
    with pytest.raises(ParameterError, match="element"):
        find_line_features(ions, ranges, element="Fe")
    with pytest.raises(ParameterError, match="voxel_nm"):
        find_line_features(ions, ranges, voxel_nm=0.0)
    with pytest.raises(ParameterError, match="no line features"):
        line_proxigram(ions, ranges, ())

"""Validation of the specimen parameters."""

from __future__ import annotations

import pickle

import pytest

from liprobe.errors import ParameterError
from liprobe.synth import Cluster, LineFeature, SpecimenParams, get_preset


@pytest.mark.parametrize("bad", [dict(apex_radius_nm=0), dict(detection_efficiency=1.5),
                                 dict(shank_angle_deg=60), dict(background_fraction=1.0),
                                 dict(n_ions=0), dict(evaporation=(("Xe+", 1.0),)),
                                 dict(background_range_da=(5.0, 2.0))])
def test_bad_parameters_raise_parameter_error(bad):
    with pytest.raises(ParameterError):
        SpecimenParams(**bad)


def test_features_validate():
    with pytest.raises(ParameterError, match="three finite numbers"):
        LineFeature((0, 0), (0, 0, 1))
    with pytest.raises(ParameterError, match="element"):
        Cluster((0, 0, 0), element="Xx")


def test_params_pickle_and_compare_equal():
    params = get_preset("ncm-li-lines", n_ions=1234)
    again = pickle.loads(pickle.dumps(params))
    assert again == params and again.n_ions == 1234
    assert hash(again) == hash(params)

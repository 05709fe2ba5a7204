"""A broken model's NaN/Inf outputs: no detection or class from them, no numpy warnings,
and one warning that says why the results are missing."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from edgeui.engine.model import Model
from tests.helpers.modelgen import make_onnx_model


def _predict(model: Model) -> object:
    return model.predict(np.zeros((64, 64, 3), np.uint8))


def test_nan_classifier_gives_no_class_and_says_why(tmp_path, caplog, recwarn):
    logits = np.full((1, 10), np.nan, np.float32)
    model = Model.load(make_onnx_model(tmp_path / "nan.onnx", input_shape=(1, 3, 32, 32),
                                       outputs=[logits]))
    with caplog.at_level(logging.WARNING):
        first, second = _predict(model), _predict(model)
    assert first.classes == () and second.classes == ()
    warned = [r for r in caplog.records if "NaN or infinite" in r.getMessage()]
    assert len(warned) == 1 and "nan.onnx" in warned[0].getMessage()  # once, not per frame
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_an_infinite_box_is_not_a_detection(tmp_path):
    # End-to-end [1, K, 6] x1,y1,x2,y2,score,class: one good box, one infinite, one NaN score.
    dets = np.array([[[4, 4, 20, 20, 0.9, 1], [0, 0, np.inf, 30, 0.95, 2],
                      [5, 5, 15, 15, np.nan, 3]]], np.float32)
    model = Model.load(make_onnx_model(tmp_path / "e2e.onnx", input_shape=(1, 3, 32, 32),
                                       outputs=[dets]))
    result = _predict(model)
    assert result.detections is not None
    assert result.detections.class_ids.tolist() == [1]
    assert np.isfinite(result.detections.boxes).all()


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_inf_logits_raise_no_numpy_warning(tmp_path):
    logits = np.zeros((1, 10), np.float32)
    logits[0, 3] = np.inf
    model = Model.load(make_onnx_model(tmp_path / "inf.onnx", input_shape=(1, 3, 32, 32),
                                       outputs=[logits]))
    result = _predict(model)
    assert all(np.isfinite(c.score) for c in result.classes)

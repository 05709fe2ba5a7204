"""The generated benchmark models are what they claim to be: a YOLOv8n-shaped export."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from edgeui.engine.model import Model

REPO = Path(__file__).resolve().parents[2]


def _load_builder():
    spec = importlib.util.spec_from_file_location(
        "yolov8n_like", REPO / "benchmarks" / "yolov8n_like.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_v8(tmp_path_factory) -> Path:
    # 128 px keeps the test quick; the layers and weights are the 640 model's.
    return _load_builder().build(tmp_path_factory.mktemp("v8") / "v8.onnx", size=128)


def test_yolov8n_like_is_recognised_as_an_ultralytics_anchor_free_export(small_v8):
    model = Model.load(small_v8)
    card = model.card
    assert card.task == "detection"
    assert card.decoder_kind == "anchor_free"
    assert len(card.labels) == 80
    assert (card.preprocess.color, card.preprocess.letterbox_align) == ("RGB", "center")
    n = sum((128 // s) ** 2 for s in (8, 16, 32))
    assert tuple(model.runtime.outputs[0].shape) == (1, 84, n)
    # YOLOv8n's parameter count (3.15 M) within a few percent: the compute is the real one.
    import onnx

    params = sum(int(np.prod(t.dims)) for t in onnx.load(small_v8).graph.initializer)
    assert 3.0e6 < params < 3.3e6


def test_yolov8n_like_outputs_pixel_boxes_and_near_zero_scores(small_v8):
    model = Model.load(small_v8)
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), np.uint8)
    feeds, _ = model.prepare(image)
    (out,) = model.infer(feeds)
    assert np.isfinite(out).all()
    # Boxes in input pixels around their anchors; class scores held near zero (bias -10),
    # so no box clears the threshold and the decoder still reads every score.
    assert 0 < float(np.median(out[0, 2])) < 128
    assert float(out[0, 4:].max()) < 0.01
    assert len(model.predict(image).detections.scores) == 0

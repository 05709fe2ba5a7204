"""Layout sniffing: which decoder claims which output shapes, and the unknown-layout message."""

from __future__ import annotations

import pytest

from edgeui.engine.decoders import REGISTRY, describe_unknown, get_decoder, sniff_all
from edgeui.engine.decoders.base import SniffHints
from edgeui.engine.types import TensorSpec
from edgeui.errors import UnsupportedModelError

NCHW_640 = [TensorSpec("images", (1, 3, 640, 640), "float32")]
NCHW_416 = [TensorSpec("images", (1, 3, 416, 416), "float32")]
NHWC_320 = [TensorSpec("in", (1, 320, 320, 3), "uint8", 1 / 128, 128)]
NHWC_513 = [TensorSpec("in", (1, 513, 513, 3), "uint8")]
NHWC_224 = [TensorSpec("in", (1, 224, 224, 3), "uint8")]


def outs(*shapes, dtype="float32"):
    return [TensorSpec(f"out{i}", s, dtype) for i, s in enumerate(shapes)]


@pytest.mark.parametrize(
    ("inputs", "outputs", "hints", "kind"),
    [
        (NCHW_640, outs((1, 84, 8400)), SniffHints(), "anchor_free"),
        (NCHW_640, outs((1, 8400, 84)), SniffHints(), "anchor_free"),
        (NCHW_640, outs((None, 84, None)), SniffHints(), "anchor_free"),
        (NHWC_320, outs((1, 84, 2100)), SniffHints(num_classes=80), "anchor_free"),
        (NCHW_640, outs((1, 116, 8400), (1, 32, 160, 160)), SniffHints(num_classes=80),
         "anchor_free"),
        (NCHW_640, outs((1, 25200, 85)), SniffHints(), "yolov5"),
        ([], outs((1, 25200, 85)), SniffHints(), "yolov5"),
        (NCHW_416, outs((1, 3549, 85)), SniffHints(), "yolox"),
        ([], outs((1, 3549, 85)), SniffHints(num_classes=80), "yolox"),
        (NCHW_640, outs((1, 8400, 85)), SniffHints(), "yolox"),
        (NCHW_640, outs((1, 8400, 85)), SniffHints(num_classes=81), "anchor_free"),
        (NCHW_640, outs((1, 56, 8400)), SniffHints(task="pose"), "anchor_free_pose"),
        (NCHW_640, outs((1, 56, 8400)), SniffHints(kpt_shape=(17, 3)), "anchor_free_pose"),
        (NCHW_640, outs((1, 56, 8400)), SniffHints(), "anchor_free"),
        (NHWC_320, outs((1, 10, 4), (1, 10), (1, 10), (1,)), SniffHints(), "ssd_postprocess"),
        (NHWC_320, outs((1, 10), (1, 10, 4), (1,), (1, 10)), SniffHints(), "ssd_postprocess"),
        (NCHW_640, outs((1, 300, 6)), SniffHints(), "end_to_end"),
        (NCHW_640, outs((1, 100, 7)), SniffHints(), "end_to_end"),
        (NCHW_640, outs((None, 7)), SniffHints(), "end_to_end"),  # YOLOv7 end2end: [dets, 7]
        (NCHW_640, outs((100, 6)), SniffHints(), "end_to_end"),
        # 6 or 7 scores of one image (or of a dynamic batch) are a small classifier's.
        (NCHW_640, outs((1, 7)), SniffHints(), "classification"),
        (NCHW_640, outs((1, 6)), SniffHints(), "classification"),
        (NCHW_640, outs((1, 1, 7)), SniffHints(), "classification"),
        ([TensorSpec("x", (None, 3, 97, 131), "float32")], outs((None, 7)), SniffHints(),
         "classification"),
        # YOLOv7 end2end with --dynamic-batch is [batch, 7] too: what the model says wins.
        ([TensorSpec("images", (None, 3, 640, 640), "float32")], outs((None, 7)),
         SniffHints(task="detection"), "end_to_end"),
        ([TensorSpec("images", (None, 3, 640, 640), "float32")], outs((None, 7)),
         SniffHints(num_classes=80), "end_to_end"),
        (NHWC_224, outs((1, 1001)), SniffHints(), "classification"),
        (NHWC_224, outs((1, 1, 1, 1000)), SniffHints(), "classification"),
        (NHWC_513, outs((1, 513, 513), dtype="int64"), SniffHints(), "segmentation"),
        (NHWC_513, outs((1, 513, 513, 21)), SniffHints(), "segmentation"),
        (NCHW_640, outs((1, 21, 160, 160)), SniffHints(), "segmentation"),
        (NHWC_513, outs((1, 513, 513)), SniffHints(task="segmentation"), "segmentation"),
        ([TensorSpec("in", (1, 192, 192, 3), "uint8")], outs((1, 1, 17, 3)), SniffHints(),
         "movenet"),
        ([TensorSpec("in", (1, 256, 256, 3), "uint8")], outs((1, 6, 56)), SniffHints(),
         "movenet_multipose"),
    ],
)  # fmt: skip
def test_sniff_claims(inputs, outputs, hints, kind):
    claim = sniff_all(inputs, outputs, hints)
    assert claim is not None, f"nothing claimed {outputs}"
    assert claim.kind == kind, claim.reason
    assert claim.task == REGISTRY[kind].task
    assert claim.reason and "[" in claim.reason  # a sentence naming the shape


def test_sniff_params_are_usable():
    claim = sniff_all(NCHW_640, outs((1, 84, 8400)), SniffHints())
    assert claim.params["num_classes"] == 80 and claim.params["channels_first"] is True
    assert "anchor-free" in claim.reason and "80 classes" in claim.reason
    seg = sniff_all(NCHW_640, outs((1, 116, 8400), (1, 32, 160, 160)), SniffHints())
    assert seg.params["num_classes"] == 80  # mask coefficients are not classes
    deeplab = sniff_all(NHWC_513, outs((1, 513, 513, 21)), SniffHints())
    assert deeplab.params == {"layout": "NHWC", "output": 0, "num_classes": 21}


def test_task_hint_limits_decoders():
    # Detection-shaped outputs with a classification task: no detector may claim them.
    assert sniff_all(NCHW_640, outs((1, 84, 8400)), SniffHints(task="classification")) is None
    claim = sniff_all(NCHW_640, outs((1, 84, 8400)), SniffHints(task="detect"))
    assert claim is not None and claim.kind == "anchor_free"
    # Ultralytics' "segment" is our "segmentation"; two outputs need the hint to be claimed.
    two = outs((1, 21, 160, 160), (1, 10))
    assert sniff_all(NCHW_640, two, SniffHints()) is None
    claim = sniff_all(NCHW_640, two, SniffHints(task="segment"))
    assert claim is not None and claim.kind == "segmentation"


@pytest.mark.parametrize(
    "outputs",
    [
        outs((1, 5, 5)),
        outs((1, 513, 513), dtype="int64") + outs((1, 7, 7, 7, 7)),
        outs((2, 3, 4, 5, 6)),
        outs((1,)),
        [],
    ],
)
def test_unknown_layouts(outputs):
    assert sniff_all(NCHW_640, outputs, SniffHints()) is None


def test_describe_unknown_names_shapes_and_kinds():
    msg = describe_unknown(outs((1, 5, 5), (1, 7, 7, 7, 7)))
    assert "[1, 5, 5]" in msg and "[1, 7, 7, 7, 7]" in msg
    assert "sidecar" in msg and "decoder:" in msg
    for kind in ("anchor_free", "yolox", "ssd_postprocess", "segmentation", "movenet"):
        assert kind in msg
    assert msg.count(".") >= 1 and "\n" not in msg


def test_get_decoder_unknown_kind():
    with pytest.raises(UnsupportedModelError, match=r"known kinds: .*anchor_free"):
        get_decoder("no_such_layout")


def test_every_kind_is_registered():
    expected = {
        "classification", "anchor_free", "yolov5", "yolox", "ssd_postprocess", "end_to_end",
        "segmentation", "movenet", "movenet_multipose", "anchor_free_pose",
    }  # fmt: skip
    assert expected <= set(REGISTRY)
    for kind, dec in REGISTRY.items():
        assert dec.kind == kind

